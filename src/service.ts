/**
 * Assembles the running service from a configuration: resources (database, cache, Kafka), the rules
 * and routing-policy stores, the triage pipeline, the Kafka consumer and the HTTP app. No environment
 * reads and no listening here — `server.ts` does that — so tests start a whole service in-process.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { openResources, type Resources } from './resources.ts';
import { buildApp } from './app.ts';
import { ensureFirstKey } from './auth/keys.ts';
import { createRulesStore, type RulesStore } from './rules/index.ts';
import { createPolicyStore, type PolicyStore } from './routing/index.ts';
import type { TriageDeps } from './triage/pipeline.ts';
import { createRecorder } from './triage/recorder.ts';
import { startNarrativePurge } from './triage/retention.ts';
import { createCallConsumer, createDecisionEmitter } from './triage/kafka-pipeline.ts';
import { createDeadLetterArchive } from './adapters/dead-letters.ts';
import type { KafkaClient } from './kafka/types.ts';
import type { ConsumerLoop } from './kafka/consumer-loop.ts';

export interface Service {
  app: FastifyInstance;
  resources: Resources;
  rules: RulesStore;
  policies: PolicyStore;
  metrics: Metrics;
  deps: TriageDeps;
  /** The Kafka call consumer, when Kafka is configured; it joins its group in the background. */
  consumer?: ConsumerLoop;
  /** Stops intake first, then closes everything in reverse order of opening. Idempotent. */
  close(): Promise<void>;
}

export async function startService(
  config: Config,
  logger: Logger,
  options: {
    now?: () => Date;
    watchRules?: boolean;
    /** A Kafka client instead of KAFKA_BROKERS (tests: the in-memory twin, kafka/memory.ts). */
    kafka?: KafkaClient;
    /** How long a partition with lag may stand still before it is reported stalled (ms). */
    stallAfterMs?: number;
  } = {},
): Promise<Service> {
  const closers: Array<() => Promise<void>> = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const c of closers.reverse()) {
        await c().catch((err: unknown) => logger.error({ err }, 'close failed'));
      }
    })());

  try {
    const rules = createRulesStore({ dir: config.RULES_DIR, logger, watch: options.watchRules ?? true });
    const policies = createPolicyStore({
      dir: join(config.RULES_DIR, 'policies'),
      logger,
      watch: options.watchRules ?? true,
    });
    // Opened side by side: compiling the rules takes CPU while the connections wait on the network,
    // and a restarted replica should serve as soon as it can.
    const [opened, rulesStarted, policiesStarted] = await Promise.allSettled([
      openResources(config, logger, options.kafka ? { kafka: options.kafka } : {}),
      rules.start(),
      policies.start(),
    ]);
    if (opened.status === 'fulfilled') closers.push(() => opened.value.close());
    if (rulesStarted.status === 'fulfilled') closers.push(() => rules.stop());
    if (policiesStarted.status === 'fulfilled') closers.push(() => policies.stop());
    for (const r of [opened, rulesStarted, policiesStarted]) if (r.status === 'rejected') throw r.reason;
    const resources = (opened as PromiseFulfilledResult<Resources>).value;

    const metrics = createMetrics();
    const showVersions = () => {
      metrics.versions.reset();
      metrics.versions.set({ kind: 'rules', version: rules.current().version }, 1);
      metrics.versions.set({ kind: 'policy', version: policies.current().version }, 1);
    };
    showVersions();
    rules.onChange(showVersions);
    policies.onChange(showVersions);

    if (!config.PII_HASH_KEY) {
      logger.warn(
        'PII_HASH_KEY is not set: using a random key, so repeat-call counts do not survive a restart',
      );
    }
    const deps: TriageDeps = {
      db: resources.db,
      recorder: createRecorder(resources.db),
      store: resources.store,
      rules: () => rules.current(),
      policies: () => policies.current(),
      piiKey: config.PII_HASH_KEY ?? randomBytes(32).toString('hex'),
      keepNarratives: config.NARRATIVE_RETENTION_DAYS > 0,
      now: options.now ?? (() => new Date()),
      logger,
    };

    const purge = startNarrativePurge(resources.db, config, logger, deps.now);
    closers.push(() => purge.stop());

    let consumer: ConsumerLoop | undefined;
    if (resources.kafka) {
      const client = resources.kafka;
      const producer = await client.producer();
      closers.push(() => producer.close());
      const emitter = createDecisionEmitter(producer, config.KAFKA_TOPIC_DECISIONS, logger);
      closers.push(() => emitter.close());
      deps.emit = emitter.emit;
      deps.emitLater = emitter.retryLater;
      const loop = createCallConsumer({
        client,
        producer,
        archive: createDeadLetterArchive(resources.db),
        groupId: config.KAFKA_GROUP_ID,
        topic: config.KAFKA_TOPIC_CALLS,
        dlqTopic: config.KAFKA_TOPIC_DLQ,
        decisionsTopic: config.KAFKA_TOPIC_DECISIONS,
        deps,
        metrics,
        logger,
        ...(options.stallAfterMs !== undefined ? { stallAfterMs: options.stallAfterMs } : {}),
        healthy: async () => {
          await Promise.all([resources.db.ping(), resources.store.ping(), client.ping()]);
          return true;
        },
      });
      consumer = loop;
      // Joined in the background: after a crash the group waits for the dead member's session to
      // time out (~30 s), and REST must serve meanwhile. /health reports the consumer's state.
      loop.start().then(
        () => logger.info({ groupId: config.KAFKA_GROUP_ID }, 'kafka consumer joined its group'),
        (err: unknown) => logger.error({ err }, 'kafka consumer could not join its group'),
      );
      // Closed first: stop taking events before anything they need goes away.
      closers.push(() => loop.stop());
    }

    // The embedded default's first start makes a local admin key and shows it once; with PostgreSQL,
    // keys are made with `npx cad-triage keys create`.
    if (config.AUTH_MODE === 'keys' && !config.DATABASE_URL) await ensureFirstKey(resources.db, logger);
    const app = await buildApp({
      config,
      logger,
      resources,
      triage: { deps, metrics },
      admin: { rules, policies },
      ...(resources.kafka && consumer
        ? {
            kafka: {
              ping: () => resources.kafka!.ping(),
              consumer: consumer.state,
            },
          }
        : {}),
    });
    closers.push(() => app.close());
    return { app, resources, rules, policies, metrics, deps, ...(consumer ? { consumer } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}
