import { z } from 'zod';
import { PrioritySchema } from './call-event.ts';
import { GateValueSchema } from './classification.ts';

/**
 * The routing contract: what `route()` is given (the rules engine's output plus repeat-call counts)
 * and what it recommends. The recommendation is part of every decision, so every name here is
 * part of the public contract (REST, Kafka, the audit table).
 */

export const RESPONSE_MODES = [
  'police_only',
  'co_response',
  'civilian_only',
  'mobile_crisis',
  'referral',
] as const;

export const ResponseModeSchema = z
  .enum(RESPONSE_MODES)
  .describe(
    'police_only; co_response: police with a civilian responder; civilian_only: a civilian responder alone; ' +
      'mobile_crisis: a mobile crisis team alone; referral: a referral line (211 / 988), nobody sent',
  );
export type ResponseMode = z.infer<typeof ResponseModeSchema>;

export const PoliceRoleSchema = z
  .enum(['primary', 'secure_first', 'accompany', 'none'])
  .describe(
    'primary: police handle the call; secure_first: police secure the scene before the civilian engages; ' +
      'accompany: police go with the civilian; none: no police',
  );
export type PoliceRole = z.infer<typeof PoliceRoleSchema>;

/** The responder models of the Connecticut police social work reports (see the seeds). */
export const POOL_MODELS = [
  'embedded',
  'contracted',
  'town_department',
  'municipal_agency',
  'intern',
  'mobile_crisis',
  'referral_line',
] as const;
export const PoolModelSchema = z.enum(POOL_MODELS);
export type PoolModel = z.infer<typeof PoolModelSchema>;

export const PASS_OVER_REASONS = [
  'category_not_handled',
  'age_not_served',
  'off_duty',
  'gate_forbids',
  'not_alone_capable',
  'urgent',
] as const;
export const PassOverReasonSchema = z
  .enum(PASS_OVER_REASONS)
  .describe(
    'category_not_handled; age_not_served; off_duty; gate_forbids: the safety gate rules this pool out; ' +
      'not_alone_capable: the pool may only co-respond (interns); urgent: a referral line cannot take an urgent call',
  );
export type PassOverReason = z.infer<typeof PassOverReasonSchema>;

export const RouteInputSchema = z
  .object({
    jurisdiction: z
      .string()
      .min(1)
      .describe('Picks the routing policy; unknown ones get the `default` policy'),
    categories: z
      .array(z.string())
      .describe('Categories from the rules engine; empty for an ordinary police call'),
    gate: GateValueSchema,
    emsNeeded: z.boolean(),
    urgent: z
      .boolean()
      .optional()
      .describe('The call cannot wait (e.g. a high CAD priority): a referral line alone is never enough'),
    priority: PrioritySchema.optional().describe(
      "The CAD priority (1 is the most urgent); at or above the jurisdiction's urgentPriority the call is urgent",
    ),
    subjectAges: z.array(z.number().int().min(0).max(150)).optional(),
    repeatCalls: z
      .object({ byAddress: z.number().int().min(0), byCaller: z.number().int().min(0) })
      .optional()
      .describe('Calls in the counting window from the same address and caller, this one included'),
  })
  .meta({ id: 'RouteInput' });
export type RouteInput = z.infer<typeof RouteInputSchema>;

export const RoutingSchema = z
  .object({
    policyVersion: z
      .string()
      .optional()
      .describe('Content hash of the routing policies (filled by the pipeline)'),
    jurisdiction: z
      .string()
      .describe("The policy used: the call's jurisdiction, or 'default' when it has none"),
    mode: ResponseModeSchema,
    policeRole: PoliceRoleSchema,
    pool: z
      .object({
        id: z.string(),
        name: z.string(),
        model: PoolModelSchema,
        contact: z.string().optional(),
        onCall: z.boolean().optional().describe('Available on call: phone them, they are not on patrol'),
        onDutyUntil: z
          .string()
          .optional()
          .describe("Local end of the current shift, 'HH:MM'; absent when always on"),
      })
      .nullable()
      .describe('The responder pool chosen; null when police go alone'),
    passedOver: z
      .array(z.object({ poolId: z.string(), reason: PassOverReasonSchema, detail: z.string() }))
      .describe('Pools considered before the one chosen, in the order tried, and why each was not chosen'),
    fallback: z
      .object({ taken: z.boolean(), reason: z.string().optional() })
      .describe(
        "Whether the jurisdiction's fallback list was used because none of its own pools was suitable",
      ),
    ems: z.boolean(),
    followUp: z.object({
      referral: z.boolean().describe('Whether a follow-up referral should be opened'),
      poolId: z.string().optional().describe('The pool that will follow up'),
      reasons: z.array(z.string()),
      dueBy: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('Start of the next shift of the follow-up pool (now when on duty)'),
    }),
    summary: z.string().describe('One plain line for the dispatcher'),
  })
  .meta({ id: 'Routing', description: 'The recommended response and why' });
export type Routing = z.infer<typeof RoutingSchema>;
