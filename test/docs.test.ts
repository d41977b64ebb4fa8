import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../src/errors.ts';
import { envExample, renderReadme } from '../scripts/config-docs.ts';

t.test('docs/errors.md lists every error code, and nothing else', async (t) => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const listed = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  t.same(listed.sort(), Object.keys(ERROR_CODES).sort());
});

t.test('the README config table and .env.example are generated from the current schema', async (t) => {
  const readme = readFileSync('README.md', 'utf8');
  t.equal(renderReadme(readme), readme, 'README.md is current (run node scripts/config-docs.ts)');
  t.equal(readFileSync('.env.example', 'utf8'), envExample(), '.env.example is current');
});
