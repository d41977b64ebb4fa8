/**
 * The storage primitives the pipeline leans on, each beside the cheapest round trip to the same
 * server in the same run: event-id deduplication against a Redis PING, an insert in a transaction
 * against a PostgreSQL `SELECT 1`.
 */
import { randomUUID } from 'node:crypto';
import { openPostgres } from '../src/adapters/postgres.ts';
import { openRedisStore } from '../src/adapters/redis-store.ts';
import { asyncOpsPerSecond, type Bench } from './harness.ts';

const bench: Bench = {
  name: 'storage',
  needs: ['postgres', 'redis'],
  async run() {
    const prefix = `bench:${randomUUID()}:`;
    const store = await openRedisStore({ url: process.env.REDIS_URL!, prefix });
    const ping = await asyncOpsPerSecond(() => store.ping());
    const dedupe = await asyncOpsPerSecond((i) => store.setIfAbsent(`evt:${i}`, '1', 60_000));
    await store.close();

    const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const db = await openPostgres({ url: process.env.DATABASE_URL!, schema });
    await db.exec('CREATE TABLE audit (id uuid PRIMARY KEY, body jsonb NOT NULL)');
    const select = await asyncOpsPerSecond(() => db.query('SELECT 1'));
    const insert = await asyncOpsPerSecond(() =>
      db.transaction((tx) => tx.query('INSERT INTO audit VALUES ($1, $2)', [randomUUID(), { n: 1 }])),
    );
    await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
    await db.close();

    return [
      {
        name: 'redis dedupe (SET NX PX), 8 in flight',
        value: dedupe,
        unit: 'ops/s',
        higherIsBetter: true,
        baseline: { name: 'redis PING', value: ping },
      },
      {
        name: 'postgres insert in a transaction, 8 in flight',
        value: insert,
        unit: 'ops/s',
        higherIsBetter: true,
        baseline: { name: 'postgres SELECT 1', value: select },
      },
    ];
  },
};
export default bench;
