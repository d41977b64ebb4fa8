import type { Consumer, IHeaders, KafkaMessage, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { HEADERS } from '../definitions.ts';

/** What the handler decided about one message. */
export interface HandlerResult {
  /** Set when the message can never be processed: it goes to the dead-letter topic with this reason. */
  deadLetter?: { code: string; message: string };
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
  /** Shared with the decision output, so DLQ writes use the same idempotent producer. */
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
  /** Finishes the message in flight, commits resolved offsets, disconnects and clears every timer. Idempotent. */
  stop(): Promise<void>;
}

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

  const deadLetter = async (
    m: ConsumedMessage,
    reason: { code: string; message: string },
    attempts: number,
  ) => {
    // The original key, value and headers go unchanged; the reason travels in headers, as Kafka
    // Connect does, so a tool can replay the record once the cause is fixed.
    const headers: IHeaders = {
      ...m.message.headers,
      [HEADERS.dlqErrorCode]: reason.code,
      [HEADERS.dlqErrorMessage]: reason.message.slice(0, 2000),
      [HEADERS.dlqSourceTopic]: m.topic,
      [HEADERS.dlqSourcePartition]: String(m.partition),
      [HEADERS.dlqSourceOffset]: m.message.offset,
      [HEADERS.dlqAttempts]: String(attempts),
    };
    await opts.producer.send({
      topic: opts.dlqTopic,
      acks: -1,
      messages: [{ key: m.message.key, value: m.message.value, headers }],
    });
    log.warn(
      { partition: m.partition, offset: m.message.offset, code: reason.code, attempts },
      'dead-lettered',
    );
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

  const run = async () => {
    const c = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
    consumer = c;
    await c.connect();
    await c.subscribe({ topics: [opts.topic], fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: opts.concurrency ?? 3,
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
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          const m = { topic: batch.topic, partition: batch.partition, message };
          for (let attempt = 1; ; attempt++) {
            try {
              const result = await opts.handler(m);
              if (result.deadLetter) await deadLetter(m, result.deadLetter, attempt);
              break;
            } catch (err) {
              if (opts.isOutage(err)) {
                // Good events must not be dead-lettered because PostgreSQL or Redis is down: stop
                // this partition at this message and come back when the dependencies answer.
                log.warn(
                  { err, partition: batch.partition, offset: message.offset },
                  'dependency down: pausing',
                );
                const resume = pause();
                opts.onPause?.(batch.partition);
                c.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
                void resumeWhenHealthy(resume, batch.partition);
                await commitOffsetsIfNecessary();
                return;
              }
              if (attempt >= maxAttempts) {
                await deadLetter(
                  m,
                  {
                    code: 'ERR_PROCESSING_FAILED',
                    message: err instanceof Error ? err.message : String(err),
                  },
                  attempt,
                );
                break;
              }
              log.error(
                { err, partition: batch.partition, offset: message.offset, attempt },
                'handler failed: retrying',
              );
              await sleep(100 * 2 ** attempt);
            }
          }
          resolveOffset(message.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
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
