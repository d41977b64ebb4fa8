import t, { type Test } from 'tap';
import type { EachMessagePayload } from 'kafkajs';
import { openKafkajs } from '../../src/kafka/kafkajs.ts';
import { createLogger } from '../../src/logger.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const brokers = await kafkaBrokers();
const logger = createLogger({ level: 'warn' });

/** Resolves once `n` messages were handed to `collect`. */
function latch<T>(n: number) {
  const items: T[] = [];
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  return {
    items,
    reached,
    push(item: T) {
      items.push(item);
      if (items.length === n) done();
    },
  };
}

async function connect(t: Test) {
  const conn = await openKafkajs({
    brokers: brokers.ok ? brokers.value.split(',') : [],
    clientId: uniqueName('test'),
    logger,
  });
  t.teardown(() => conn.close());
  return conn;
}

t.test('kafka: topics are created once; ensureTopics is idempotent', { skip: brokers.skip }, async (t) => {
  const conn = await connect(t);
  const topic = uniqueName('topics');
  await conn.ensureTopics([{ topic, partitions: 3 }]);
  await conn.ensureTopics([{ topic, partitions: 3 }]);
  const admin = conn.kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  t.equal(meta.topics[0]?.partitions.length, 3);
  await conn.ping();
});

t.test('kafka: produce → consumer-group consume → commit round trip', { skip: brokers.skip }, async (t) => {
  const conn = await connect(t);
  const topic = uniqueName('roundtrip');
  const groupId = uniqueName('group');
  await conn.ensureTopics([{ topic, partitions: 3 }]);

  const producer = conn.kafka.producer({ idempotent: true });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const sent = Array.from({ length: 30 }, (_, i) => ({
    key: `INC-${i % 5}`,
    value: JSON.stringify({ n: i }),
  }));
  await producer.send({ topic, messages: sent, acks: -1 });

  const consumer = conn.kafka.consumer({ groupId });
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got = latch<{ key: string; n: number; partition: number }>(sent.length);
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: tp, partition, message }: EachMessagePayload) => {
      got.push({
        key: message.key!.toString(),
        n: (JSON.parse(message.value!.toString()) as { n: number }).n,
        partition,
      });
      await consumer.commitOffsets([
        { topic: tp, partition, offset: (BigInt(message.offset) + 1n).toString() },
      ]);
    },
  });
  await got.reached;
  t.same(
    got.items.map((m) => m.n).sort((a, b) => a - b),
    sent.map((_, i) => i),
    'every message consumed once',
  );
  const partitionOfKey = new Map<string, Set<number>>();
  for (const m of got.items)
    partitionOfKey.set(m.key, (partitionOfKey.get(m.key) ?? new Set()).add(m.partition));
  t.ok(
    [...partitionOfKey.values()].every((s) => s.size === 1),
    'one key, one partition',
  );
  for (const key of partitionOfKey.keys()) {
    const ns = got.items.filter((m) => m.key === key).map((m) => m.n);
    t.same(
      ns,
      [...ns].sort((a, b) => a - b),
      `${key} consumed in order`,
    );
  }
  await consumer.disconnect();

  const admin = conn.kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  t.equal(committed, sent.length, 'committed offsets cover every message');
});

t.test(
  'kafka: a transactional produce with sendOffsets commits output and input offsets atomically',
  { skip: brokers.skip },
  async (t) => {
    const conn = await connect(t);
    const input = uniqueName('tx_in');
    const output = uniqueName('tx_out');
    const groupId = uniqueName('tx_group');
    await conn.ensureTopics([
      { topic: input, partitions: 1 },
      { topic: output, partitions: 1 },
    ]);

    const producer = conn.kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    t.teardown(() => producer.disconnect());

    // An aborted transaction must leave nothing visible to read_committed readers.
    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'k', value: 'aborted' }] });
    await aborted.abort();

    const tx = await producer.transaction();
    await tx.send({ topic: output, messages: [{ key: 'k', value: 'committed' }] });
    await tx.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '42' }] }],
    });
    await tx.commit();

    const admin = conn.kafka.admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    // The group coordinator may serve the offset a moment after the commit returns: poll, bounded.
    let offset: string | undefined;
    for (let i = 0; i < 50 && offset !== '42'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      offset = (await admin.fetchOffsets({ groupId, topics: [input] }))[0]?.partitions[0]?.offset;
    }
    t.equal(offset, '42', 'the input offset was committed with the transaction');

    const consumer = conn.kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false });
    t.teardown(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topics: [output], fromBeginning: true });
    const got = latch<string>(1);
    await consumer.run({ eachMessage: async ({ message }) => got.push(message.value!.toString()) });
    await got.reached;
    t.same(got.items, ['committed'], 'only the committed message is read');
  },
);
