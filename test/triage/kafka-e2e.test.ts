import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { kafkaBrokers, postgres, redisUrl, uniqueName } from '../helpers/services.ts';
import { eventually, kcatProduce, kcatReadAll } from '../helpers/kafka.ts';

const [kafka, pg, redis] = await Promise.all([kafkaBrokers(), postgres(), redisUrl()]);
const skip = kafka.skip || pg.skip || redis.skip;

t.test(
  'kafka: 1,000 events from kcat come back as 1,000 decisions; bad records are dead-lettered',
  { skip },
  async (t) => {
    if (!kafka.ok || !pg.ok || !redis.ok) return;
    const id = uniqueName('e2e');
    const topics = { calls: `${id}.calls`, decisions: `${id}.decisions`, dlq: `${id}.dlq` };
    const config = loadConfig({
      DATABASE_URL: pg.value,
      DATABASE_SCHEMA: id.toLowerCase(),
      REDIS_URL: redis.value,
      REDIS_KEY_PREFIX: `${id}:`,
      PII_HASH_KEY: 'e2e-test-key-0123456789',
      KAFKA_BROKERS: kafka.value,
      KAFKA_GROUP_ID: id,
      KAFKA_TOPIC_CALLS: topics.calls,
      KAFKA_TOPIC_DECISIONS: topics.decisions,
      KAFKA_TOPIC_DLQ: topics.dlq,
      KAFKA_TOPIC_PARTITIONS: '3',
    });
    const service = await startService(config, createLogger({ level: 'warn' }), { watchRules: false });
    t.teardown(async () => {
      await service.close();
      const admin = await openPostgres({ url: pg.value, schema: 'public' });
      await admin.exec(`DROP SCHEMA IF EXISTS "${config.DATABASE_SCHEMA}" CASCADE`);
      await admin.close();
    });
    const count = async (sql: string) =>
      Number(
        (await service.resources.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`)).rows[0]!
          .n,
      );

    const cases = devCases();
    const calls = Array.from({ length: 1000 }, (_, i) => freshCall(cases[i % cases.length]!.call));
    await kcatProduce(
      kafka.value,
      topics.calls,
      calls.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
    );
    const valid = calls[0]!;
    const bad = [
      { key: 'BAD-1', value: '{not json', code: 'ERR_EVENT_NOT_JSON' },
      {
        key: 'BAD-2',
        value: JSON.stringify({ ...valid, eventId: 'bad-2', revision: 'two' }),
        code: 'ERR_VALIDATION',
      },
      {
        key: 'BAD-3',
        value: JSON.stringify({ ...valid, eventId: 'bad-3', narrative: 'X'.repeat(300_000) }),
        code: 'ERR_EVENT_TOO_LARGE',
      },
      { key: 'BAD-4', value: JSON.stringify({ hello: 'world' }), code: 'ERR_VALIDATION' },
    ];
    await kcatProduce(kafka.value, topics.calls, bad);
    // A good event after the bad ones shows the consumer kept going.
    const after = freshCall(cases[0]!.call);
    await kcatProduce(kafka.value, topics.calls, [{ key: after.incidentId, value: JSON.stringify(after) }]);

    await eventually(async () => (await count('decisions')) === 1001, 120_000);
    let out: ReturnType<typeof kcatReadAll> = [];
    await eventually(() => (out = kcatReadAll(kafka.value, topics.decisions)).length >= 1001, 60_000);
    t.equal(out.length, 1001, '1,001 decisions on the output topic');
    const byEvent = new Map(out.map((r) => [JSON.parse(r.payload!).eventId as string, r]));
    t.equal(byEvent.size, 1001, 'one per event');
    const wrongKey = [...calls, after].filter((c) => byEvent.get(c.eventId)?.key !== c.incidentId);
    t.equal(wrongKey.length, 0, 'every decision keyed by its incident id');

    let dlq: ReturnType<typeof kcatReadAll> = [];
    await eventually(() => (dlq = kcatReadAll(kafka.value, topics.dlq)).length >= bad.length, 60_000);
    t.equal(dlq.length, bad.length, 'every bad record dead-lettered');
    for (const b of bad) {
      const rec = dlq.find((r) => r.key === b.key);
      const headers = Object.fromEntries(
        (rec?.headers ?? []).reduce<string[][]>(
          (acc, v, i) => (i % 2 ? (acc.at(-1)!.push(v), acc) : [...acc, [v]]),
          [],
        ),
      );
      t.equal(headers['x-dlq-error-code'], b.code, `${b.key}: ${b.code}`);
      t.ok(headers['x-dlq-error-message'], `${b.key}: has a reason`);
      t.equal(headers['x-dlq-source-topic'], topics.calls, `${b.key}: names its source`);
      t.equal(rec?.payload, b.value, `${b.key}: original value kept`);
    }
    if (bad[1]) {
      const rec = dlq.find((r) => r.key === 'BAD-2');
      t.match(JSON.stringify(rec?.headers), /revision/, 'the validation reason names the bad field');
    }

    // The metrics tell the same story.
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (line: RegExp) => Number(metrics.match(line)?.[1] ?? 'NaN');
    t.equal(
      value(/^cad_triage_dead_letters_total\{code="ERR_EVENT_NOT_JSON"\} (\d+)/m),
      1,
      'dead letters by code',
    );
    t.equal(value(/^cad_triage_dead_letters_total\{code="ERR_VALIDATION"\} (\d+)/m), 2);
    t.equal(value(/^cad_triage_dead_letters_total\{code="ERR_EVENT_TOO_LARGE"\} (\d+)/m), 1);
    const decidedByGate = [
      ...metrics.matchAll(/^cad_triage_decisions_total\{gate="[a-z_]+",mode="[a-z_]+"\} (\d+)/gm),
    ];
    t.equal(
      decidedByGate.reduce((sum, m) => sum + Number(m[1]), 0),
      1001,
      'decisions by gate and mode add up',
    );
    t.match(
      metrics,
      /^cad_triage_decision_categories_total\{category="behavioral_health"\} \d+/m,
      'by category',
    );
    t.equal(
      value(/^cad_triage_event_to_decision_seconds_count (\d+)/m),
      1001,
      'event-to-decision latency observed',
    );
    t.match(metrics, /^cad_triage_consumer_lag\{partition="\d+"\} \d+/m, 'lag per partition');
    t.match(
      metrics,
      /^cad_triage_versions_info\{kind="rules",version="sha256:[0-9a-f]+"\} 1/m,
      'rules version',
    );
    t.match(
      metrics,
      /^cad_triage_versions_info\{kind="policy",version="sha256:[0-9a-f]+"\} 1/m,
      'policy version',
    );

    // Replaying every event creates no second persisted decision.
    await kcatProduce(
      kafka.value,
      topics.calls,
      calls.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
    );
    await eventually(async () => kcatReadAll(kafka.value, topics.decisions).length >= 2001, 120_000);
    t.equal(await count('decisions'), 1001, 'still exactly one persisted decision per event after a replay');
  },
);
