import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '../logger.ts';

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

export interface KafkaConnection {
  readonly kafka: Kafka;
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(topics: ITopicConfig[]): Promise<void>;
  /** Resolves when the cluster answers a metadata request; rejects otherwise. */
  ping(): Promise<void>;
  /** Disconnects the admin client (producers and consumers are closed by their owners). Idempotent. */
  close(): Promise<void>;
}

/** A kafkajs client with pino logging and an admin connection for topic management and readiness. */
export async function openKafka(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
}): Promise<KafkaConnection> {
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
    kafka,
    async ensureTopics(topics) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) return;
      // waitForLeaders so a producer can use the topic as soon as this resolves.
      await admin.createTopics({ topics: missing, waitForLeaders: true });
      options.logger.info({ topics: missing.map((t) => t.topic) }, 'kafka topics created');
    },
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
