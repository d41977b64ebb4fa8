import { z } from 'zod';
import {
  CategoryResultSchema,
  CommonTypeSchema,
  GateValueSchema,
  GateReasonSchema,
  ScreeningQuestionSchema,
} from './classification.ts';
import { RoutingSchema } from './routing.ts';

/**
 * The triage decision for one call event, as persisted, returned over REST and emitted on Kafka.
 * A dispatcher reads `summary` first; everything else says why.
 */
export const DecisionSchema = z
  .object({
    decisionId: z.uuid().describe('Unique id; consumers deduplicate on it'),
    eventId: z.string(),
    incidentId: z.string(),
    revision: z.number().int().min(1),
    jurisdiction: z.string(),
    agencyId: z.string(),
    supersedes: z
      .uuid()
      .nullable()
      .describe('The decision of the previous revision of this incident, if any'),
    occurredAt: z.string().describe('When CAD recorded the call event'),
    decidedAt: z.iso.datetime().describe('When this decision was made'),
    rulesVersion: z.string().describe('Content hash of the triage rules that made it'),
    policyVersion: z.string().describe('Content hash of the routing policies that made it'),
    summary: z.array(z.string()).min(1).max(3).describe('Why, in one to three plain lines'),
    commonType: CommonTypeSchema.optional().describe(
      'The APCO 2.103 common incident type of the call and how it was found (set on every decision; ' +
        'absent only on decisions stored before call-type crosswalks existed)',
    ),
    categories: z.array(CategoryResultSchema),
    gate: z.object({ value: GateValueSchema, reasons: z.array(GateReasonSchema) }),
    screeningQuestions: z
      .array(ScreeningQuestionSchema)
      .describe('Questions whose answers would settle an unknown'),
    ems: z.object({
      needed: z.boolean(),
      reasons: z.array(z.object({ ruleId: z.string(), reason: z.string() })),
    }),
    routing: RoutingSchema,
    repeatCalls: z
      .object({
        byAddress: z.number().int().min(0),
        byCaller: z.number().int().min(0),
        windowDays: z
          .object({ byAddress: z.number(), byCaller: z.number() })
          .describe("The jurisdiction policy's window lengths"),
      })
      .describe('Calls in the window from the same address and caller, this one included'),
    referral: z
      .object({ created: z.boolean(), referralId: z.uuid().optional() })
      .describe('Whether a follow-up referral was opened for the next shift'),
  })
  .meta({ id: 'Decision', description: 'A triage decision for one call event' });

export type Decision = z.infer<typeof DecisionSchema>;
