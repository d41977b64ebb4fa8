/**
 * `cad-triage keys` and `cad-triage purge` as an operator runs them: a key for a town no policy
 * serves is refused, every key change is in the admin audit with the acting user, and the embedded
 * database is refused while another process has it open (two writers would lose or corrupt data).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { readAudit } from '../../src/auth/audit.ts';

const root = join(import.meta.dirname, '..', '..');
const data = mkdtempSync(join(tmpdir(), 'pglite-keys-'));
t.teardown(() => rmSync(data, { recursive: true, force: true }));
const { REDIS_URL: _r, KAFKA_BROKERS: _k, DATABASE_URL: _d, ...inherited } = process.env;
const env = { ...inherited, PGLITE_DATA_DIR: data };

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'cad-triage.js'), ...args],
      {
        cwd: root,
        env,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

t.test('keys create refuses a jurisdiction no routing policy serves', async (t) => {
  const bad = await cli(
    'keys',
    'create',
    '--role',
    'dispatch',
    '--jurisdictions',
    'new-haven,no-such-town',
    '--name',
    'x',
  );
  t.equal(bad.code, 2);
  t.match(bad.stderr, /no routing policy for jurisdiction\(s\) no-such-town/);
  const ok = await cli(
    'keys',
    'create',
    '--role',
    'dispatch',
    '--jurisdictions',
    'New Haven,branford',
    '--name',
    'PSAP',
  );
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^ct_[a-z0-9]{12}_/);
  t.match(ok.stderr, /\(dispatch, new-haven,branford\)/, 'stored under the canonical ids');
});

t.test('key changes are in the admin audit, with the acting user', async (t) => {
  const made = await cli('keys', 'create', '--role', 'admin', '--jurisdictions', '*', '--name', 'ops');
  const keyId = /created key ([a-z0-9]{12})/.exec(made.stderr)?.[1];
  t.ok(keyId, made.stderr);
  t.equal((await cli('keys', 'revoke', keyId!)).code, 0);
  const db = await openPglite({ dataDir: data, schema: 'public' });
  try {
    const entries = await readAudit(db, { limit: 10 });
    t.match(entries[0], { action: 'key.revoke', actor: /^cli/, details: { keyId } });
    t.match(entries[1], {
      action: 'key.create',
      actor: /^cli/,
      details: { keyId, role: 'admin', jurisdictions: ['*'] },
    });
    t.notOk(JSON.stringify(entries).includes('ct_'), 'no secret in the audit');
    await t.rejects(db.query('DELETE FROM admin_audit'), /append-only/);
  } finally {
    await db.close();
  }
});

t.test('the embedded database is opened by one process only', async (t) => {
  const db = await openPglite({ dataDir: data, schema: 'public' });
  try {
    for (const args of [
      ['keys', 'list'],
      ['keys', 'create', '--role', 'admin', '--jurisdictions', '*', '--name', 'y'],
      ['purge'],
    ]) {
      const r = await cli(...args);
      t.equal(r.code, 1, `${args.join(' ')} refused`);
      t.match(r.stderr, new RegExp(`open in process ${process.pid}`), 'names the process holding it');
    }
  } finally {
    await db.close();
  }
  t.equal((await cli('keys', 'list')).code, 0, 'free again once closed');
});

t.test('a lock left by a process that died is taken over', async (t) => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(data, 'cad-triage.lock'), '999999999');
  const r = await cli('keys', 'list');
  t.equal(r.code, 0, r.stderr);
});
