import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { migrate, readMigrations } from '../../src/adapters/migrations.ts';
import type { Database } from '../../src/adapters/database.ts';
import { DEFAULTS } from '../../src/definitions.ts';
import { postgres, uniqueName } from '../helpers/services.ts';

const shipped = readMigrations(DEFAULTS.migrationsDir);

t.test('the shipped migrations are numbered, ordered and unique', async (t) => {
  t.ok(shipped.length > 0);
  t.same(
    shipped.map((m) => m.id),
    [...new Set(shipped.map((m) => m.id))].sort(),
  );
});

t.test('a misnamed migration file is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'));
  writeFileSync(join(dir, 'create-things.sql'), 'SELECT 1');
  t.throws(() => readMigrations(dir), { code: 'ERR_MIGRATION_FAILED' });
});

function suite(name: string, open: () => Promise<Database>, skip: string | false = false) {
  t.test(`${name}: migrations`, { skip }, async (t) => {
    t.test('apply once; a second run is a no-op', async (t) => {
      const db = await open();
      t.teardown(() => db.close());
      const first = await migrate(db, shipped);
      t.same(
        first.applied,
        shipped.map((m) => m.id),
        'first run applies every migration',
      );
      const second = await migrate(db, shipped);
      t.same(second.applied, [], 'second run applies nothing');
      t.same(
        second.skipped,
        shipped.map((m) => m.id),
      );
      const ledger = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
      t.same(
        ledger.rows.map((r) => r.id),
        shipped.map((m) => m.id),
        'ledger records each once',
      );
    });

    t.test('a migration changed after it was applied stops the run', async (t) => {
      const db = await open();
      t.teardown(() => db.close());
      await migrate(db, shipped);
      const tampered = shipped.map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
      await t.rejects(migrate(db, tampered), { code: 'ERR_MIGRATION_CHANGED' });
    });

    t.test('a failing migration leaves nothing half-applied', async (t) => {
      const db = await open();
      t.teardown(() => db.close());
      await migrate(db, shipped);
      const bad = {
        id: '9999_bad',
        sql: 'CREATE TABLE half (id int); SELECT nope FROM nowhere;',
        checksum: 'x',
      };
      await t.rejects(migrate(db, [bad]), { code: 'ERR_MIGRATION_FAILED' });
      const half = await db.query(`SELECT to_regclass('half') AS t`);
      t.same(half.rows, [{ t: null }], 'the first statement was rolled back too');
      const ledger = await db.query(`SELECT id FROM schema_migrations WHERE id = '9999_bad'`);
      t.equal(ledger.rows.length, 0, 'not recorded');
    });
  });
}

suite('pglite', () => openPglite({ dataDir: 'memory://', schema: uniqueName('m') }));

const pg = await postgres();
const schemas: string[] = [];
const openPg = (schema = uniqueName('m')) => {
  if (!schemas.includes(schema)) schemas.push(schema);
  return openPostgres({ url: pg.ok ? pg.value : '', schema, poolSize: 2 });
};
suite('postgres', () => openPg(), pg.skip);

t.test(
  'postgres: concurrent migration runs apply each migration exactly once',
  { skip: pg.skip },
  async (t) => {
    // Four replicas on one schema start at once; a slow migration widens the race window.
    const schema = uniqueName('race');
    const slow = {
      id: '0000_slow',
      sql: 'SELECT pg_sleep(0.3); CREATE TABLE slow_marker (id int);',
      checksum: 's',
    };
    const migrations = [slow, ...shipped];
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openPg(schema)));
    t.teardown(() => Promise.all(dbs.map((d) => d.close())));
    const results = await Promise.all(dbs.map((db) => migrate(db, migrations)));
    const appliedCounts = migrations.map((m) => results.filter((r) => r.applied.includes(m.id)).length);
    t.same(
      appliedCounts,
      migrations.map(() => 1),
      'every migration applied by exactly one replica',
    );
    const ledger = await dbs[0]!.query<{ n: string }>('SELECT count(*)::text AS n FROM schema_migrations');
    t.equal(Number(ledger.rows[0]?.n), migrations.length);
  },
);

t.teardown(async () => {
  if (!pg.ok || schemas.length === 0) return;
  const admin = await openPostgres({ url: pg.value, schema: 'public' });
  for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
});
