/**
 * Failures of PostgreSQL and Redis classified at the adapter boundary (STYLE habit 14):
 * - an outage (the server is unreachable or going away): Kafka pauses the partition, REST answers 503;
 * - transient (serialization failure, deadlock, lock timeout): the same event is retried;
 * - permanent (anything else — a value the database refuses, a constraint): retrying cannot help, so
 *   the event fails at once with a code (a dead letter on Kafka, an error answer on REST).
 */
import { AppError } from '../errors.ts';

export type Failure = 'outage' | 'transient' | 'permanent';

const sqlstate = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
};

/** True when an error means a server is unreachable or going away, not that the data is wrong. */
export function isOutage(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ERR_DEPENDENCY_UNAVAILABLE',
    ].includes(code) ||
    // PostgreSQL: connection exception, admin/crash shutdown and cannot-connect-now, insufficient resources
    /^(08|57P0[1-3]|53)/.test(sqlstate(err)) ||
    /Connection terminated|Connection is closed|max retries per request|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|memory store is closed|PGlite is closed/i.test(
      message,
    )
  );
}

/** True for the SQLSTATEs where the same statement may well succeed when run again. */
export function isTransient(err: unknown): boolean {
  const code = sqlstate(err);
  // 40: transaction rollback (serialization failure, deadlock); 55P03 lock not available; 57014 statement timeout.
  return /^40/.test(code) || code === '55P03' || code === '57014';
}

export function classifyFailure(err: unknown): Failure {
  if (err instanceof AppError) {
    if (err.code === 'ERR_DEPENDENCY_UNAVAILABLE') return 'outage';
    if (err.code === 'ERR_DEPENDENCY_BUSY') return 'transient';
    return 'permanent';
  }
  if (isOutage(err)) return 'outage';
  if (isTransient(err)) return 'transient';
  return 'permanent';
}

/** The SQLSTATE of a database error, for messages that must not quote the data (e.g. "SQLSTATE 22P02"). */
export function sqlstateOf(err: unknown): string | undefined {
  return sqlstate(err) || undefined;
}
