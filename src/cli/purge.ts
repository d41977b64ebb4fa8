import { parseArgs } from 'node:util';
import type { Command } from './main.ts';
import { withMigratedDatabase } from './database.ts';
import { purgeNarratives } from '../triage/privacy.ts';
import { audit, cliActor } from '../auth/audit.ts';
import { retentionCutoff } from '../triage/retention.ts';

/**
 * `cad-triage purge`: purges the narratives past their retention now (the service also does it on a
 * schedule). `--days N` overrides NARRATIVE_RETENTION_DAYS for this run; `--dry-run` only counts.
 */
export const purgeCommands: Record<string, Command> = {
  purge: {
    summary:
      'purge call narratives older than NARRATIVE_RETENTION_DAYS (or --days N) from the stored calls [--dry-run]',
    async run(args) {
      let values;
      try {
        ({ values } = parseArgs({
          args,
          options: { days: { type: 'string' }, 'dry-run': { type: 'boolean' } },
        }));
      } catch (err) {
        process.stderr.write(`cad-triage purge: ${(err as Error).message}\n`);
        return 2;
      }
      if (values.days !== undefined && !/^\d{1,4}$/.test(values.days)) {
        process.stderr.write('cad-triage purge: --days must be a whole number of days (0 = all)\n');
        return 2;
      }
      return withMigratedDatabase(
        'purge',
        async (db, _migrations, config) => {
          const days = values.days !== undefined ? Number(values.days) : config.NARRATIVE_RETENTION_DAYS;
          const before = retentionCutoff(new Date(), days);
          if (values['dry-run']) {
            const { rows } = await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM decisions WHERE call ? 'narrative' AND decided_at < $1`,
              [before.toISOString()],
            );
            process.stdout.write(`${rows[0]?.n ?? 0} narratives older than ${days} days would be purged\n`);
            return 0;
          }
          const purged = await purgeNarratives(db, before);
          await audit(db, cliActor(), 'narratives.purge', { purged, retentionDays: days });
          process.stdout.write(`${purged} narratives older than ${days} days purged\n`);
          return 0;
        },
        { quiet: true },
      );
    },
  },
};
