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
import { createCallConsumer, openDecisionProducer } from './triage/kafka-pipeline.ts';

export interface Service {
  app: FastifyInstance;
  resources: Resources;
  rules: RulesStore;
  policies: PolicyStore;
  metrics: Metrics;
  deps: TriageDeps;
  /** Stops intake first, then closes everything in reverse order of opening. Idempotent. */
  close(): Promise<void>;
}

export async function startService(
  config: Config,
  logger: Logger,
  options: { now?: () => Date; watchRules?: boolean } = {},
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
    const resources = await openResources(config, logger);
    closers.push(() => resources.close());

    const rules = createRulesStore({ dir: config.RULES_DIR, logger, watch: options.watchRules ?? true });
    await rules.start();
    closers.push(() => rules.stop());
    const policies = createPolicyStore({
      dir: join(config.RULES_DIR, 'policies'),
      logger,
      watch: options.watchRules ?? true,
    });
    await policies.start();
    closers.push(() => policies.stop());

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

    if (resources.kafka) {
      const kafka = resources.kafka.kafka;
      const producer = await openDecisionProducer(kafka, config.KAFKA_TOPIC_DECISIONS);
      closers.push(() => producer.close());
      deps.emit = producer.emit;
      const consumer = createCallConsumer({
        kafka,
        producer: producer.producer,
        groupId: config.KAFKA_GROUP_ID,
        topic: config.KAFKA_TOPIC_CALLS,
        dlqTopic: config.KAFKA_TOPIC_DLQ,
        decisionsTopic: config.KAFKA_TOPIC_DECISIONS,
        deps,
        metrics,
        logger,
        healthy: async () => {
          await Promise.all([resources.db.ping(), resources.store.ping()]);
          return true;
        },
      });
      await consumer.start();
      // Closed first: stop taking events before anything they need goes away.
      closers.push(() => consumer.stop());
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
    });
    closers.push(() => app.close());
    return { app, resources, rules, policies, metrics, deps, close };
  } catch (err) {
    await close();
    throw err;
  }
}
