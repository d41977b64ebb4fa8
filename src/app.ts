import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifySchema } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { Resources } from './resources.ts';
import { installProblemHandler } from './http/problem.ts';
import { healthRoutes, type KafkaHealth } from './http/health.ts';
import { triageRoutes } from './http/triage.ts';
import { recordRoutes } from './http/records.ts';
import { reportRoutes } from './http/reports.ts';
import { uiRoutes } from './http/ui.ts';
import { adminRoutes } from './http/admin.ts';
import { authPlugin, type Access } from './http/auth.ts';
import { dollarPropertiesAsPatterns, pruneUnusedSchemas } from './http/openapi.ts';
import type { Metrics } from './metrics.ts';
import type { RulesStore } from './rules/index.ts';
import type { PolicyStore } from './routing/index.ts';
import type { TriageDeps } from './triage/pipeline.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  resources: Pick<Resources, 'checks'>;
  /** The triage pipeline; absent in apps built for health-only tests (which then have no access control). */
  triage?: { deps: TriageDeps; metrics: Metrics };
  /** The rules and policy stores, for the admin routes. */
  admin?: { rules: RulesStore; policies: PolicyStore };
  /** Kafka's health, reported apart from the checks REST needs. */
  kafka?: KafkaHealth;
  /** How long a key lookup is cached in process (default 5 s); tests that revoke keys use 0. */
  authCacheMs?: number;
}

/** Every keyed route accepts either header; the OpenAPI document says so per operation. */
const KEYED: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

/**
 * Builds the HTTP application. No side effects: it opens nothing and listens on nothing, so tests
 * build a fresh app per test and `server.ts` is the only place that reads the environment.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    // Request ids from the CAD or the gateway are kept so one call can be followed across systems.
    requestIdHeader: 'x-request-id',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandler(app);
  // The API speaks JSON only: a text/plain body is refused with 415 rather than triaged as a string.
  app.removeContentTypeParser('text/plain');

  // The contract states who may call each route, from the same `config.access` the auth hook reads.
  // Added before @fastify/swagger so the document sees the result.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (FastifySchema & { hide?: boolean }) | undefined;
    if (!schema || schema.hide) return;
    const access: Access = route.config?.access ?? ['admin'];
    const roles = access === 'public' ? 'open to everyone, no key needed' : `roles: ${access.join(', ')}`;
    route.schema = {
      ...schema,
      description: schema.description ? `${schema.description}\n\nAccess: ${roles}.` : `Access: ${roles}.`,
      security: access === 'public' ? [] : KEYED,
    };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cad-triage',
        version: '1.0.0',
        description:
          'Triage of 911 CAD call events into co-responder routing decisions with a scene-safety gate. ' +
          'Every error is application/problem+json (RFC 9457) with a stable `code`; see docs/errors.md.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: 'http://127.0.0.1:8080', description: 'The embedded default (scripts/run.sh)' }],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (ct_<id>_<secret>) from `npx cad-triage keys create`',
          },
          apiKeyHeader: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'The same key, in x-api-key',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => dollarPropertiesAsPatterns(pruneUnusedSchemas(jsonSchemaTransformObject(doc))),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  if (deps.triage) {
    const { config } = deps;
    if (config.AUTH_MODE === 'off') {
      deps.logger.warn(
        { authMode: 'off' },
        'AUTH_MODE=off: the REST API is open to anyone who can reach it, with admin rights everywhere; for local trials only',
      );
    }
    await app.register(authPlugin, {
      mode: config.AUTH_MODE,
      db: deps.triage.deps.db,
      store: deps.triage.deps.store,
      ratePerMinute: config.RATE_LIMIT_PER_MINUTE,
      failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
      ...(deps.authCacheMs !== undefined ? { cacheMs: deps.authCacheMs } : {}),
    });
  }

  await app.register(healthRoutes, { checks: deps.resources.checks, kafka: deps.kafka });
  if (deps.triage) {
    const { registry } = deps.triage.metrics;
    app.get(
      '/metrics',
      {
        schema: { hide: true },
        config: { access: deps.config.METRICS_PUBLIC ? 'public' : ['admin'] },
      },
      async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
    await app.register(triageRoutes, deps.triage);
    await app.register(recordRoutes, { db: deps.triage.deps.db });
    await app.register(uiRoutes);
    await app.register(reportRoutes, {
      db: deps.triage.deps.db,
      policies: deps.triage.deps.policies,
      now: deps.triage.deps.now,
    });
    if (deps.admin)
      await app.register(adminRoutes, {
        ...deps.admin,
        db: deps.triage.deps.db,
        now: deps.triage.deps.now,
      });
  }
  return app;
}
