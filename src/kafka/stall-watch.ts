/**
 * Stall detection for the consumer loop: a partition that has lag and whose resolved offset has not
 * moved for `stallAfterMs` is reported once (an error log line and `onStall(partition, true)`), and
 * again when it advances (`onStall(partition, false)`).
 */
import type { Logger } from '../logger.ts';

export interface StallWatch {
  /** Records a partition's lag; `advanced` when an offset was just resolved. */
  note(partition: number, lag: number, advanced: boolean): void;
  /** The last lag noted for a partition (0 when none). */
  lag(partition: number): number;
  /** Starts the periodic check. */
  start(): void;
  /** Stops it. Idempotent. */
  stop(): void;
}

export function createStallWatch(options: {
  stallAfterMs: number;
  logger: Logger;
  onStall?: ((partition: number, stalled: boolean) => void) | undefined;
}): StallWatch {
  const { stallAfterMs, logger: log } = options;
  const progress = new Map<number, { lag: number; since: number; stalled: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    for (const [partition, p] of progress) {
      if (!p.stalled && p.lag > 0 && Date.now() - p.since >= stallAfterMs) {
        p.stalled = true;
        log.error(
          { partition, lag: p.lag, stalledForMs: Date.now() - p.since },
          'partition not advancing while it has lag',
        );
        options.onStall?.(partition, true);
      }
    }
  };
  return {
    note(partition, lag, advanced) {
      const p = progress.get(partition) ?? { lag, since: Date.now(), stalled: false };
      p.lag = lag;
      if (advanced || lag === 0) {
        p.since = Date.now();
        if (p.stalled) {
          p.stalled = false;
          log.info({ partition }, 'partition advancing again');
          options.onStall?.(partition, false);
        }
      }
      progress.set(partition, p);
    },
    lag: (partition) => progress.get(partition)?.lag ?? 0,
    start() {
      timer ??= setInterval(check, Math.max(10, Math.min(5000, Math.floor(stallAfterMs / 4))));
    },
    stop() {
      clearInterval(timer);
    },
  };
}
