/** Constants that are written once: topic names, header names, default paths. */
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULTS = Object.freeze({
  topics: Object.freeze({
    calls: 'cad.calls.v1',
    decisions: 'triage.decisions.v1',
    dlq: 'cad.calls.v1.dlq',
  }),
  pgliteDataDir: '.data/pglite',
  rulesDir: fileURLToPath(new URL('../rules', import.meta.url)),
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
});

export const PROJECT_ROOT = root;

/** Values pino replaces: narratives, phone numbers, addresses, credentials, at any usual depth. */
export const REDACTED_PATHS = Object.freeze(
  [
    'narrative',
    'phone',
    'address',
    'caller.phone',
    'location.address',
    'location.lat',
    'location.lon',
    'req.headers.authorization',
    'req.headers["x-api-key"]',
    'req.headers.cookie',
    'headers.authorization',
    'headers["x-api-key"]',
    'password',
    'apiKey',
  ].flatMap((p) => [p, `*.${p}`, `*.*.${p}`]),
);
