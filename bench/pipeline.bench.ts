/**
 * The Kafka pipeline through a real broker, PostgreSQL and Redis, beside a passthrough baseline
 * measured in the same run: a consumer group that reads the same records and produces them to an
 * output topic with the same producer settings, a batch per produce request, doing no triage. Two figures each:
 *   - sustained events/s: N records already on the input topic, time until N outputs are on the output topic;
 *   - event-to-output latency p50/p99 at a fixed 200 events/s (send time to receipt on the output topic).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startService } from '../src/service.ts';
import { openPostgres } from '../src/adapters/postgres.ts';
import { devCases, freshCall } from '../test/helpers/calls.ts';
import type { Bench, Figure } from './harness.ts';

const SUSTAINED = 5000;
const RATE = 200;
const RATE_SECONDS = 10;
const PARTITIONS = 6;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/** Counts records on `topic` and notes when each arrives; `sentAt` is read from the record value. */
async function watch(kafka: Kafka, topic: string, sentAtOf: (value: string) => number) {
  const consumer = kafka.consumer({ groupId: `bench-watch-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const latencies: number[] = [];
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      count++;
      latencies.push(Date.now() - sentAtOf(message.value!.toString()));
      for (const w of waiters.filter((x) => count >= x.n)) w.resolve();
    },
  });
  return {
    consumer,
    latencies,
    reached: (n: number) =>
      count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    reset: () => {
      latencies.length = 0;
    },
  };
}

async function produceAtRate(producer: Producer, topic: string, make: () => { key: string; value: string }) {
  const total = RATE * RATE_SECONDS;
  const sends: Array<Promise<unknown>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const m = make();
    // Not awaited in sequence: a real CAD sends at its own pace, not after our acknowledgement.
    sends.push(producer.send({ topic, acks: -1, messages: [m] }));
  }
  await Promise.all(sends);
  return total;
}

/** One run of either the service or the passthrough between `input` and `output`. */
async function measure(
  kafka: Kafka,
  producer: Producer,
  topics: { input: string; output: string },
  startProcessor: () => Promise<() => Promise<void>>,
  outputSentAt: (value: string) => number,
) {
  const cases = devCases();
  let seq = 0;
  const record = (sentAt: number) => {
    const call = freshCall(cases[seq++ % cases.length]!.call, { occurredAt: new Date(sentAt).toISOString() });
    return { key: call.incidentId, value: JSON.stringify(call) };
  };
  // Sustained: the backlog is on the topic before the processor starts.
  for (let i = 0; i < SUSTAINED; i += 500) {
    await producer.send({
      topic: topics.input,
      acks: -1,
      messages: Array.from({ length: Math.min(500, SUSTAINED - i) }, () => record(Date.now())),
    });
  }
  const watcher = await watch(kafka, topics.output, outputSentAt);
  const t0 = performance.now();
  const stop = await startProcessor();
  await watcher.reached(SUSTAINED);
  const sustained = (SUSTAINED * 1000) / (performance.now() - t0);

  watcher.reset();
  const sent = await produceAtRate(producer, topics.input, () => record(Date.now()));
  await watcher.reached(SUSTAINED + sent);
  const lat = [...watcher.latencies];
  await watcher.consumer.disconnect();
  await stop();
  return { sustained, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

const bench: Bench = {
  name: 'pipeline',
  needs: ['kafka', 'postgres', 'redis'],
  async run(): Promise<Figure[]> {
    const brokers = process.env.KAFKA_BROKERS!.split(',');
    const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const id = `bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const t = {
      calls: `${id}.calls`,
      decisions: `${id}.decisions`,
      dlq: `${id}.dlq`,
      passIn: `${id}.pass.in`,
      passOut: `${id}.pass.out`,
    };
    await admin.createTopics({
      topics: Object.values(t).map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    const occurredAt = (v: string) => Date.parse((JSON.parse(v) as { occurredAt: string }).occurredAt);

    // Baseline: consume → produce the same record, no triage.
    const passthrough = await measure(
      kafka,
      producer,
      { input: t.passIn, output: t.passOut },
      async () => {
        const consumer: Consumer = kafka.consumer({ groupId: `${id}-pass` });
        const out = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
        await Promise.all([consumer.connect(), out.connect()]);
        await consumer.subscribe({ topics: [t.passIn], fromBeginning: true });
        // Batched like the service's consumer (one produce request per fetched batch, then commit),
        // so the baseline is Kafka's own cost, not the cost of one request per record.
        await consumer.run({
          partitionsConsumedConcurrently: 6,
          eachBatch: async ({ batch }) => {
            await out.send({
              topic: t.passOut,
              acks: -1,
              messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
            });
          },
        });
        return async () => {
          await consumer.disconnect();
          await out.disconnect();
        };
      },
      occurredAt,
    );

    const config = loadConfig({
      DATABASE_URL: process.env.DATABASE_URL,
      DATABASE_SCHEMA: id,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `${id}:`,
      PII_HASH_KEY: 'bench-key-0123456789abcdef',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_GROUP_ID: id,
      KAFKA_TOPIC_CALLS: t.calls,
      KAFKA_TOPIC_DECISIONS: t.decisions,
      KAFKA_TOPIC_DLQ: t.dlq,
      LOG_LEVEL: 'silent',
    });
    const triage = await measure(
      kafka,
      producer,
      { input: t.calls, output: t.decisions },
      async () => {
        const service = await startService(config, createLogger({ level: 'silent' }), { watchRules: false });
        return () => service.close();
      },
      occurredAt,
    );

    await producer.disconnect();
    await admin.deleteTopics({ topics: Object.values(t) }).catch(() => {});
    await admin.disconnect();
    const db = await openPostgres({ url: process.env.DATABASE_URL!, schema: 'public' });
    await db.exec(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
    await db.close();

    return [
      {
        name: `sustained, ${SUSTAINED} events backlog, ${PARTITIONS} partitions`,
        value: triage.sustained,
        unit: 'events/s',
        higherIsBetter: true,
        baseline: { name: 'passthrough', value: passthrough.sustained },
      },
      {
        name: `event-to-decision p50 at ${RATE} events/s`,
        value: triage.p50,
        unit: 'ms',
        higherIsBetter: false,
        baseline: { name: 'passthrough', value: passthrough.p50 },
      },
      {
        name: `event-to-decision p99 at ${RATE} events/s`,
        value: triage.p99,
        unit: 'ms',
        higherIsBetter: false,
        baseline: { name: 'passthrough', value: passthrough.p99 },
      },
    ];
  },
};
export default bench;
