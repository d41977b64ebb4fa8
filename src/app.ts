import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
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
import { healthRoutes } from './http/health.ts';
import { triageRoutes } from './http/triage.ts';
import { recordRoutes } from './http/records.ts';
import type { Metrics } from './metrics.ts';
import type { TriageDeps } from './triage/pipeline.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  resources: Pick<Resources, 'checks'>;
  /** The triage pipeline; absent in apps built for health-only tests. */
  triage?: { deps: TriageDeps; metrics: Metrics };
}

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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cad-triage',
        version: '1.0.0',
        description:
          'Triage of 911 CAD call events into co-responder routing decisions with a scene-safety gate.',
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, { checks: deps.resources.checks });
  if (deps.triage) {
    const { registry } = deps.triage.metrics;
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
    await app.register(triageRoutes, deps.triage);
    await app.register(recordRoutes, { db: deps.triage.deps.db });
  }
  return app;
}
