/**
 * `GET /v1/reports/summary`: a town's outcome report (src/reports/summary.ts) as JSON, or as CSV
 * with `format=csv` (or `Accept: text/csv`). Scoped by the key: a key sees only its jurisdictions,
 * and naming another is refused.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../adapters/database.ts';
import { allows } from '../auth/keys.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import { ReportSchema } from '../domain/report.ts';
import { AppError } from '../errors.ts';
import { reportCsv, reportForDates } from '../reports/summary.ts';
import type { PolicySet } from '../routing/index.ts';
import { principalOf } from './auth.ts';
import { ProblemSchema } from './problem.ts';
import { AUTH_PROBLEMS } from './responses.ts';

const DateSchema = z.iso.date().describe('A local date, YYYY-MM-DD, in the report’s time zone');

export const ReportQuerySchema = z
  .object({
    jurisdictions: z
      .string()
      .max(1024)
      .optional()
      .describe(
        "Comma-separated jurisdiction ids (a regional pool's towns); default: every one the key may see",
      ),
    from: DateSchema,
    to: DateSchema.describe('The last day included'),
    trendWeeks: z.coerce
      .number()
      .int()
      .min(1)
      .max(52)
      .default(12)
      .describe('Weeks before and after a first referral for the repeat-call trend'),
    format: z
      .enum(['json', 'csv'])
      .optional()
      .describe('csv = one table of every figure; also by Accept: text/csv'),
  })
  .strict();

export const reportRoutes: FastifyPluginAsync<{
  db: Database;
  policies: () => { policies: PolicySet };
  now: () => Date;
}> = async (app, { db, policies, now }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/reports/summary',
    {
      schema: {
        operationId: 'getReport',
        tags: ['reports'],
        summary: 'Outcomes of one or more jurisdictions over a period, as JSON or CSV',
        description:
          'Calls by category, gate and mode (per week, per hour of the week); recommended vs sent per mode, gate and rule; ' +
          'calls no social worker was on duty for; the follow-up queue; unduplicated callers, interventions and the ' +
          'repeat-call trend around first referrals; the rules and policy versions in force. Counts only: no narrative, ' +
          'phone or address. Weeks and hours are in the time zone of the first jurisdiction’s policy.',
        querystring: ReportQuerySchema,
        response: {
          200: {
            description: 'The report (as one CSV table with format=csv or Accept: text/csv)',
            content: {
              'application/json': { schema: ReportSchema },
              'text/csv': { schema: z.string().describe('section,item,measure,value rows') },
            },
          },
          400: ProblemSchema,
          ...AUTH_PROBLEMS,
        },
      },
      config: { access: ['dispatch', 'admin'] },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const q = req.query;
      if (q.to < q.from)
        throw new AppError('ERR_VALIDATION', '`to` is before `from`', {
          extra: { errors: [{ path: 'querystring.to', message: 'must not be before from' }] },
        });
      const named = q.jurisdictions?.split(',').map(jurisdictionId).filter(Boolean);
      for (const j of named ?? [])
        if (!allows(principal, j))
          throw new AppError('ERR_FORBIDDEN', `this key may not see jurisdiction ${j}`);
      const jurisdictions =
        named && named.length > 0
          ? [...new Set(named)]
          : principal.jurisdictions.includes('*')
            ? null
            : principal.jurisdictions;
      const report = await reportForDates(db, policies().policies, {
        jurisdictions,
        from: q.from,
        to: q.to,
        trendWeeks: q.trendWeeks,
        now: now(),
      });
      const csv =
        q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''));
      if (csv)
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="cad-triage-report-${q.from}-${q.to}.csv"`)
          .send(reportCsv(report));
      return report;
    },
  );
};
