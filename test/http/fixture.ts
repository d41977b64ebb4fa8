/**
 * One service per test file for the REST tests: real PostgreSQL and Redis when available (each
 * file with its own schema and key prefix), else the embedded default (in-memory PGlite, in-process
 * cache). Keys are made straight in the database, as `cad-triage keys create` does.
 */
import type { Test } from 'tap';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { createKey, revokeKey, type Role } from '../../src/auth/keys.ts';
import { postgres, redisUrl, uniqueName } from '../helpers/services.ts';

export interface TestService {
  service: Service;
  backend: string;
  /** A new key of `role` for `jurisdictions`. */
  key(role: Role, jurisdictions: string[]): Promise<string>;
  /** A key that existed and was revoked. */
  revokedKey(): Promise<string>;
  /** Rows of a table, for "nothing was stored" checks. */
  count(table: string): Promise<number>;
}

/** 03:00 in Connecticut: most pools are off duty, so most calls open a follow-up referral. */
export const NIGHT = new Date('2026-02-11T08:00:00Z');

export async function testService(
  t: Test,
  env: Record<string, string> = {},
  options: { now?: () => Date } = {},
): Promise<TestService> {
  const [pg, redis] = await Promise.all([postgres(), redisUrl()]);
  const name = uniqueName('http');
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PGLITE_DATA_DIR: 'memory://',
    ...(pg.ok ? { DATABASE_URL: pg.value, DATABASE_SCHEMA: name } : {}),
    ...(redis.ok
      ? { REDIS_URL: redis.value, REDIS_KEY_PREFIX: `${name}:`, PII_HASH_KEY: 'test-key-0123456789abcdef' }
      : {}),
    ...env,
  });
  const service = await startService(config, createLogger({ level: 'silent' }), {
    watchRules: false,
    now: options.now ?? (() => NIGHT),
  });
  const db = service.resources.db;
  t.teardown(async () => {
    if (pg.ok) await db.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await service.close();
  });
  const key = async (role: Role, jurisdictions: string[]) =>
    (await createKey(db, { role, jurisdictions, name: `test ${role}` })).key;
  return {
    service,
    backend: `${pg.ok ? 'postgres' : 'pglite'}+${redis.ok ? 'redis' : 'memory'}`,
    key,
    async revokedKey() {
      const { key: k, record } = await createKey(db, {
        role: 'admin',
        jurisdictions: ['*'],
        name: 'revoked',
      });
      await revokeKey(db, record.keyId);
      return k;
    },
    async count(table) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]!.n;
    },
  };
}

/** Asserts an error response is problem+json with a catalogue code; returns the body. */
export function assertProblem(
  t: Test,
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, 'problem+json');
  const body = res.json() as { code: string; status: number };
  t.equal(body.code, code, `code ${code}`);
  t.equal(body.status, status, 'status in the body');
  return body;
}
