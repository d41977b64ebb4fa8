import type { Config } from './config.ts';
import { DEFAULTS } from './definitions.ts';
import type { Logger } from './logger.ts';
import type { Database } from './adapters/database.ts';
import type { KeyValueStore } from './adapters/store.ts';
import type { KafkaClient } from './kafka/types.ts';
import { migrate, readMigrations } from './adapters/migrations.ts';

/** The external (or embedded) components the service runs on, chosen by the configuration. */
export interface Resources {
  db: Database;
  store: KeyValueStore;
  /** Absent on REST-only deployments (no KAFKA_BROKERS). */
  kafka?: KafkaClient;
  /** One readiness probe per component REST needs, by name (Kafka is reported apart: health.ts). */
  checks: Record<string, () => Promise<void>>;
  /** Closes everything in reverse order of opening. Idempotent. */
  close(): Promise<void>;
}

/** PostgreSQL when DATABASE_URL is set, else the embedded PGlite database. Migrations are not applied. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.DATABASE_URL) {
    const { openPostgres } = await import('./adapters/postgres.ts');
    return openPostgres({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      poolSize: config.DATABASE_POOL_SIZE,
      logger,
    });
  }
  const { openPglite } = await import('./adapters/pglite.ts');
  return openPglite({ dataDir: config.PGLITE_DATA_DIR, schema: config.DATABASE_SCHEMA });
}

/**
 * Opens each component the configuration switches on, or its embedded twin, and applies migrations.
 * If any step fails, what was already opened is closed before the error is rethrown.
 */
export async function openResources(
  config: Config,
  logger: Logger,
  options: {
    /** A Kafka client to use instead of connecting to KAFKA_BROKERS (tests: the in-memory twin). */
    kafka?: KafkaClient;
  } = {},
): Promise<Resources> {
  const opened: Array<{ name: string; close: () => Promise<void> }> = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const r of opened.reverse()) {
        await r.close().catch((err: unknown) => logger.error({ err, component: r.name }, 'close failed'));
      }
    })());

  try {
    const db = await openDatabase(config, logger);
    opened.push({ name: db.kind, close: () => db.close() });
    if (config.MIGRATE_ON_START) await migrate(db, readMigrations(DEFAULTS.migrationsDir), logger);

    const store = config.REDIS_URL
      ? await (
          await import('./adapters/redis-store.ts')
        ).openRedisStore({ url: config.REDIS_URL, prefix: config.REDIS_KEY_PREFIX, logger })
      : (await import('./adapters/memory-store.ts')).createMemoryStore();
    opened.push({ name: store.kind, close: () => store.close() });

    let kafka: KafkaClient | undefined = options.kafka;
    if (!kafka && config.KAFKA_BROKERS) {
      kafka = await (
        await import('./kafka/kafkajs.ts')
      ).openKafkajs({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
    }
    if (kafka) {
      const client = kafka;
      opened.push({ name: 'kafka', close: () => client.close() });
      if (config.KAFKA_CREATE_TOPICS) {
        const spec = {
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          replication: config.KAFKA_TOPIC_REPLICATION,
        };
        await client.ensureTopics([
          { topic: config.KAFKA_TOPIC_CALLS, ...spec },
          { topic: config.KAFKA_TOPIC_DECISIONS, ...spec },
          { topic: config.KAFKA_TOPIC_DLQ, ...spec },
        ]);
      }
    }

    const checks: Record<string, () => Promise<void>> = {
      [db.kind]: () => db.ping(),
      [store.kind === 'redis' ? 'redis' : 'cache']: () => store.ping(),
    };
    return kafka ? { db, store, kafka, checks, close } : { db, store, checks, close };
  } catch (err) {
    await close();
    throw err;
  }
}
