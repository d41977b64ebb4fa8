import pino, { type Logger } from 'pino';
import { REDACTED_PATHS } from './definitions.ts';

export type { Logger };

/**
 * The one logger factory. Call narratives, phone numbers, addresses and credentials are redacted at
 * the source, so no later `log.info({ call })` can leak them.
 */
export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      name: options.name ?? 'cad-triage',
      level: options.level ?? 'info',
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
