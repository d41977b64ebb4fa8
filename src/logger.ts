import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { REDACTED_PATHS } from './definitions.ts';

export type { Logger };

/**
 * Fields of database errors that quote the data: PostgreSQL's `where` and `detail` (e.g. the JSON
 * around a bad character, the duplicate key), `hint`, the failing query and its parameters.
 */
const DATA_FIELDS = ['where', 'detail', 'hint', 'internalQuery', 'query', 'parameters', 'params', 'values'];

/** SQLSTATE classes whose message can quote a value: 22 data exception, 23 integrity constraint. */
const DATA_SQLSTATE = /^(22|23)[0-9A-Z]{3}$/;

/**
 * The one error serializer: pino's, minus whatever can quote personal data. Database errors keep
 * their SQLSTATE, constraint, table and column names; their message is replaced when its class is a
 * data error (`invalid input syntax for type integer: "..."`). Causes are serialized the same way.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const f of DATA_FIELDS) delete out[f];
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && DATA_SQLSTATE.test(code)) {
    const safe = `the database refused a value (SQLSTATE ${code})`;
    out.message = safe;
    if (typeof out.stack === 'string') out.stack = out.stack.replace(err.message, safe);
  }
  // pino serializes `cause` with a plain copy; ours goes through the same filter.
  if (err.cause !== undefined) out.cause = serializeError(err.cause, depth + 1);
  // kafkajs keeps the broker's error in `originalError`.
  const original = (err as { originalError?: unknown }).originalError;
  if (original !== undefined) out.originalError = serializeError(original, depth + 1);
  return out;
}

/**
 * Where every log line also goes when CAD_TRIAGE_LOG_DIR is set (the test run: scripts/test.sh scans
 * them for personal data), at debug level whatever the configured level, so silent test loggers are
 * scanned too.
 */
function captureStream(): pino.DestinationStream | undefined {
  const dir = process.env.CAD_TRIAGE_LOG_DIR;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  return pino.destination({ dest: join(dir, `${process.pid}.log`), sync: true, append: true });
}

/**
 * The one logger factory. Call narratives, phone numbers, addresses and credentials are redacted at
 * the source, so no later `log.info({ call })` can leak them; errors go through `serializeError`.
 */
export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: pino.DestinationStream,
): Logger {
  const level = options.level ?? 'info';
  const base: pino.LoggerOptions = {
    name: options.name ?? 'cad-triage',
    level,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
  };
  const capture = captureStream();
  if (!capture) return pino(base, destination);
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: capture }];
  if (level !== 'silent') {
    streams.push({ level: level as pino.Level, stream: destination ?? pino.destination(1) });
  }
  return pino(
    { ...base, level: level === 'silent' || pino.levels.values[level]! > 20 ? 'debug' : level },
    pino.multistream(streams),
  );
}
