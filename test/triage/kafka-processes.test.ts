import t, { type Test } from 'tap';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { createTopics, eventually, kcatProduce, kcatReadAll } from '../helpers/kafka.ts';
import { metricValue, startServiceProcess, type ServiceProcess } from '../helpers/process.ts';
import { kafkaBrokers, postgres, redisUrl, uniqueName } from '../helpers/services.ts';

const [kafka, pg, redis] = await Promise.all([kafkaBrokers(), postgres(), redisUrl()]);
const skip = kafka.skip || pg.skip || redis.skip;
const cases = devCases();

/** A fresh deployment: its own topics, group, schema and key prefix; returns its env and a DB probe. */
async function deployment(t: Test) {
  const id = uniqueName('proc').toLowerCase();
  const env = {
    DATABASE_URL: pg.ok ? pg.value : '',
    DATABASE_SCHEMA: id,
    REDIS_URL: redis.ok ? redis.value : '',
    REDIS_KEY_PREFIX: `${id}:`,
    PII_HASH_KEY: 'process-test-key-0123456789',
    KAFKA_BROKERS: kafka.ok ? kafka.value : '',
    KAFKA_GROUP_ID: id,
    KAFKA_TOPIC_CALLS: `${id}.calls`,
    KAFKA_TOPIC_DECISIONS: `${id}.decisions`,
    KAFKA_TOPIC_DLQ: `${id}.dlq`,
    KAFKA_TOPIC_PARTITIONS: '6',
  };
  await createTopics(
    env.KAFKA_BROKERS,
    [env.KAFKA_TOPIC_CALLS, env.KAFKA_TOPIC_DECISIONS, env.KAFKA_TOPIC_DLQ],
    6,
  );
  const db = await openPostgres({ url: env.DATABASE_URL, schema: id, poolSize: 2 });
  const services: ServiceProcess[] = [];
  t.teardown(async () => {
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await db.exec(`DROP SCHEMA IF EXISTS "${id}" CASCADE`).catch(() => {});
    await db.close();
  });
  const decided = async () => {
    const r = await db
      .query<{ n: string }>('SELECT count(*)::text AS n FROM decisions')
      .catch(() => ({ rows: [{ n: '0' }] }));
    return Number(r.rows[0]!.n);
  };
  const start = async () => {
    const s = await startServiceProcess(env);
    services.push(s);
    return s;
  };
  const produce = (n: number) => {
    const calls = Array.from({ length: n }, (_, i) => freshCall(cases[i % cases.length]!.call));
    return kcatProduce(
      env.KAFKA_BROKERS,
      env.KAFKA_TOPIC_CALLS,
      calls.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
    ).then(() => calls);
  };
  const emittedEventIds = () =>
    new Set(
      kcatReadAll(env.KAFKA_BROKERS, env.KAFKA_TOPIC_DECISIONS).map(
        (r) => JSON.parse(r.payload!).eventId as string,
      ),
    );
  return { env, db, decided, start, produce, emittedEventIds };
}

t.test(
  'kafka: SIGKILL in the middle of a 2,000-event stream loses nothing and doubles nothing',
  { skip },
  async (t) => {
    const d = await deployment(t);
    const first = await d.start();
    const calls = await d.produce(2000);
    await eventually(async () => (await d.decided()) >= 200, 120_000, 50);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await d.decided();
    t.ok(atKill < 2000, `killed mid-stream (${atKill} decided)`);

    const second = await d.start();
    await eventually(async () => (await d.decided()) >= 2000, 180_000);
    const distinct = await d.db.query<{ n: string; e: string }>(
      'SELECT count(*)::text AS n, count(DISTINCT event_id)::text AS e FROM decisions',
    );
    t.same(distinct.rows[0], { n: '2000', e: '2000' }, 'exactly one persisted decision per event');
    let emitted = new Set<string>();
    await eventually(() => (emitted = d.emittedEventIds()).size >= 2000, 60_000, 500);
    t.equal(calls.filter((c) => !emitted.has(c.eventId)).length, 0, 'none missing on the output topic');

    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0, 'SIGTERM drains and exits cleanly');
  },
);

t.test(
  'kafka: two instances share the partitions; stopping one hands its partitions over',
  { skip },
  async (t) => {
    const d = await deployment(t);
    const a = await d.start();
    const b = await d.start();
    // Both must be in the group before the stream, so the partitions are spread across them. The
    // consumer joins in the background (REST serves first), so wait until both say they consume.
    const consuming = async (svc: typeof a) =>
      ((await (await svc.get('/health/live')).json()) as { kafka?: { consumer?: string } }).kafka
        ?.consumer === 'consuming';
    await eventually(async () => (await consuming(a)) && (await consuming(b)), 120_000);
    const firstBatch = await d.produce(600);
    await eventually(async () => (await d.decided()) >= 600, 120_000);
    const [byA, byB] = await Promise.all([
      metricValue(a, 'cad_triage_outcomes_total', { transport: 'kafka' }),
      metricValue(b, 'cad_triage_outcomes_total', { transport: 'kafka' }),
    ]);
    t.ok(byA > 0 && byB > 0, `both instances consumed (${byA} + ${byB})`);

    a.child.kill('SIGTERM');
    t.equal(await a.exited, 0, 'the first instance drains and exits');
    const secondBatch = await d.produce(600);
    await eventually(async () => (await d.decided()) >= 1200, 120_000);
    t.equal(await d.decided(), 1200, 'every event decided once');
    let emitted = new Set<string>();
    await eventually(() => (emitted = d.emittedEventIds()).size >= 1200, 60_000, 500);
    t.equal([...firstBatch, ...secondBatch].filter((c) => !emitted.has(c.eventId)).length, 0, 'nothing lost');
    b.child.kill('SIGTERM');
    t.equal(await b.exited, 0);
  },
);
