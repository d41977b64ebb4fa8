import t from 'tap';
import { openKafka } from '../../src/adapters/kafka.ts';
import { createConsumerLoop, type ConsumedMessage } from '../../src/adapters/kafka-consumer.ts';
import { createLogger } from '../../src/logger.ts';
import { createTopics, eventually, kcatProduce, kcatReadAll } from '../helpers/kafka.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const brokers = await kafkaBrokers();
const logger = createLogger({ level: 'warn' });

t.test(
  'kafka consumer loop: one partition, records of different keys handled concurrently, each key in order, outputs in offset order',
  { skip: brokers.skip },
  async (t) => {
    const list = brokers.ok ? brokers.value : '';
    const [input, output, dlq] = [uniqueName('in'), uniqueName('out'), uniqueName('dlq')];
    await createTopics(list, [input, output, dlq], 1);
    const conn = await openKafka({ brokers: list.split(','), clientId: uniqueName('test'), logger });
    t.teardown(() => conn.close());
    const producer = conn.kafka.producer({ idempotent: true });
    await producer.connect();
    t.teardown(() => producer.disconnect());

    // 10 keys × 30 sequence numbers, interleaved, on one partition.
    const records = Array.from({ length: 300 }, (_, i) => ({
      key: `K${i % 10}`,
      value: JSON.stringify({ seq: Math.floor(i / 10) }),
    }));
    await kcatProduce(list, input, records);

    const seen = new Map<string, number[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const handler = async (m: ConsumedMessage) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const key = m.message.key!.toString();
      const { seq } = JSON.parse(m.message.value!.toString()) as { seq: number };
      // Uneven delays: only the loop's chaining keeps a key in order.
      await new Promise((r) => setTimeout(r, (30 - seq) % 4));
      seen.set(key, [...(seen.get(key) ?? []), seq]);
      inFlight -= 1;
      return { outputs: [{ topic: output, message: { key, value: m.message.value } }] };
    };
    const loop = createConsumerLoop({
      kafka: conn.kafka,
      groupId: uniqueName('g'),
      topic: input,
      dlqTopic: dlq,
      producer,
      handler,
      isOutage: () => false,
      healthy: async () => true,
      logger,
    });
    await loop.start();
    t.teardown(() => loop.stop());

    await eventually(() => kcatReadAll(list, output).length >= 300, 60_000);
    const out = kcatReadAll(list, output);
    t.equal(out.length, 300, 'one output per record, none doubled');
    for (let k = 0; k < 10; k++) {
      const expected = Array.from({ length: 30 }, (_, i) => i);
      t.same(seen.get(`K${k}`), expected, `K${k} handled in order`);
      const produced = out
        .filter((r) => r.key === `K${k}`)
        .map((r) => (JSON.parse(r.payload!) as { seq: number }).seq);
      t.same(produced, expected, `K${k} outputs produced in order`);
    }
    t.ok(
      maxInFlight > 1,
      `records of different keys were handled concurrently (at most ${maxInFlight} at once)`,
    );
    t.ok(maxInFlight <= 100, 'no more than a chunk at once');
  },
);
