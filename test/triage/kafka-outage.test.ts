import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { eventually, kcatProduce, kcatReadAll } from '../helpers/kafka.ts';
import { freePort } from '../helpers/process.ts';
import { hasRedisServer, startRedis } from '../helpers/redis-server.ts';
import { kafkaBrokers, postgres, REQUIRE_SERVICES, uniqueName } from '../helpers/services.ts';

// A Redis of this test's own, so it can be stopped mid-stream without disturbing other tests.
if (!hasRedisServer && REQUIRE_SERVICES)
  throw new Error('redis-server is required for the outage test (CI is set)');
const [kafka, pg] = await Promise.all([kafkaBrokers(), postgres()]);
const skip = kafka.skip || pg.skip || (hasRedisServer ? false : 'redis-server not installed');

t.test(
  'kafka: while Redis is down the consumer pauses instead of dead-lettering, then catches up',
  { skip },
  async (t) => {
    if (!kafka.ok || !pg.ok) return;
    const port = await freePort();
    let redis = await startRedis(port);
    const id = uniqueName('outage').toLowerCase();
    const config = loadConfig({
      DATABASE_URL: pg.value,
      DATABASE_SCHEMA: id,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      PII_HASH_KEY: 'outage-test-key-0123456789',
      KAFKA_BROKERS: kafka.value,
      KAFKA_GROUP_ID: id,
      KAFKA_TOPIC_CALLS: `${id}.calls`,
      KAFKA_TOPIC_DECISIONS: `${id}.decisions`,
      KAFKA_TOPIC_DLQ: `${id}.dlq`,
      KAFKA_TOPIC_PARTITIONS: '3',
    });
    const service = await startService(config, createLogger({ level: 'silent' }), { watchRules: false });
    t.teardown(async () => {
      await service.close();
      redis.kill('SIGKILL');
      const admin = await openPostgres({ url: pg.value, schema: 'public' });
      await admin.exec(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
      await admin.close();
    });
    const decided = async () =>
      Number(
        (await service.resources.db.query<{ n: string }>('SELECT count(*)::text AS n FROM decisions'))
          .rows[0]!.n,
      );
    const cases = devCases();
    /** Produces `n` fresh calls; returns the event ids of those that need Redis (an address or a phone to count). */
    const produce = async (n: number) => {
      const calls = Array.from({ length: n }, (_, i) => freshCall(cases[i % cases.length]!.call));
      await kcatProduce(
        kafka.value,
        config.KAFKA_TOPIC_CALLS,
        calls.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
      );
      return calls.filter((c) => c.location?.address || c.caller?.phone).map((c) => c.eventId);
    };

    await produce(50);
    await eventually(async () => (await decided()) === 50, 60_000);

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const needRedis = await produce(100);
    t.ok(needRedis.length > 50, `${needRedis.length} of 100 events need Redis for their repeat-call counts`);
    // The consumer must meet the outage and pause: it neither decides nor dead-letters the events that
    // need Redis (a call with no address and no phone does not, and may be decided meanwhile).
    await eventually(
      async () => (await service.metrics.pauses.get()).values.some((v) => v.value > 0),
      60_000,
    );
    const decidedNeedingRedis = await service.resources.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM decisions WHERE event_id = ANY($1)',
      [needRedis],
    );
    t.equal(decidedNeedingRedis.rows[0]!.n, 0, 'no event that needs Redis decided while it is down');
    t.equal(
      kcatReadAll(kafka.value, config.KAFKA_TOPIC_DLQ).length,
      0,
      'nothing dead-lettered while Redis is down',
    );
    const ready = await service.app.inject({ method: 'GET', url: '/health/ready' });
    t.equal(ready.statusCode, 503, 'readiness reports the outage');

    redis = await startRedis(port);
    await eventually(async () => (await decided()) === 150, 120_000);
    t.equal(await decided(), 150, 'every event decided once Redis is back');
    t.equal(kcatReadAll(kafka.value, config.KAFKA_TOPIC_DLQ).length, 0, 'still nothing dead-lettered');
  },
);
