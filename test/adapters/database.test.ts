import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import type { Database } from '../../src/adapters/database.ts';
import { postgres, uniqueName } from '../helpers/services.ts';

/** The contract every Database implementation keeps; run against PGlite and real PostgreSQL alike. */
function contract(name: string, open: () => Promise<Database>, skip: string | false = false) {
  t.test(`${name}: database contract`, { skip }, async (t) => {
    const db = await open();
    t.teardown(() => db.close());

    await db.exec(
      'CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL); CREATE INDEX ON items (label)',
    );
    const ins = await db.query('INSERT INTO items VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
    t.equal(ins.rowCount, 2, 'rowCount counts inserted rows');

    const { rows } = await db.query<{ id: number; label: string }>('SELECT id, label FROM items ORDER BY id');
    t.same(rows, [
      { id: 1, label: 'a' },
      { id: 2, label: 'b' },
    ]);

    const committed = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1, $2)', [3, 'c']);
      return 'done';
    });
    t.equal(committed, 'done', 'transaction returns what fn returns');

    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1, $2)', [4, 'd']);
        throw new Error('boom');
      }),
      { message: 'boom' },
      'a throwing fn rethrows',
    );
    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1, $2)', [5, 'e']);
        await tx.query('INSERT INTO items VALUES ($1, $2)', [1, 'duplicate']);
      }),
      'a failing statement rejects',
    );
    const after = await db.query<{ id: number }>('SELECT id FROM items ORDER BY id');
    t.same(
      after.rows.map((r) => r.id),
      [1, 2, 3],
      'rolled-back transactions left nothing behind',
    );

    const schema = await db.query<{ s: string }>('SELECT current_schema() AS s');
    t.equal(schema.rows[0]?.s, db.schema, 'tables live in the configured schema');

    await db.ping();
    await db.close();
    await db.close();
    await t.rejects(db.ping(), 'ping fails once closed');
  });
}

contract('pglite', () => openPglite({ dataDir: 'memory://', schema: uniqueName('t') }));

const pg = await postgres();
const schemas: string[] = [];
contract(
  'postgres',
  async () => {
    const schema = uniqueName('t');
    schemas.push(schema);
    return openPostgres({ url: pg.ok ? pg.value : '', schema });
  },
  pg.skip,
);

t.teardown(async () => {
  if (!pg.ok || schemas.length === 0) return;
  const admin = await openPostgres({ url: pg.value, schema: 'public' });
  for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
});
