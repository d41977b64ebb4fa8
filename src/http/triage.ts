import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allows } from '../auth/keys.ts';
import { MAX_EVENT_BYTES } from '../definitions.ts';
import { CallEventSchema } from '../domain/call-event.ts';
import { DecisionSchema } from '../domain/decision.ts';
import { AppError } from '../errors.ts';
import { recordOutcome, type Metrics } from '../metrics.ts';
import { type TriageDeps, triage } from '../triage/pipeline.ts';
import { principalOf } from './auth.ts';
import { ProblemSchema, problem } from './problem.ts';
import { AUTH_PROBLEMS } from './responses.ts';

/** The body's jurisdiction, read leniently: the pipeline does the real validation. */
function claimed(body: unknown): { jurisdiction?: string } {
  const b = body as { agency?: { jurisdiction?: unknown } } | null;
  return typeof b?.agency?.jurisdiction === 'string' ? { jurisdiction: b.agency.jurisdiction } : {};
}

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
        operationId: 'triageCall',
        tags: ['triage'],
        summary: 'Triage a call event',
        description:
          'Classifies the call, gates scene safety, routes it by the jurisdiction policy, stores the decision and returns it. ' +
          'Sending the same eventId again returns the stored decision. A key may only triage calls of its own jurisdictions ' +
          '(403 otherwise, also for an incident id already recorded under another jurisdiction).',
        body: CallEventSchema,
        response: {
          200: DecisionSchema,
          400: ProblemSchema,
          ...AUTH_PROBLEMS,
          409: ProblemSchema.extend({ currentDecisionId: z.uuid().nullable() }),
          413: ProblemSchema,
          415: ProblemSchema,
          503: ProblemSchema,
        },
      },
      config: { access: ['dispatch', 'vendor', 'admin'] },
      bodyLimit: MAX_EVENT_BYTES,
      // The pipeline validates; the schema above documents the contract.
      validatorCompiler: () => (data) => ({ value: data }),
      // The hot route: its bodies are built by the pipeline as typed values (a contract test checks
      // them against the document), so they are not parsed again by zod before being sent.
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (req, reply) => {
      const principal = principalOf(req);
      if (!principal.jurisdictions.includes('*')) {
        const { jurisdiction } = claimed(req.body);
        if (jurisdiction !== undefined && !allows(principal, jurisdiction)) {
          throw new AppError(
            'ERR_FORBIDDEN',
            `this key may not triage calls of jurisdiction ${jurisdiction}`,
          );
        }
      }
      metrics.eventsIn.inc({ transport: 'rest' });
      const end = metrics.processing.startTimer({ transport: 'rest' });
      const outcome = await triage(req.body, deps);
      end();
      recordOutcome(metrics, 'rest', outcome);
      switch (outcome.kind) {
        case 'invalid': {
          // Paths as in every other route's validation errors: "body.agency.jurisdiction".
          const errors = outcome.errors.map((e) => ({
            ...e,
            path: e.path === '(root)' ? 'body' : `body.${e.path}`,
          }));
          return reply
            .status(400)
            .type('application/problem+json')
            .send(
              problem(
                'ERR_VALIDATION',
                `${errors.length} invalid field(s): ${errors.map((e) => e.path).join(', ')}`,
                { errors },
              ),
            );
        }
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
          // An event id is global: a repeat of another jurisdiction's event must not show its decision.
          if (!allows(principal, outcome.decision.jurisdiction)) {
            throw new AppError('ERR_FORBIDDEN', 'this event id cannot be used by this key');
          }
          // Stored, but its emit on Kafka failed and is being retried in the background: said in a header,
          // so the caller does not resend (nor count a 503 for) a call that was decided.
          if (outcome.emitted === false) void reply.header('x-decision-emit', 'pending');
          return reply.status(200).send(outcome.decision);
      }
    },
  );
};
