/** The Kafka handler alone: a record in, a decision record or a dead-letter reason out (no broker). */
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { HEADERS, MAX_EVENT_BYTES } from '../../src/definitions.ts';
import { AppError } from '../../src/errors.ts';
import type { ConsumedRecord } from '../../src/kafka/types.ts';
import { handleCallRecord } from '../../src/triage/kafka-handler.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { triageDeps } from '../helpers/triage.ts';

const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
const store = createMemoryStore();
t.teardown(async () => {
  await store.close();
  await db.close();
});
const deps = await triageDeps(db, store, {
  emit: () => Promise.reject(new Error('the handler must not emit: the loop produces its outputs')),
});
const base = devCases()[0]!.call;

let offset = 0;
const record = (value: string | Buffer | null, key = 'INC-1'): ConsumedRecord => ({
  topic: 'calls',
  partition: 0,
  offset: String(offset++),
  key: Buffer.from(key),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  headers: {},
  timestamp: String(Date.now()),
});

t.test('a valid call becomes one decision record on the decisions topic, keyed by incident', async (t) => {
  const call = freshCall(base);
  const result = await handleCallRecord(record(JSON.stringify(call)), deps, 'decisions');
  t.equal(result.outcome?.kind, 'decided');
  t.notOk(result.deadLetter);
  t.equal(result.outputs?.length, 1);
  const [out] = result.outputs!;
  t.equal(out!.topic, 'decisions');
  t.equal(out!.key, call.incidentId);
  t.equal(JSON.parse(String(out!.value)).eventId, call.eventId);
  t.equal(out!.headers?.[HEADERS.eventId], call.eventId);

  const again = await handleCallRecord(record(JSON.stringify(call)), deps, 'decisions');
  t.equal(again.outcome?.kind, 'duplicate', 'a replay is a duplicate');
  t.equal(
    JSON.parse(String(again.outputs![0]!.value)).decisionId,
    JSON.parse(String(out!.value)).decisionId,
    'with the stored decision emitted again',
  );
});

t.test('records that can never be call events are dead-lettered with a specific code', async (t) => {
  const cases: Array<[string, string | Buffer | null, string]> = [
    ['empty', null, 'ERR_EVENT_EMPTY'],
    ['zero bytes', Buffer.alloc(0), 'ERR_EVENT_EMPTY'],
    ['too large', 'x'.repeat(MAX_EVENT_BYTES + 1), 'ERR_EVENT_TOO_LARGE'],
    ['not JSON', '{"narrative": "Jane Roe at 12 Elm St', 'ERR_EVENT_NOT_JSON'],
    ['not a call', JSON.stringify({ hello: 'world' }), 'ERR_VALIDATION'],
    [
      'revision beyond a PostgreSQL integer',
      JSON.stringify({ ...freshCall(base), revision: 3_000_000_000 }),
      'ERR_VALIDATION',
    ],
  ];
  for (const [name, value, code] of cases) {
    const result = await handleCallRecord(record(value), deps, 'decisions');
    t.equal(result.deadLetter?.code, code, `${name}: ${code}`);
    t.notOk(result.outputs?.length, `${name}: no output`);
  }
  const notJson = await handleCallRecord(record('{"narrative": "Jane Roe at 12 Elm St'), deps, 'decisions');
  t.notMatch(notJson.deadLetter?.message ?? '', /Jane|Elm/, 'the reason does not quote the record');
});

t.test('a stale revision emits nothing and dead-letters nothing', async (t) => {
  const call = freshCall(base, { revision: 2 });
  await handleCallRecord(record(JSON.stringify(call)), deps, 'decisions');
  const older = { ...call, eventId: `${call.eventId}-old`, revision: 1 };
  const result = await handleCallRecord(record(JSON.stringify(older)), deps, 'decisions');
  t.equal(result.outcome?.kind, 'stale');
  t.notOk(result.deadLetter);
  t.notOk(result.outputs?.length);
});

t.test('a dependency failure propagates for the loop to classify', async (t) => {
  const down = {
    ...deps,
    recorder: {
      record: () =>
        Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    },
  };
  const err = await handleCallRecord(record(JSON.stringify(freshCall(base))), down, 'decisions').catch(
    (e: unknown) => e,
  );
  t.ok(err instanceof AppError);
  t.equal((err as AppError).code, 'ERR_DEPENDENCY_UNAVAILABLE');
});
