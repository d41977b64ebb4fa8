/**
 * API keys: `ct_<id>_<secret>`, where the id is public (it names the key in logs and the CLI) and
 * only the sha256 of the 32-byte random secret is stored. sha256 rather than a slow KDF is the usual
 * choice for machine-generated keys: the secret has 256 bits of entropy, so there is nothing to
 * brute-force, and a lookup stays one hash per request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../adapters/database.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import { audit } from './audit.ts';
import type { Logger } from '../logger.ts';

export const ROLES = ['dispatch', 'vendor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the resolved key, attached to each request. */
export interface Principal {
  keyId: string;
  role: Role;
  /** Jurisdiction policy ids the key may see; `['*']` means all. */
  jurisdictions: string[];
  name: string;
}

export interface ApiKeyRecord extends Principal {
  createdAt: string;
  revokedAt: string | null;
}

const KEY_FORMAT = /^ct_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export { jurisdictionId };

/** True when `principal` may see or act on records of `jurisdiction`. */
export function allows(principal: Principal, jurisdiction: string): boolean {
  return (
    principal.jurisdictions.includes('*') || principal.jurisdictions.includes(jurisdictionId(jurisdiction))
  );
}

/** Splits a presented key into its id and secret; null when it is not in our format. */
export function parseKey(key: string): { keyId: string; secret: string } | null {
  const m = KEY_FORMAT.exec(key);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

interface KeyRow {
  key_id: string;
  secret_sha256: string;
  role: Role;
  jurisdictions: string[];
  name: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const toRecord = (r: KeyRow): ApiKeyRecord => ({
  keyId: r.key_id,
  role: r.role,
  jurisdictions: r.jurisdictions,
  name: r.name,
  createdAt: new Date(r.created_at).toISOString(),
  revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
});

/** Creates a key and returns it with its secret: the only time the secret exists outside the caller. */
export async function createKey(
  db: Queryable,
  input: { role: Role; jurisdictions: string[]; name: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const keyId = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const jurisdictions = input.jurisdictions.includes('*')
    ? ['*']
    : [...new Set(input.jurisdictions.map(jurisdictionId))];
  const { rows } = await db.query<KeyRow>(
    `INSERT INTO api_keys (key_id, secret_sha256, role, jurisdictions, name) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [keyId, sha256(secret), input.role, jurisdictions, input.name],
  );
  return { key: `ct_${keyId}_${secret}`, record: toRecord(rows[0]!) };
}

export async function listKeys(db: Queryable): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, key_id');
  return rows.map(toRecord);
}

/** Revokes a key; false when there is no such key or it was already revoked. */
export async function revokeKey(db: Queryable, keyId: string): Promise<boolean> {
  const { rows } = await db.query<{ key_id: string }>(
    'UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL RETURNING key_id',
    [keyId],
  );
  return rows.length > 0;
}

/** The principal of a presented key, or null when the key is unknown, revoked or wrong. */
export async function verifyKey(db: Queryable, key: string): Promise<Principal | null> {
  const parsed = parseKey(key);
  if (!parsed) return null;
  const { rows } = await db.query<KeyRow>('SELECT * FROM api_keys WHERE key_id = $1', [parsed.keyId]);
  const row = rows[0];
  if (!row || row.revoked_at !== null) return null;
  const want = Buffer.from(row.secret_sha256, 'hex');
  const got = Buffer.from(sha256(parsed.secret), 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  return { keyId: row.key_id, role: row.role, jurisdictions: row.jurisdictions, name: row.name };
}

/**
 * The embedded default's first start: when the database holds no key at all, create an admin key for
 * every jurisdiction and log it once — the only time its secret is shown. Returns the key when made.
 */
export async function ensureFirstKey(db: Queryable, logger: Logger): Promise<string | undefined> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
  if ((rows[0]?.n ?? 0) > 0) return undefined;
  const { key, record } = await createKey(db, {
    role: 'admin',
    jurisdictions: ['*'],
    name: 'local admin (first start)',
  });
  await audit(db, 'service', 'key.create', {
    keyId: record.keyId,
    role: record.role,
    jurisdictions: ['*'],
    name: record.name,
  });
  // Logged deliberately: this is the one moment the secret can be handed over. Not a field named
  // apiKey (that one is redacted) but part of the message, so it shows in plain terminals.
  logger.warn(
    { keyId: record.keyId, role: record.role },
    `first start: created a local admin API key, shown only now: ${key} (send it as "Authorization: Bearer <key>"; manage keys with npx cad-triage keys)`,
  );
  return key;
}
