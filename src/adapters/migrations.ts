import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_rules_versions`; applied in this order. */
  id: string;
  sql: string;
  checksum: string;
}

const FILE = /^(\d{4}_[a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files in order. Other files are ignored; a misnamed .sql file is an error. */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const m = FILE.exec(f);
      if (!m)
        throw new AppError('ERR_MIGRATION_FAILED', `${f}: migration files are named NNNN_lower_snake.sql`);
      const sql = readFileSync(join(dir, f), 'utf8');
      return { id: m[1]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the pending migrations, each in its own transaction that first takes a transaction-level
 * advisory lock (per schema) and then re-checks the ledger: two replicas starting at once queue on
 * the lock and the second finds the work done, so a migration is applied exactly once. A migration
 * already applied whose file has since changed stops everything: history must not be rewritten.
 */
export async function migrate(
  db: Database,
  migrations: Migration[],
  logger?: Logger,
): Promise<{ applied: string[]; skipped: string[] }> {
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const m of migrations) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('cad-triage:migrate:' || current_schema()))`);
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           id text PRIMARY KEY,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE id = $1',
        [m.id],
      );
      if (rows[0]) {
        if (rows[0].checksum !== m.checksum) {
          throw new AppError('ERR_MIGRATION_CHANGED', `migration ${m.id} was changed after it was applied`);
        }
        return false;
      }
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new AppError('ERR_MIGRATION_FAILED', `migration ${m.id} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await tx.query('INSERT INTO schema_migrations (id, checksum) VALUES ($1, $2)', [m.id, m.checksum]);
      return true;
    });
    (didApply ? applied : skipped).push(m.id);
    if (didApply) logger?.info({ migration: m.id, schema: db.schema }, 'migration applied');
  }
  return { applied, skipped };
}
