import type { Consumer, IHeaders, KafkaMessage, Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { HEADERS } from '../definitions.ts';

/** What the handler decided about one message. */
export interface HandlerResult {
  /** Set when the message can never be processed: it goes to the dead-letter topic with this reason. */
  deadLetter?: { code: string; message: string };
  /** Records to produce because of this message (decisions); sent before its offset is resolved. */
  outputs?: Array<{ topic: string; message: Message }>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface ConsumerLoopOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  dlqTopic: string;
  /** The idempotent producer of the outputs and dead letters. */
  producer: Producer;
  handler: (m: ConsumedMessage) => Promise<HandlerResult>;
  /** True when an error means a dependency is down: the partition pauses and the message is retried later. */
  isOutage: (err: unknown) => boolean;
  /** Resolves when every dependency answers again; polled while paused. */
  healthy: () => Promise<boolean>;
  logger: Logger;
  /** Partitions processed at once (each partition stays in order). */
  concurrency?: number;
  /** Attempts for a message that keeps failing with a non-outage error before it is dead-lettered. */
  maxAttempts?: number;
  /** Called when a partition pauses for an outage (metrics). */
  onPause?: (partition: number) => void;
  /** Called with the lag of each partition after each batch (metrics). */
  onLag?: (partition: number, lag: number) => void;
}

export interface ConsumerLoop {
  /** Connects, subscribes and starts consuming. Idempotent. */
  start(): Promise<void>;
  /** Finishes the messages in flight, commits resolved offsets, disconnects and clears every timer. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Messages of a partition handled together: concurrently across record keys (incidents), one after
 * another within a key, and their outputs produced in one request before their offsets are resolved.
 */
const CHUNK = 100;

type Outcome = { records: Array<{ topic: string; message: Message }> } | { outage: unknown };

/**
 * The Kafka consumer mechanics: batches, offsets, heartbeats, pause/resume and the dead-letter topic.
 * What a message means is the handler's business. Delivery is at-least-once: an offset is resolved
 * only after the handler finished (and any dead-letter write was acknowledged), so a crash replays
 * messages and the handler must be idempotent.
 */
export function createConsumerLoop(opts: ConsumerLoopOptions): ConsumerLoop {
  const log = opts.logger.child({ component: 'consumer', topic: opts.topic });
  const maxAttempts = opts.maxAttempts ?? 5;
  const timers = new Set<NodeJS.Timeout>();
  let consumer: Consumer | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** The dead-letter record of `m`: its key, value and headers unchanged, the reason in headers (as Kafka Connect does). */
  const deadLetter = (m: ConsumedMessage, reason: { code: string; message: string }, attempts: number) => {
    const headers: IHeaders = {
      ...m.message.headers,
      [HEADERS.dlqErrorCode]: reason.code,
      [HEADERS.dlqErrorMessage]: reason.message.slice(0, 2000),
      [HEADERS.dlqSourceTopic]: m.topic,
      [HEADERS.dlqSourcePartition]: String(m.partition),
      [HEADERS.dlqSourceOffset]: m.message.offset,
      [HEADERS.dlqAttempts]: String(attempts),
    };
    log.warn(
      { partition: m.partition, offset: m.message.offset, code: reason.code, attempts },
      'dead-lettered',
    );
    return { topic: opts.dlqTopic, message: { key: m.message.key, value: m.message.value, headers } };
  };

  /** Produces the records of several messages in one request (ordered per partition). */
  const send = async (records: Array<{ topic: string; message: Message }>) => {
    if (records.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r.message]);
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await opts.producer.sendBatch({ topicMessages, acks: -1 });
  };

  /** Polls until the dependencies answer, then resumes the partition. Ends quietly on stop. */
  const resumeWhenHealthy = async (resume: () => void, partition: number) => {
    for (let delay = 500; !stopping; delay = Math.min(delay * 2, 10_000)) {
      await sleep(delay);
      if (stopping) return;
      if (await opts.healthy().catch(() => false)) {
        log.info({ partition }, 'dependencies back: resuming');
        resume();
        return;
      }
    }
  };

  /** One message through the handler, retried on errors that are not outages, dead-lettered after the last attempt. */
  const handleOne = async (m: ConsumedMessage): Promise<Outcome> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await opts.handler(m);
        const records = [...(result.outputs ?? [])];
        if (result.deadLetter) records.push(deadLetter(m, result.deadLetter, attempt));
        return { records };
      } catch (err) {
        // Good events must not be dead-lettered because PostgreSQL or Redis is down.
        if (opts.isOutage(err)) return { outage: err };
        if (attempt >= maxAttempts) {
          const reason = {
            code: 'ERR_PROCESSING_FAILED',
            message: err instanceof Error ? err.message : String(err),
          };
          return { records: [deadLetter(m, reason, attempt)] };
        }
        log.error(
          { err, partition: m.partition, offset: m.message.offset, attempt },
          'handler failed: retrying',
        );
        await sleep(100 * 2 ** attempt);
      }
    }
  };

  /**
   * The messages of a chunk, each key's in offset order and the keys concurrently (records are keyed
   * by incident, so one incident's revisions keep their order; records without a key share one
   * chain). After an outage a chain stops: its later messages are left for the replay.
   */
  const handleChunk = async (topic: string, partition: number, messages: KafkaMessage[]) => {
    const results = new Array<Outcome>(messages.length);
    const chains = new Map<string, number[]>();
    messages.forEach((message, i) => {
      const key = message.key ? message.key.toString('latin1') : '';
      const chain = chains.get(key);
      if (chain) chain.push(i);
      else chains.set(key, [i]);
    });
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const [n, i] of chain.entries()) {
          results[i] = await handleOne({ topic, partition, message: messages[i]! });
          const result = results[i];
          if ('outage' in result) {
            for (const j of chain.slice(n + 1)) results[j] = result;
            return;
          }
        }
      }),
    );
    return results;
  };

  const run = async () => {
    const c = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
    consumer = c;
    await c.connect();
    await c.subscribe({ topics: [opts.topic], fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: opts.concurrency ?? 6,
      eachBatchAutoResolve: false,
      autoCommitInterval: 1000,
      autoCommitThreshold: 50,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
        pause,
      }) => {
        // Messages are handled a chunk at a time (see handleChunk); a chunk's output records are
        // produced together, and only then are their offsets resolved: a crash before the send
        // replays them, and the handler is idempotent.
        let pending: { offsets: string[]; records: Array<{ topic: string; message: Message }> } = {
          offsets: [],
          records: [],
        };
        const flush = async () => {
          await send(pending.records);
          for (const offset of pending.offsets) resolveOffset(offset);
          pending = { offsets: [], records: [] };
          await commitOffsetsIfNecessary();
          await heartbeat();
        };
        /** Stops this partition at `offset` until the dependencies answer again. */
        const pauseAt = async (offset: string, err: unknown) => {
          log.warn({ err, partition: batch.partition, offset }, 'dependency down: pausing');
          const resume = pause();
          opts.onPause?.(batch.partition);
          c.seek({ topic: batch.topic, partition: batch.partition, offset });
          void resumeWhenHealthy(resume, batch.partition);
          await commitOffsetsIfNecessary().catch(() => {});
        };
        /** Sends what is pending; on failure replays it all from its first offset later. */
        const flushOrPause = async () => {
          const first = pending.offsets[0];
          try {
            await flush();
            return true;
          } catch (err) {
            if (first !== undefined) await pauseAt(first, err);
            return false;
          }
        };

        for (let from = 0; from < batch.messages.length; from += CHUNK) {
          if (!isRunning() || isStale()) break;
          const chunk = batch.messages.slice(from, from + CHUNK);
          const results = await handleChunk(batch.topic, batch.partition, chunk);
          // In offset order: outputs are produced, and offsets resolved, only up to the first message
          // that met an outage; the partition pauses there and everything after it is replayed.
          for (const [i, message] of chunk.entries()) {
            const result = results[i]!;
            if ('outage' in result) {
              if (await flushOrPause()) await pauseAt(message.offset, result.outage);
              return;
            }
            pending.records.push(...result.records);
            pending.offsets.push(message.offset);
          }
          if (!(await flushOrPause())) return;
        }
        if (!(await flushOrPause())) return;
        const lag = Number(batch.offsetLag());
        opts.onLag?.(batch.partition, Number.isFinite(lag) ? lag : 0);
      },
    });
  };

  return {
    start() {
      return (starting ??= run());
    },
    async stop() {
      stopping ??= (async () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        await starting?.catch(() => {});
        // kafkajs waits for the batch in flight, commits what was resolved, then leaves the group.
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
}
