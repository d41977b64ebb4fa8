import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allows } from '../auth/keys.ts';
import { MAX_EVENT_BYTES } from '../definitions.ts';
import { CallEventSchema } from '../domain/call-event.ts';
import { DecisionSchema } from '../domain/decision.ts';
import { EIDO_MEDIA_TYPE, EidoSchema, eidoToCallEvent, type EidoError } from '../adapters/eido/index.ts';
import { AppError } from '../errors.ts';
import { recordOutcome, type Metrics } from '../metrics.ts';
import { eidoContext } from '../triage/eido-context.ts';
import { mediaType } from '../triage/kafka-records.ts';
import { type TriageDeps, triage } from '../triage/pipeline.ts';
import { principalOf } from './auth.ts';
import { ProblemSchema, problem } from './problem.ts';
import { AUTH_PROBLEMS } from './responses.ts';

/** The body's jurisdiction, read leniently: the pipeline does the real validation. */
function claimed(body: unknown): { jurisdiction?: string } {
  const b = body as { agency?: { jurisdiction?: unknown } } | null;
  return typeof b?.agency?.jurisdiction === 'string' ? { jurisdiction: b.agency.jurisdiction } : {};
}

/** A 400 naming each failing EIDO field by JSON pointer, with its code; never its value. */
function eidoProblem(errors: readonly EidoError[]): AppError {
  return new AppError(
    'ERR_EIDO_INVALID',
    `${errors.length} problem(s) in the EIDO: ${errors.map((e) => e.pointer || '(document)').join(', ')}`,
    {
      extra: {
        errors: errors.map((e) => ({
          path: e.pointer,
          pointer: e.pointer,
          code: e.code,
          message: e.message,
        })),
      },
    },
  );
}

const isEido = (req: FastifyRequest) => {
  const type = req.headers['content-type'];
  return typeof type === 'string' && mediaType(type) === EIDO_MEDIA_TYPE;
};

/**
 * `POST /v1/triage`: the REST door to the same pipeline Kafka uses. Idempotent on `eventId`: a
 * repeated event returns the stored decision. The pipeline validates the body itself (one validation
 * for both transports), so the route only declares the schema for the contract.
 */
export const triageRoutes: FastifyPluginAsync<{ deps: TriageDeps; metrics: Metrics }> = async (
  app,
  { deps, metrics },
) => {
  /** The one answer of both routes, from a call event (parsed JSON, validated by the pipeline). */
  const decide = async (req: FastifyRequest, reply: FastifyReply, body: unknown) => {
    const principal = principalOf(req);
    if (!principal.jurisdictions.includes('*')) {
      const { jurisdiction } = claimed(body);
      if (jurisdiction !== undefined && !allows(principal, jurisdiction)) {
        throw new AppError('ERR_FORBIDDEN', `this key may not triage calls of jurisdiction ${jurisdiction}`);
      }
    }
    metrics.eventsIn.inc({ transport: 'rest' });
    const end = metrics.processing.startTimer({ transport: 'rest' });
    const outcome = await triage(body, deps);
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
  };

  /** An EIDO body: mapped to a call event (400 naming the JSON pointers of what is wrong), then decided. */
  const decideEido = async (req: FastifyRequest, reply: FastifyReply) => {
    const mapped = eidoToCallEvent(req.body, eidoContext(deps));
    if (!mapped.ok) {
      metrics.eventsIn.inc({ transport: 'rest' });
      metrics.outcomes.inc({ transport: 'rest', outcome: 'invalid' });
      throw eidoProblem(mapped.errors);
    }
    return decide(req, reply, mapped.call);
  };

  // NENA's EIDO media type (with or without `;version="1"`), parsed as JSON with Fastify's own
  // parser (prototype-poisoning checks); a body that is not JSON is a 400 with the document pointer.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    EIDO_MEDIA_TYPE,
    { parseAs: 'string', bodyLimit: MAX_EVENT_BYTES },
    (req, body, done) =>
      parseJson(req, body as string, (err, value) => {
        if (err) {
          done(
            eidoProblem([{ pointer: '', code: 'ERR_EIDO_SCHEMA', message: 'the body is not JSON' }]),
            undefined,
          );
        } else done(null, value);
      }),
  );

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
          '(403 otherwise, also for an incident id already recorded under another jurisdiction). ' +
          `A body sent as ${EIDO_MEDIA_TYPE} is a NENA EIDO and is handled as by POST /v1/triage/eido.`,
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
    async (req, reply) => (isEido(req) ? decideEido(req, reply) : decide(req, reply, req.body)),
  );

  const shared = {
    config: { access: ['dispatch', 'vendor', 'admin'] as const },
    bodyLimit: MAX_EVENT_BYTES,
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  };
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/triage/eido',
    {
      schema: {
        operationId: 'triageEido',
        tags: ['triage'],
        summary: 'Triage a NENA EIDO incident',
        description:
          `Maps a NENA EIDO (NENA-STA-021; send it as ${EIDO_MEDIA_TYPE}, or application/json) to a call event and triages it as POST /v1/triage does. ` +
          "The incident's common incident type becomes the APCO 2.103 type (callType.commonType), its internal code and text the agency's call type; " +
          'notes become the narrative, person components the subjects, the incident location the location. The jurisdiction is the routing policy that ' +
          "lists the EIDO agency's $id under `agencies`. The same EIDO sent again (same $id and lastUpdateTimeStamp) returns the stored decision; " +
          'a later lastUpdateTimeStamp is a later revision. A malformed EIDO is a 400 ERR_EIDO_INVALID whose errors name each failing field by JSON pointer.',
        consumes: [EIDO_MEDIA_TYPE, 'application/json'],
        body: EidoSchema,
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
      ...shared,
    },
    async (req, reply) => decideEido(req, reply),
  );
};
