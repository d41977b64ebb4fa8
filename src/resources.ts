import type { Config } from './config.ts';
import { DEFAULTS } from './definitions.ts';
import type { Logger } from './logger.ts';
import type { Database } from './adapters/database.ts';
import type { KeyValueStore } from './adapters/store.ts';
import type { KafkaConnection } from './adapters/kafka.ts';
import { migrate, readMigrations } from './adapters/migrations.ts';

/** The external (or embedded) components the service runs on, chosen by the configuration. */
export interface Resources {
  db: Database;
  store: KeyValueStore;
  /** Absent on REST-only deployments (no KAFKA_BROKERS). */
  kafka?: KafkaConnection;
  /** One readiness probe per component, by name. */
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
export async function openResources(config: Config, logger: Logger): Promise<Resources> {
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

    let kafka: KafkaConnection | undefined;
    if (config.KAFKA_BROKERS) {
      kafka = await (
        await import('./adapters/kafka.ts')
      ).openKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
      opened.push({ name: 'kafka', close: () => kafka!.close() });
      if (config.KAFKA_CREATE_TOPICS) {
        const spec = {
          numPartitions: config.KAFKA_TOPIC_PARTITIONS,
          replicationFactor: config.KAFKA_TOPIC_REPLICATION,
        };
        await kafka.ensureTopics([
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
    if (kafka) checks.kafka = () => kafka.ping();
    return kafka ? { db, store, kafka, checks, close } : { db, store, checks, close };
  } catch (err) {
    await close();
    throw err;
  }
}
