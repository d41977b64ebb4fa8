import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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
  const unlock = options.dataDir.startsWith('memory://') ? () => {} : lockFolder(options.dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(options.dataDir);
  } catch (err) {
    unlock();
    throw err;
  }
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
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}

/** Thrown when another live process has the embedded database open. */
export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
  readonly code = 'ERR_DATABASE_LOCKED';
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * PGlite is one process's database: a second process writing the same folder (the CLI while the
 * service runs) loses its writes or corrupts the files. A lock file holding the owner's pid keeps
 * the folder to one process; a lock left by a process that died (SIGKILL) is taken over.
 * Returns the function that releases it.
 */
function lockFolder(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'cad-triage.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // removed meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DatabaseLockedError(
          `the embedded database in ${dir} is open in process ${owner} (the running service?); ` +
            'stop it first, or make the change through the service (its admin API)',
        );
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  throw new DatabaseLockedError(`could not lock the embedded database in ${dir}`);
}
