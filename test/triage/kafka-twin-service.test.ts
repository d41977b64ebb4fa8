/**
 * The whole service on the in-memory Kafka twin (embedded PGlite, in-process cache): what a broker
 * failure does to REST, a near-limit record among good ones, REST while the consumer waits to join.
 */
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config.ts';
import { HEADERS } from '../../src/definitions.ts';
import { createLogger } from '../../src/logger.ts';
import { createMemoryKafka, MemoryKafkaError, type MemoryKafka } from '../../src/kafka/memory.ts';
import { startService } from '../../src/service.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { postgres, uniqueName } from '../helpers/services.ts';

// PGlite starts slowly on a busy machine; each service here has its own schema on PostgreSQL when
// there is one, else its own in-memory PGlite.
const pg = await postgres();
t.setTimeout(300_000);

const cases = devCases();
const topics = { calls: 'cad.calls.v1', decisions: 'triage.decisions.v1', dlq: 'cad.calls.v1.dlq' };

async function service(t: Test, broker: MemoryKafka, env: Record<string, string> = {}) {
  const schema = uniqueName('twin').toLowerCase();
  const config = loadConfig({
    PGLITE_DATA_DIR: 'memory://',
    ...(pg.ok ? { DATABASE_URL: pg.value, DATABASE_SCHEMA: schema } : {}),
    AUTH_MODE: 'off',
    KAFKA_TOPIC_PARTITIONS: '1',
    ...env,
  });
  const svc = await startService(config, createLogger({ level: 'silent' }), {
    watchRules: false,
    kafka: broker.client(),
  });
  t.teardown(async () => {
    await svc.close();
    if (!pg.ok) return;
    const admin = await openPostgres({ url: pg.value, schema: 'public' });
    await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.close();
  });
  return svc;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test(
  'REST: a decision stored while Kafka refuses it is answered 200 (emit pending), then emitted once Kafka is back',
  async (t) => {
    const broker = createMemoryKafka();
    const svc = await service(t, broker);
    let kafkaDown = true;
    broker.failSends((records) =>
      kafkaDown && records.some((r) => r.topic === topics.decisions)
        ? new MemoryKafkaError('REQUEST_TIMED_OUT', 'request timed out', true)
        : undefined,
    );
    const call = freshCall(cases[0]!.call);
    const res = await svc.app.inject({ method: 'POST', url: '/v1/triage', payload: call });
    t.equal(res.statusCode, 200, 'the stored decision is the answer, not a 503');
    t.equal(res.headers['x-decision-emit'], 'pending', 'which says its emit is pending');
    const decisionId = (res.json() as { decisionId: string }).decisionId;
    t.same(broker.read(topics.decisions), [], 'not on the topic yet');

    // A retry by the caller gets the same decision (it was stored), not a second one.
    const again = await svc.app.inject({ method: 'POST', url: '/v1/triage', payload: call });
    t.equal((again.json() as { decisionId: string }).decisionId, decisionId);

    kafkaDown = false;
    await until(() => broker.read(topics.decisions).length >= 1);
    const emitted = broker
      .read(topics.decisions)
      .map((r) => JSON.parse(r.value!.toString()).decisionId as string);
    t.ok(emitted.includes(decisionId), 'emitted from the stored decision once Kafka answers');
    const ok = await svc.app.inject({
      method: 'POST',
      url: '/v1/triage',
      payload: freshCall(cases[1]!.call),
    });
    t.equal(ok.statusCode, 200);
    t.notOk(ok.headers['x-decision-emit'], 'no header when the emit succeeded');
  },
);

t.test(
  'Kafka: a near-limit record is archived and referenced; every event behind it is decided; bad records each get their code',
  async (t) => {
    const broker = createMemoryKafka();
    const svc = await service(t, broker);
    const producer = await broker.client().producer();
    const good = Array.from({ length: 40 }, (_, i) => freshCall(cases[i % cases.length]!.call));
    // ~1,048,300 bytes: under the broker's 1,048,588-byte limit, over it once six x-dlq-* headers are added.
    const near = 'x'.repeat(1_048_300);
    await producer.send([
      ...good.slice(0, 10).map((c) => ({ topic: topics.calls, key: c.incidentId, value: JSON.stringify(c) })),
      { topic: topics.calls, key: 'BIG', value: near },
      { topic: topics.calls, key: 'BAD-1', value: '{not json' },
      {
        topic: topics.calls,
        key: 'BAD-2',
        value: JSON.stringify({ ...good[0], eventId: 'bad-2', revision: 3e9 }),
      },
      ...good.slice(10).map((c) => ({ topic: topics.calls, key: c.incidentId, value: JSON.stringify(c) })),
    ]);
    const decided = async () =>
      (await svc.resources.db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions')).rows[0]!.n;
    await until(async () => (await decided()) === 40 && broker.read(topics.dlq).length === 3);
    t.equal(broker.read(topics.decisions).length, 40, 'every event behind it decided and emitted');

    const dlq = broker.read(topics.dlq);
    const code = (key: string) =>
      dlq.find((r) => r.key?.toString() === key)?.headers[HEADERS.dlqErrorCode]?.toString();
    t.equal(code('BIG'), 'ERR_EVENT_TOO_LARGE');
    t.equal(code('BAD-1'), 'ERR_EVENT_NOT_JSON');
    t.equal(code('BAD-2'), 'ERR_VALIDATION', 'an out-of-range revision is refused at validation, first try');
    const big = dlq.find((r) => r.key?.toString() === 'BIG')!;
    const ref = big.headers[HEADERS.dlqArchived]?.toString();
    t.ok(ref, 'the big one carries a reference');
    t.ok(big.value!.length > 0 && big.value!.length < near.length, 'and a prefix');
    const row = await svc.resources.db.query<{ n: number; code: string }>(
      'SELECT length(record_value)::int AS n, error_code AS code FROM dead_letters WHERE id = $1',
      [ref],
    );
    t.same(row.rows[0], { n: near.length, code: 'ERR_EVENT_TOO_LARGE' }, 'archived whole');
    t.notOk(
      dlq.find((r) => r.key?.toString() === 'BAD-1')!.headers[HEADERS.dlqArchived],
      'small ones are whole copies',
    );

    const metrics = (await svc.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const c of ['ERR_EVENT_TOO_LARGE', 'ERR_EVENT_NOT_JSON', 'ERR_VALIDATION']) {
      t.match(metrics, new RegExp(`^cad_triage_dead_letters_total\\{code="${c}"\\} 1$`, 'm'), `${c} counted`);
    }
  },
);

t.test('REST and health answer while the consumer waits to join its group; health says so', async (t) => {
  const broker = createMemoryKafka();
  const first = await service(t, broker);
  await until(() => first.consumer?.state() === 'consuming');
  // The twin admits one member per group: the second waits as a replacement does during a rebalance.
  const second = await service(t, broker);
  t.equal(second.consumer?.state(), 'joining');
  const ready = await second.app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(ready.statusCode, 200, 'ready for REST');
  t.match(ready.json(), { status: 'ready', kafka: { ok: true, consumer: 'joining' } });
  const live = await second.app.inject({ method: 'GET', url: '/health/live' });
  t.same(live.json(), { status: 'live', kafka: { consumer: 'joining' } });
  const res = await second.app.inject({
    method: 'POST',
    url: '/v1/triage',
    payload: freshCall(cases[0]!.call),
  });
  t.equal(res.statusCode, 200, 'REST triages meanwhile');

  await first.close();
  await until(() => second.consumer?.state() === 'consuming');
  const after = await second.app.inject({ method: 'GET', url: '/health/ready' });
  t.match(after.json(), { kafka: { consumer: 'consuming' } });
});

t.test(
  'closing with a decision still waiting to be emitted does not wait on a broker that is down',
  async (t) => {
    const broker = createMemoryKafka();
    const svc = await service(t, broker);
    // The first decision send fails; later ones hang, as kafkajs does through its own retries.
    let sends = 0;
    broker.failSends((records) => {
      if (!records.some((r) => r.topic === topics.decisions)) return undefined;
      sends += 1;
      return sends === 1
        ? new MemoryKafkaError('REQUEST_TIMED_OUT', 'timed out', true)
        : new Promise(() => {});
    });
    const res = await svc.app.inject({
      method: 'POST',
      url: '/v1/triage',
      payload: freshCall(cases[2]!.call),
    });
    t.equal(res.headers['x-decision-emit'], 'pending');
    const started = performance.now();
    await svc.close();
    const ms = performance.now() - started;
    t.ok(sends >= 2, 'the last attempt was made, and hung');
    t.ok(ms < 3000, `closed in ${ms.toFixed(0)} ms with an emit pending`);
  },
);
