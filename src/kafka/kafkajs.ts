/** The Kafka seam on a real broker, through kafkajs. */
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type LogEntry,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from '../logger.ts';
import { classifySendError, sendErrorType } from './failures.ts';
import type { GroupConsumer, KafkaClient, OutgoingRecord, RecordProducer } from './types.ts';

// kafkajs warns on every start that its default partitioner changed in v2; we key every message by
// incident id and accept the v2 (Java-compatible murmur2) partitioner, so the warning is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** Routes kafkajs' own logs into pino, at the matching level, under `component: kafkajs`. */
function logCreator(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry;
      const fields = { namespace, ...extra };
      if (level === logLevel.ERROR) log.error(fields, message);
      else if (level === logLevel.WARN) log.warn(fields, message);
      else if (level === logLevel.INFO) log.info(fields, message);
      else log.debug(fields, message);
    };
}

function toTopicMessages(records: readonly OutgoingRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    const message: Message = { key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) };
    const list = byTopic.get(r.topic);
    if (list) list.push(message);
    else byTopic.set(r.topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The idempotent producer, able to repair itself: when the broker says its sequence numbers are out
 * of step (after a failed request the session can no longer be trusted), the send is retried once on
 * a new producer session (a new producer id), so one bad request cannot fail every later one.
 */
async function openProducer(kafka: Kafka, logger: Logger): Promise<RecordProducer> {
  const open = async () => {
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
    await p.connect();
    return p;
  };
  let current: Promise<Producer> = open();
  await current;
  let closed = false;

  /** Replaces `broken` by a new session, once however many sends met the same broken one. */
  const renew = (broken: Producer) =>
    current.then((p) => {
      if (p !== broken) return;
      current = open();
      void broken.disconnect().catch(() => {});
      return current.then(() => undefined);
    });

  return {
    async send(records) {
      if (records.length === 0) return;
      const topicMessages = toTopicMessages(records);
      for (let attempt = 1; ; attempt++) {
        if (closed) throw new Error('the producer is closed');
        const p = await current;
        try {
          await p.sendBatch({ topicMessages, acks: -1 });
          return;
        } catch (err) {
          if (classifySendError(err) !== 'sequence' || attempt >= 2) throw err;
          logger.warn(
            { component: 'producer', type: sendErrorType(err) },
            'idempotent producer out of step with the broker: retrying on a new producer session',
          );
          await renew(p);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await (await current).disconnect();
    },
  };
}

function openConsumer(
  kafka: Kafka,
  options: { groupId: string; topic: string; partitionsConsumedConcurrently?: number },
): GroupConsumer {
  let stopping = false;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    // A fetch waits at most this long for records; stop() waits for the fetch in flight, so this
    // bounds how long a SIGTERM takes when a partition is idle or paused (kafkajs' default is 5 s).
    maxWaitTimeInMs: 1000,
    // A crash while stopping must not start the consumer again behind our back.
    retry: { restartOnFailure: () => Promise.resolve(!stopping) },
  });
  let stopped: Promise<void> | undefined;
  return {
    async run(eachBatch) {
      await consumer.connect();
      await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 6,
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
          if (batch.messages.length === 0) return;
          await eachBatch({
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: (m.headers ?? {}) as Record<string, Buffer | string | undefined>,
              timestamp: m.timestamp,
            })),
            lag: () => {
              const lag = Number(batch.offsetLag());
              return Number.isFinite(lag) ? lag : 0;
            },
            resolveOffset,
            commitIfNecessary: () => commitOffsetsIfNecessary(),
            heartbeat,
            isRunning: () => isRunning() && !isStale(),
            pauseAt(offset) {
              const resume = pause();
              // With auto-commit on, kafkajs commits the seek's offset: everything before it is done.
              consumer.seek({ topic: batch.topic, partition: batch.partition, offset });
              return resume;
            },
          });
        },
      });
    },
    stop() {
      stopping = true;
      // kafkajs waits for the batches in flight, commits what was resolved, then leaves the group.
      return (stopped ??= consumer.disconnect());
    },
  };
}

/** A kafkajs client with pino logging and an admin connection for topics, limits and readiness. */
export async function openKafkajs(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
}): Promise<KafkaClient & { readonly kafka: Kafka }> {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreator(options.logger),
    retry: { initialRetryTime: 200, retries: 8 },
  });
  const admin: Admin = kafka.admin();
  await admin.connect();
  let closed = false;
  return {
    kind: 'kafkajs',
    kafka,
    async ensureTopics(topics) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) return;
      // waitForLeaders so a producer can use the topic as soon as this resolves.
      await admin.createTopics({
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          ...(t.replication ? { replicationFactor: t.replication } : {}),
        })),
        waitForLeaders: true,
      });
      options.logger.info({ topics: missing.map((t) => t.topic) }, 'kafka topics created');
    },
    async maxMessageBytes(topic, fallback) {
      try {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          // 2 = ConfigResourceTypes.TOPIC (kafkajs exports the enum on its CommonJS default only).
          resources: [{ type: 2, name: topic, configNames: ['max.message.bytes'] }],
        });
        const value = Number(
          resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue,
        );
        return Number.isSafeInteger(value) && value > 0 ? value : fallback;
      } catch (err) {
        options.logger.warn({ err, topic }, 'could not read max.message.bytes: using the default');
        return fallback;
      }
    },
    producer: () => openProducer(kafka, options.logger),
    consumer: (o) => openConsumer(kafka, o),
    async ping() {
      await admin.describeCluster();
    },
    async close() {
      if (closed) return;
      closed = true;
      await admin.disconnect();
    },
  };
}
