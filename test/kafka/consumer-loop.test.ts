/**
 * The consumer loop's mechanics on the in-memory twin (the contract test shows the twin behaves as
 * the broker does): offsets only up to an outage, pause and resume, retries of transient errors only,
 * dead letters that always fit, send failures classified, prompt stop, stall detection.
 */
import t, { type Test } from 'tap';
import { HEADERS } from '../../src/definitions.ts';
import { createLogger } from '../../src/logger.ts';
import {
  createConsumerLoop,
  type ConsumerLoopOptions,
  type HandlerFailure,
  type HandlerResult,
} from '../../src/kafka/consumer-loop.ts';
import type { ArchivedDeadLetter } from '../../src/kafka/dead-letter.ts';
import { createMemoryKafka, MemoryKafkaError } from '../../src/kafka/memory.ts';
import { recordBytes, type ConsumedRecord } from '../../src/kafka/types.ts';

const logger = createLogger({ level: 'silent' });

class Failing extends Error {
  readonly kind: HandlerFailure;
  constructor(kind: HandlerFailure) {
    super(`${kind} failure`);
    this.kind = kind;
  }
}

/** A twin with calls, out and dlq topics (one partition each) and a loop over it. */
async function setup(
  t: Test,
  handler: (r: ConsumedRecord) => Promise<HandlerResult>,
  options: Partial<ConsumerLoopOptions> & { dlqLimit?: number } = {},
) {
  const broker = createMemoryKafka();
  const client = broker.client();
  await client.ensureTopics([
    { topic: 'calls', partitions: 1 },
    { topic: 'out', partitions: 1 },
    { topic: 'dlq', partitions: 1 },
  ]);
  if (options.dlqLimit) broker.setMaxMessageBytes('dlq', options.dlqLimit);
  const producer = await client.producer();
  const archived: ArchivedDeadLetter[] = [];
  const deadLetters: string[] = [];
  const pauses: number[] = [];
  let healthy = true;
  const loop = createConsumerLoop({
    client,
    producer,
    groupId: 'g',
    topic: 'calls',
    dlqTopic: 'dlq',
    handler,
    classify: (err) => (err instanceof Failing ? err.kind : 'permanent'),
    describe: (err) => ({ code: 'ERR_TEST', message: (err as Error).message }),
    healthy: () => Promise.resolve(healthy),
    archive: {
      put(entry) {
        archived.push(entry);
        return Promise.resolve(`ref-${archived.length}`);
      },
    },
    logger,
    onDeadLetter: (code) => deadLetters.push(code),
    onPause: (p) => pauses.push(p),
    ...options,
  });
  t.teardown(() => loop.stop());
  const produce = (records: Array<{ key: string; value: string }>) =>
    producer.send(records.map((r) => ({ topic: 'calls', ...r })));
  const read = (topic: string) => broker.read(topic);
  const values = (topic: string) => read(topic).map((r) => r.value?.toString());
  return {
    broker,
    loop,
    produce,
    read,
    values,
    archived,
    deadLetters,
    pauses,
    setHealthy: (v: boolean) => (healthy = v),
    committed: () => broker.committed('g', 'calls', 0),
  };
}

/** Waits until `check` holds, checking after each turn of the event loop (the twin runs in-process). */
async function until(check: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const echo = (r: ConsumedRecord): HandlerResult => ({
  outputs: [{ topic: 'out', key: r.key, value: r.value }],
});

t.test(
  'an outage pauses the partition at the failing record; outputs and offsets stop there, then catch up once',
  async (t) => {
    let down = true;
    const handled: string[] = [];
    const s = await setup(t, async (r) => {
      const v = r.value!.toString();
      handled.push(v);
      if (down && v.startsWith('B')) throw new Failing('outage');
      return echo(r);
    });
    s.setHealthy(false);
    await s.produce([
      { key: 'a', value: 'A0' },
      { key: 'b', value: 'B0' },
      { key: 'a', value: 'A1' },
      { key: 'b', value: 'B1' },
      { key: 'c', value: 'C0' },
    ]);
    await s.loop.start();
    await until(() => s.pauses.length === 1);
    t.same(s.values('out'), ['A0'], 'only the output before the outage is produced');
    t.equal(s.committed(), '1', 'committed up to the failing record');
    t.notOk(handled.includes('B1'), 'the failing key stops: B1 waits behind B0');
    t.same(s.values('dlq'), [], 'nothing dead-lettered for an outage');

    down = false;
    s.setHealthy(true);
    await until(() => s.values('out').length === 5);
    t.same(s.values('out'), ['A0', 'B0', 'A1', 'B1', 'C0'], 'every output once, in offset order');
    await until(() => s.committed() === '5');
    t.pass('committed to the end');
  },
);

t.test(
  'a transient handler error is retried; a permanent one is dead-lettered at once and counted',
  async (t) => {
    const calls = new Map<string, number>();
    const s = await setup(t, async (r) => {
      const v = r.value!.toString();
      calls.set(v, (calls.get(v) ?? 0) + 1);
      if (v === 'flaky' && calls.get(v)! < 3) throw new Failing('transient');
      if (v === 'refused') throw new Failing('permanent');
      return echo(r);
    });
    await s.produce([
      { key: 'a', value: 'flaky' },
      { key: 'b', value: 'refused' },
      { key: 'c', value: 'fine' },
    ]);
    await s.loop.start();
    await until(() => s.values('out').length === 2 && s.values('dlq').length === 1);
    t.equal(calls.get('flaky'), 3, 'the transient failure was retried until it passed');
    t.equal(calls.get('refused'), 1, 'the permanent failure was not retried');
    const [dl] = s.read('dlq');
    t.equal(dl!.value!.toString(), 'refused', 'the original value is kept');
    t.equal(dl!.headers[HEADERS.dlqErrorCode]!.toString(), 'ERR_TEST');
    t.equal(dl!.headers[HEADERS.dlqSourceOffset]!.toString(), '1');
    t.same(s.deadLetters, ['ERR_TEST'], 'every dead letter counted by code');
  },
);

t.test(
  'a dead letter that does not fit the topic is archived whole, with a reference and a prefix on the topic; the records behind it go on',
  async (t) => {
    const s = await setup(
      t,
      async (r) =>
        r.value!.length > 1000
          ? { deadLetter: { code: 'ERR_EVENT_TOO_LARGE', message: 'too large' } }
          : echo(r),
      { dlqLimit: 20_000 },
    );
    // Fits the calls topic, but not the DLQ once the x-dlq-* headers are added.
    const big = 'x'.repeat(20_000 - recordBytes({ topic: 'calls', key: 'big', value: '' }));
    await s.produce([
      { key: 'big', value: big },
      { key: 'a', value: 'after-1' },
      { key: 'big', value: 'after-2' },
    ]);
    await s.loop.start();
    await until(() => s.values('out').length === 2);
    t.same(s.values('out'), ['after-1', 'after-2'], 'every record behind it decided');
    t.equal(s.archived.length, 1, 'the original archived');
    t.equal(s.archived[0]!.record.value!.length, big.length, 'whole');
    const [dl] = s.read('dlq');
    t.equal(dl!.headers[HEADERS.dlqArchived]!.toString(), 'ref-1', 'the reference on the topic');
    t.equal(dl!.headers[HEADERS.dlqOriginalBytes]!.toString(), String(big.length));
    t.ok(
      dl!.value!.length > 1000 && dl!.value!.length < big.length,
      `a prefix of ${dl!.value!.length} bytes`,
    );
    t.ok(big.startsWith(dl!.value!.toString()), 'the beginning of the original');
    t.ok(recordBytes(dl!) <= 20_000, 'under the limit');
    t.same(s.deadLetters, ['ERR_EVENT_TOO_LARGE']);
  },
);

t.test('a small dead letter is a full copy, sent alone, not archived', async (t) => {
  const sends: string[][] = [];
  const s = await setup(t, async (r) =>
    r.value!.toString() === 'bad'
      ? { deadLetter: { code: 'ERR_VALIDATION', message: 'revision: bad' } }
      : echo(r),
  );
  s.broker.failSends((records) => {
    sends.push(records.map((r) => r.topic));
    return undefined;
  });
  await s.produce([
    { key: 'a', value: 'ok-1' },
    { key: 'b', value: 'bad' },
    { key: 'c', value: 'ok-2' },
  ]);
  sends.length = 0;
  await s.loop.start();
  await until(() => s.values('out').length === 2 && s.values('dlq').length === 1);
  t.equal(s.archived.length, 0);
  t.ok(
    s.read('dlq').every((r) => r.headers[HEADERS.dlqArchived] === undefined),
    'no reference: the copy is whole',
  );
  const withDlq = sends.filter((topics) => topics.includes('dlq'));
  t.same(withDlq, [['dlq']], 'the dead letter went in a request of its own');
});

t.test(
  'a transient send failure pauses the partition; the outputs are produced once when the broker takes them',
  async (t) => {
    const s = await setup(t, async (r) => echo(r));
    let failing = true;
    s.broker.failSends((records) =>
      failing && records.some((r) => r.topic === 'out')
        ? new MemoryKafkaError('NOT_LEADER_FOR_PARTITION', 'leader moved', true)
        : undefined,
    );
    await s.produce([
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two' },
    ]);
    await s.loop.start();
    await until(() => s.pauses.length >= 1);
    t.same(s.values('out'), []);
    t.equal(s.committed() ?? '0', '0', 'nothing resolved');
    failing = false;
    await until(() => s.values('out').length === 2);
    t.same(s.values('out'), ['one', 'two'], 'produced once each, in order');
    t.same(s.values('dlq'), [], 'a transient failure dead-letters nothing');
  },
);

t.test(
  'an output the broker refuses for good dead-letters its own record only (ERR_OUTPUT_REFUSED)',
  async (t) => {
    const s = await setup(t, async (r) => echo(r));
    s.broker.failSends((records) =>
      records.some((r) => r.topic === 'out' && r.value?.toString() === 'poison')
        ? new MemoryKafkaError('TOPIC_AUTHORIZATION_FAILED', 'not authorized')
        : undefined,
    );
    await s.produce([
      { key: 'a', value: 'one' },
      { key: 'b', value: 'poison' },
      { key: 'c', value: 'three' },
    ]);
    await s.loop.start();
    await until(() => s.values('dlq').length === 1 && s.values('out').length === 2);
    t.same(s.values('out'), ['one', 'three'], 'the other records are produced');
    t.equal(s.read('dlq')[0]!.headers[HEADERS.dlqErrorCode]!.toString(), 'ERR_OUTPUT_REFUSED');
    await until(() => s.committed() === '3');
    t.pass('and every offset resolved');
  },
);

t.test(
  'stop() returns at once while a record waits out its back-off, and leaves it for the replay',
  async (t) => {
    let attempts = 0;
    const failed = Promise.withResolvers<void>();
    const s = await setup(t, async (r) => {
      if (r.value!.toString() === 'ok') return echo(r);
      attempts += 1;
      failed.resolve();
      throw new Failing('transient');
    });
    await s.produce([
      { key: 'a', value: 'ok' },
      { key: 'a', value: 'retry-me' },
    ]);
    await s.loop.start();
    await failed.promise;
    const started = performance.now();
    await s.loop.stop();
    const ms = performance.now() - started;
    t.ok(ms < 100, `stopped in ${ms.toFixed(1)} ms with a 200 ms back-off pending`);
    t.equal(attempts, 1, 'no attempt after stop');
    t.equal(s.committed(), '1', 'the decided record committed, the retried one left for the replay');
    t.same(s.values('dlq'), [], 'and not dead-lettered');
    t.equal(s.loop.state(), 'stopped');
  },
);

t.test('stop() does not wait for a handler stuck on a dead dependency beyond its grace', async (t) => {
  const stuck = Promise.withResolvers<void>();
  const s = await setup(
    t,
    async (r) => {
      if (r.value!.toString() === 'ok') return echo(r);
      stuck.resolve();
      return new Promise<HandlerResult>(() => {});
    },
    { stopGraceMs: 50 },
  );
  await s.produce([
    { key: 'a', value: 'ok' },
    { key: 'b', value: 'hangs' },
  ]);
  await s.loop.start();
  await stuck.promise;
  const started = performance.now();
  await s.loop.stop();
  const ms = performance.now() - started;
  t.ok(ms < 500, `stopped in ${ms.toFixed(0)} ms`);
  t.equal(s.committed(), '1', 'what was decided is committed');
});

t.test(
  'a partition that does not advance while it has lag is reported stalled, and cleared when it moves',
  async (t) => {
    const stalls: Array<[number, boolean]> = [];
    let down = true;
    const s = await setup(
      t,
      async (r) => {
        if (down) throw new Failing('outage');
        return echo(r);
      },
      { stallAfterMs: 100, onStall: (p, stalled) => stalls.push([p, stalled]) },
    );
    s.setHealthy(false);
    await s.produce([{ key: 'a', value: 'one' }]);
    await s.loop.start();
    await until(() => stalls.length === 1);
    t.same(stalls, [[0, true]], 'reported stalled');
    down = false;
    s.setHealthy(true);
    await until(() => stalls.length === 2);
    t.same(stalls[1], [0, false], 'cleared once it advances');
  },
);
