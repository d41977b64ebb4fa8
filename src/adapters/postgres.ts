import pg from 'pg';
import type { Logger } from '../logger.ts';
import { type Database, type Queryable, type QueryResult, ident } from './database.ts';

const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
  async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    const res = await client.query(text, params);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  },
  async exec(sql: string) {
    // Without parameters pg uses the simple query protocol, which accepts several statements.
    await client.query(sql);
  },
});

/** Opens a pool on PostgreSQL with `search_path` set to `schema` (created if it does not exist). */
export async function openPostgres(options: {
  url: string;
  schema: string;
  poolSize?: number;
  logger?: Logger;
}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    options: `-c search_path=${options.schema}`,
    connectionTimeoutMillis: 5000,
    application_name: 'cad-triage',
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would crash us.
  pool.on('error', (err) => options.logger?.warn({ err }, 'postgres idle client error'));
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${ident(options.schema)}`);
  } catch (err) {
    // Two replicas creating the schema at once: one loses with a duplicate, which is fine.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') {
      await pool.end();
      throw err;
    }
  }
  const base = wrap(pool);
  let closed = false;
  return {
    kind: 'postgres',
    schema: options.schema,
    query: base.query,
    exec: base.exec,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        // A failed ROLLBACK means the connection is broken: destroy it rather than reuse it.
        await client.query('ROLLBACK').then(
          () => client.release(),
          (rollbackErr: Error) => client.release(rollbackErr),
        );
        throw err;
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
