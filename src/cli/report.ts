import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from './main.ts';
import { withMigratedDatabase } from './database.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import { reportCsv, reportForDates } from '../reports/summary.ts';
import { loadPolicies } from '../routing/index.ts';

const fail = (message: string) => {
  process.stderr.write(`cad-triage report: ${message}\n`);
  return 2;
};

/** `cad-triage report`: the outcome report of GET /v1/reports/summary, from the configured database. */
export const reportCommands: Record<string, Command> = {
  report: {
    summary:
      'outcome report: --from YYYY-MM-DD --to YYYY-MM-DD [--jurisdiction a,b] [--format json|csv] [--trend-weeks N]',
    async run(args) {
      let values;
      try {
        ({ values } = parseArgs({
          args,
          options: {
            jurisdiction: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            format: { type: 'string', default: 'json' },
            'trend-weeks': { type: 'string', default: '12' },
          },
        }));
      } catch (err) {
        return fail((err as Error).message);
      }
      const date = /^\d{4}-\d{2}-\d{2}$/;
      if (!values.from || !date.test(values.from) || !values.to || !date.test(values.to))
        return fail('--from and --to are required, as YYYY-MM-DD');
      if (values.to < values.from) return fail('--to is before --from');
      if (values.format !== 'json' && values.format !== 'csv') return fail('--format must be json or csv');
      const weeks = Number(values['trend-weeks']);
      if (!Number.isInteger(weeks) || weeks < 1 || weeks > 52) return fail('--trend-weeks must be 1..52');
      const jurisdictions = values.jurisdiction
        ? [...new Set(values.jurisdiction.split(',').map(jurisdictionId).filter(Boolean))]
        : null;
      return withMigratedDatabase(
        'report',
        async (db, _m, config) => {
          const loaded = await loadPolicies(join(config.RULES_DIR, 'policies'));
          const report = await reportForDates(db, loaded.ok ? loaded.policies : undefined, {
            jurisdictions,
            from: values.from!,
            to: values.to!,
            trendWeeks: weeks,
            now: new Date(),
          });
          process.stdout.write(
            values.format === 'csv' ? reportCsv(report) : `${JSON.stringify(report, null, 2)}\n`,
          );
          return 0;
        },
        { quiet: true },
      );
    },
  },
};
