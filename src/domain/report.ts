import { z } from 'zod';

/**
 * The outcome report of one or more jurisdictions over a period (src/reports/summary.ts): the
 * figures a town manager, a chief or a grant application asks for. Counts only: nothing personal.
 */
const AcceptanceSchema = z.object({
  withFeedback: z.number().int(),
  accepted: z.number().int(),
  overridden: z.number().int(),
  overrideRate: z.number().nullable().describe('overridden / withFeedback; null without feedback'),
});

const HourOfWeekSchema = z.object({
  day: z.number().int().min(1).max(7).describe('ISO day of the week, 1 = Monday'),
  hour: z.number().int().min(0).max(23).describe('Local hour'),
  calls: z.number().int(),
});

const TrendSchema = z.object({
  subjects: z
    .number()
    .int()
    .describe('People (or addresses) whose first referral and whole after-window fall in range'),
  callsBefore: z.number().int(),
  callsAfter: z.number().int(),
  change: z.number().nullable().describe('(after - before) / before; null when there were no calls before'),
});

const count = () => z.number().int();

export const ReportSchema = z
  .object({
    jurisdictions: z.array(z.string()).nullable().describe('null = every jurisdiction'),
    from: z.iso.datetime(),
    to: z.iso.datetime().describe('Exclusive'),
    timeZone: z.string().describe('The zone of weeks and hours of the week'),
    calls: z.object({
      total: count(),
      byCategory: z.record(z.string(), count()),
      byGate: z.record(z.string(), count()),
      byMode: z.record(z.string(), count()),
      perWeek: z.array(z.object({ week: z.string().describe('Local Monday, YYYY-MM-DD'), calls: count() })),
      perHourOfWeek: z.array(HourOfWeekSchema).describe('Only hours with calls'),
    }),
    feedback: z
      .object({
        overall: AcceptanceSchema,
        byMode: z.record(z.string(), AcceptanceSchema),
        byGate: z.record(z.string(), AcceptanceSchema),
        byRule: z
          .array(AcceptanceSchema.extend({ ruleId: z.string() }))
          .describe('Per rule that fired, most overridden first: where tuning starts'),
      })
      .describe("Recommended vs sent: dispatch's latest feedback on each decision of the period"),
    noSocialWorkerOnDuty: z
      .object({ calls: count(), perHourOfWeek: z.array(HourOfWeekSchema) })
      .describe(
        'Calls with a social category that went to police or a referral line because the pools were off duty',
      ),
    referrals: z
      .object({
        opened: count(),
        assigned: count(),
        contacted: count(),
        closed: count(),
        hoursToFirstContact: z.object({ median: z.number().nullable(), mean: z.number().nullable() }),
        contactedByDue: count(),
        contactedLate: count(),
        overdueOpen: count().describe('Not contacted nor closed, and past due'),
        outcomes: z.record(z.string(), count()),
      })
      .describe('Follow-up referrals opened in the period, whatever became of them since'),
    people: z.object({
      unduplicatedCallers: count().describe("Distinct callers, by the phone's keyed hash"),
      interventions: count().describe(
        'Recommendations of a civilian responder or mobile crisis team, plus follow-ups that reached the person',
      ),
      repeatCallTrend: z.object({ weeks: z.number().int(), people: TrendSchema, addresses: TrendSchema }),
    }),
    versions: z
      .array(
        z.object({
          rulesVersion: z.string(),
          policyVersion: z.string(),
          from: z.iso.datetime(),
          to: z.iso.datetime(),
          calls: count(),
        }),
      )
      .describe('Rules and policy versions that decided the period’s calls'),
  })
  .meta({ id: 'Report', description: 'Outcomes of one or more jurisdictions over a period' });

export type Report = z.infer<typeof ReportSchema>;
export type Acceptance = z.infer<typeof AcceptanceSchema>;
export type Trend = z.infer<typeof TrendSchema>;
