/**
 * The narrative retention job: every PURGE_INTERVAL_MINUTES (and once at start) it purges the
 * narratives of calls decided more than NARRATIVE_RETENTION_DAYS ago (with 0, every narrative still
 * stored). Replicas may all run it: the purge skips rows another one holds.
 */
import type { Database } from '../adapters/database.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { isOutage } from './pipeline.ts';
import { purgeNarratives } from './privacy.ts';
import { audit } from '../auth/audit.ts';

const DAY_MS = 24 * 3600 * 1000;

/** The instant before which narratives are past their retention. */
export const retentionCutoff = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

export interface PurgeJob {
  /** Resolves when the run in progress (if any) has finished; no run starts after. Idempotent. */
  stop(): Promise<void>;
}

export function startNarrativePurge(
  db: Database,
  config: Pick<Config, 'NARRATIVE_RETENTION_DAYS' | 'PURGE_INTERVAL_MINUTES'>,
  logger: Logger,
  now: () => Date,
): PurgeJob {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = (async () => {
      try {
        const purged = await purgeNarratives(db, retentionCutoff(now(), config.NARRATIVE_RETENTION_DAYS));
        if (purged > 0) {
          logger.info({ purged, retentionDays: config.NARRATIVE_RETENTION_DAYS }, 'narratives purged');
          await audit(db, 'service', 'narratives.purge', {
            purged,
            retentionDays: config.NARRATIVE_RETENTION_DAYS,
          });
        }
      } catch (err) {
        // Next run tries again; an outage is reported by readiness, not here.
        if (!isOutage(err)) logger.error({ err }, 'narrative purge failed');
      }
    })();
  };
  run();
  const timer = setInterval(() => {
    if (!stopped) run();
  }, config.PURGE_INTERVAL_MINUTES * 60_000);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
