import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CallEventSchema } from '../domain/call-event.ts';
import { DecisionSchema } from '../domain/decision.ts';
import { recordOutcome, type Metrics } from '../metrics.ts';
import { type TriageDeps, triage } from '../triage/pipeline.ts';
import { ProblemSchema, problem } from './problem.ts';

/**
 * `POST /v1/triage`: the REST door to the same pipeline Kafka uses. Idempotent on `eventId`: a
 * repeated event returns the stored decision. The pipeline validates the body itself (one validation
 * for both transports), so the route only declares the schema for the contract.
 */
export const triageRoutes: FastifyPluginAsync<{ deps: TriageDeps; metrics: Metrics }> = async (
  app,
  { deps, metrics },
) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/triage',
    {
      schema: {
        tags: ['triage'],
        summary: 'Triage a call event',
        description:
          'Classifies the call, gates scene safety, routes it by the jurisdiction policy, stores the decision and returns it. ' +
          'Sending the same eventId again returns the stored decision.',
        body: CallEventSchema,
        response: {
          200: DecisionSchema,
          400: ProblemSchema,
          409: ProblemSchema.extend({ currentDecisionId: z.uuid().nullable() }),
          503: ProblemSchema,
        },
      },
      // The pipeline validates; the schema above documents the contract.
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (req, reply) => {
      metrics.eventsIn.inc({ transport: 'rest' });
      const end = metrics.processing.startTimer({ transport: 'rest' });
      const outcome = await triage(req.body, deps);
      end();
      recordOutcome(metrics, 'rest', outcome);
      switch (outcome.kind) {
        case 'invalid':
          return reply
            .status(400)
            .type('application/problem+json')
            .send(
              problem(
                'ERR_VALIDATION',
                `${outcome.errors.length} invalid field(s): ${outcome.errors.map((e) => e.path).join(', ')}`,
                {
                  errors: outcome.errors,
                },
              ),
            );
        case 'stale':
          return reply
            .status(409)
            .type('application/problem+json')
            .send({
              ...problem(
                'ERR_STALE_REVISION',
                `incident ${outcome.incidentId} already has a decision for revision ${outcome.revision} or later; this event was recorded, not decided`,
              ),
              currentDecisionId: outcome.currentDecisionId,
            });
        default:
          return reply.status(200).send(outcome.decision);
      }
    },
  );
};
