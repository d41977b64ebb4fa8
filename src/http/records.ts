import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../adapters/database.ts';
import { DecisionSchema, type Decision } from '../domain/decision.ts';
import { ResponseModeSchema } from '../domain/routing.ts';
import { allows, jurisdictionId, type Principal } from '../auth/keys.ts';
import { AppError } from '../errors.ts';
import { principalOf } from './auth.ts';
import { ProblemSchema } from './problem.ts';
import { AUTH_PROBLEMS } from './responses.ts';

export const FeedbackSchema = z
  .object({
    action: z.enum(['accepted', 'overridden']).describe('Whether dispatch followed the recommendation'),
    modeSent: ResponseModeSchema.optional().describe('The response actually sent'),
    reason: z.string().max(2000).optional().describe('Why, in the dispatcher’s words'),
    disposition: z.string().max(200).optional().describe('How the call ended, when known'),
    submittedBy: z.string().max(200).optional(),
  })
  .meta({ id: 'Feedback' });

export const ReferralStatusSchema = z.enum(['open', 'assigned', 'contacted', 'closed']);

export const ReferralSchema = z
  .object({
    referralId: z.uuid(),
    decisionId: z.uuid(),
    incidentId: z.string(),
    jurisdiction: z.string(),
    poolId: z.string().nullable(),
    status: ReferralStatusSchema,
    reasons: z.array(z.string()),
    dueBy: z.string().nullable(),
    assignedTo: z.string().nullable(),
    outcome: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Referral', description: 'A follow-up referral in the social workers’ work queue' });

/** Allowed moves of a referral: forward through the queue, or straight to closed. */
const NEXT: Record<string, string[]> = {
  open: ['assigned', 'closed'],
  assigned: ['contacted', 'closed'],
  contacted: ['closed'],
  closed: [],
};

const ReferralPatchSchema = z
  .object({
    status: ReferralStatusSchema.exclude(['open']),
    assignedTo: z.string().min(1).max(200).optional(),
    outcome: z.string().min(1).max(2000).optional(),
  })
  .refine((p) => p.status !== 'assigned' || p.assignedTo, {
    error: 'assignedTo is required to assign',
    path: ['assignedTo'],
  })
  .refine((p) => p.status !== 'closed' || p.outcome, {
    error: 'outcome is required to close',
    path: ['outcome'],
  });

interface ReferralRow {
  referral_id: string;
  decision_id: string;
  incident_id: string;
  jurisdiction: string;
  pool_id: string | null;
  status: z.infer<typeof ReferralStatusSchema>;
  reasons: string[];
  due_by: Date | string | null;
  assigned_to: string | null;
  outcome: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
const toReferral = (r: ReferralRow) => ({
  referralId: r.referral_id,
  decisionId: r.decision_id,
  incidentId: r.incident_id,
  jurisdiction: r.jurisdiction,
  poolId: r.pool_id,
  status: r.status,
  reasons: r.reasons,
  dueBy: iso(r.due_by),
  assignedTo: r.assigned_to,
  outcome: r.outcome,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

const problems = { 400: ProblemSchema, ...AUTH_PROBLEMS, 404: ProblemSchema };

/** Small bodies: a feedback note or a referral update is never more than a few KiB. */
const SMALL_BODY = 16 * 1024;

/**
 * Decision lookup, dispatcher feedback and the follow-up referral queue. A record of a jurisdiction
 * the key may not see answers 404, as if it did not exist, so ids of other towns' records leak nothing.
 */
export const recordRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  const decision = async (principal: Principal, decisionId: string): Promise<Decision> => {
    const { rows } = await db.query<{ decision: Decision; jurisdiction: string }>(
      'SELECT decision, jurisdiction FROM decisions WHERE decision_id = $1',
      [decisionId],
    );
    if (!rows[0] || !allows(principal, rows[0].jurisdiction))
      throw new AppError('ERR_NOT_FOUND', `no decision ${decisionId}`);
    return rows[0].decision;
  };

  r.get(
    '/v1/decisions/:decisionId',
    {
      schema: {
        operationId: 'getDecision',
        tags: ['decisions'],
        summary: 'A decision by id',
        params: z.object({ decisionId: z.uuid() }),
        response: { 200: DecisionSchema, ...problems },
      },
      config: { access: ['dispatch', 'vendor', 'admin'] },
    },
    async (req) => decision(principalOf(req), req.params.decisionId),
  );

  r.get(
    '/v1/incidents/:incidentId/decisions',
    {
      schema: {
        operationId: 'listIncidentDecisions',
        tags: ['decisions'],
        summary: 'Every decision of an incident, oldest revision first',
        params: z.object({ incidentId: z.string().min(1).max(128) }),
        response: {
          200: z.object({ incidentId: z.string(), decisions: z.array(DecisionSchema) }),
          ...problems,
        },
      },
      config: { access: ['dispatch', 'vendor', 'admin'] },
    },
    async (req) => {
      const principal = principalOf(req);
      // Incident numbers are unique per jurisdiction only: list the ones this key may see.
      const { rows: all } = await db.query<{ decision: Decision }>(
        'SELECT decision FROM decisions WHERE incident_id = $1 ORDER BY jurisdiction, revision, decided_at',
        [req.params.incidentId],
      );
      const rows = all.filter((r) => allows(principal, r.decision.jurisdiction));
      if (rows.length === 0)
        throw new AppError('ERR_NOT_FOUND', `no decisions for incident ${req.params.incidentId}`);
      return { incidentId: req.params.incidentId, decisions: rows.map((x) => x.decision) };
    },
  );

  r.post(
    '/v1/decisions/:decisionId/feedback',
    {
      schema: {
        operationId: 'recordFeedback',
        tags: ['decisions'],
        summary: 'Record what dispatch actually did with a decision',
        params: z.object({ decisionId: z.uuid() }),
        body: FeedbackSchema,
        response: {
          201: z.object({ feedbackId: z.uuid(), decisionId: z.uuid() }),
          ...problems,
          413: ProblemSchema,
          415: ProblemSchema,
        },
      },
      config: { access: ['dispatch', 'admin'] },
      bodyLimit: SMALL_BODY,
    },
    async (req, reply) => {
      await decision(principalOf(req), req.params.decisionId);
      const feedbackId = randomUUID();
      const b = req.body;
      await db.query(
        `INSERT INTO feedback (feedback_id, decision_id, action, mode_sent, reason, disposition, submitted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          feedbackId,
          req.params.decisionId,
          b.action,
          b.modeSent ?? null,
          b.reason ?? null,
          b.disposition ?? null,
          b.submittedBy ?? null,
        ],
      );
      return reply.status(201).send({ feedbackId, decisionId: req.params.decisionId });
    },
  );

  r.get(
    '/v1/referrals',
    {
      schema: {
        operationId: 'listReferrals',
        tags: ['referrals'],
        summary: 'The follow-up work queue, oldest first',
        description: 'Only referrals of the jurisdictions the key may see are listed.',
        querystring: z.object({
          jurisdiction: z.string().min(1).max(64).optional(),
          status: ReferralStatusSchema.optional(),
          pool: z.string().min(1).max(64).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          after: z.uuid().optional().describe('The last referralId of the previous page'),
        }),
        response: {
          200: z.object({ referrals: z.array(ReferralSchema), next: z.uuid().nullable() }),
          ...problems,
        },
      },
      config: { access: ['dispatch', 'admin'] },
    },
    async (req) => {
      const principal = principalOf(req);
      const q = req.query;
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        params.push(v);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (!principal.jurisdictions.includes('*')) add('jurisdiction = ANY(?)', principal.jurisdictions);
      if (q.jurisdiction) add('jurisdiction = ?', jurisdictionId(q.jurisdiction));
      if (q.status) add('status = ?', q.status);
      if (q.pool) add('pool_id = ?', q.pool);
      if (q.after)
        add(
          '(created_at, referral_id) > (SELECT created_at, referral_id FROM referrals WHERE referral_id = ?)',
          q.after,
        );
      params.push(q.limit + 1);
      const { rows } = await db.query<ReferralRow>(
        `SELECT * FROM referrals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at, referral_id LIMIT $${params.length}`,
        params,
      );
      const page = rows.slice(0, q.limit).map(toReferral);
      return { referrals: page, next: rows.length > q.limit ? page.at(-1)!.referralId : null };
    },
  );

  r.patch(
    '/v1/referrals/:referralId',
    {
      schema: {
        operationId: 'updateReferral',
        tags: ['referrals'],
        summary: 'Move a referral through the queue: assign, contacted, closed with an outcome',
        params: z.object({ referralId: z.uuid() }),
        body: ReferralPatchSchema,
        response: {
          200: ReferralSchema,
          ...problems,
          409: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
        },
      },
      config: { access: ['dispatch', 'admin'] },
      bodyLimit: SMALL_BODY,
    },
    async (req) => {
      const principal = principalOf(req);
      const { referralId } = req.params;
      const b = req.body;
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<ReferralRow>(
          'SELECT * FROM referrals WHERE referral_id = $1 FOR UPDATE',
          [referralId],
        );
        const current = rows[0];
        if (!current || !allows(principal, current.jurisdiction))
          throw new AppError('ERR_NOT_FOUND', `no referral ${referralId}`);
        if (!NEXT[current.status]!.includes(b.status)) {
          throw new AppError(
            'ERR_REFERRAL_TRANSITION',
            `a ${current.status} referral cannot become ${b.status}`,
          );
        }
        const updated = await tx.query<ReferralRow>(
          `UPDATE referrals SET status = $2, assigned_to = COALESCE($3, assigned_to), outcome = COALESCE($4, outcome),
             updated_at = now(),
             assigned_at = CASE WHEN $2 = 'assigned' THEN COALESCE(assigned_at, now()) ELSE assigned_at END,
             contacted_at = CASE WHEN $2 = 'contacted' THEN COALESCE(contacted_at, now()) ELSE contacted_at END,
             closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END
           WHERE referral_id = $1 RETURNING *`,
          [referralId, b.status, b.assignedTo ?? null, b.outcome ?? null],
        );
        return toReferral(updated.rows[0]!);
      });
    },
  );
};
