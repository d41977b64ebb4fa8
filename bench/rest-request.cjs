/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- autocannon workers require() this file: it must be CommonJS */
// autocannon's setupRequest for bench/rest.bench.ts. A CommonJS file because autocannon's worker
// threads `require` it: each request is a fresh call event (new eventId and incidentId, dev cases
// cycled), so every one is decided and stored rather than answered as a duplicate.
'use strict';
const { readFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');

const calls = readFileSync(join(__dirname, '../../shared/eval/dev.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).call);
let i = 0;

module.exports = (req) => {
  const id = randomUUID();
  const call = { ...calls[i++ % calls.length], eventId: `bench-${id}`, incidentId: `BENCH-${id}` };
  return { ...req, body: JSON.stringify(call) };
};
