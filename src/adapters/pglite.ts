import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Database, type Queryable, type QueryResult, ident } from './database.ts';

const wrap = (db: PGlite | Transaction): Queryable => ({
  async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    const res = await db.query<R>(text, params);
    return { rows: res.rows, rowCount: res.affectedRows ?? 0 };
  },
  async exec(sql: string) {
    await db.exec(sql);
  },
});

/**
 * Opens the embedded PGlite database: `dataDir` is a folder (created if missing) or `memory://` for a
 * throw-away one. PGlite is a single connection, so transactions are serialized by PGlite itself.
 */
export async function openPglite(options: { dataDir: string; schema: string }): Promise<Database> {
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  await db.exec(
    `CREATE SCHEMA IF NOT EXISTS ${ident(options.schema)}; SET search_path TO ${ident(options.schema)}`,
  );
  const base = wrap(db);
  let closed = false;
  return {
    kind: 'pglite',
    schema: options.schema,
    query: base.query,
    exec: base.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
