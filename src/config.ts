import { z } from 'zod';
import { DEFAULTS } from './definitions.ts';

/**
 * All configuration comes from environment variables, validated once at start by one zod schema.
 * Every key carries a description: the README table and `.env.example` are generated from it
 * (`node scripts/config-docs.ts`), and a test fails when they drift.
 */

const bool = (description: string, dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(dflt ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .describe(description);

const int = (description: string, dflt: number, min: number, max: number) =>
  z
    .string()
    .default(String(dflt))
    .transform((v) => (/^-?\d+$/.test(v) ? Number(v) : Number.NaN))
    .pipe(
      z
        .number({ error: 'expected a whole number' })
        .int({ error: 'expected a whole number' })
        .min(min, { error: `expected a whole number from ${min} to ${max}` })
        .max(max, { error: `expected a whole number from ${min} to ${max}` }),
    )
    .describe(description);

const url = (protocols: string[], description: string) =>
  z
    .url({ error: `expected a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` })
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), {
      error: `expected a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    })
    .optional()
    .describe(description);

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const brokerList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()))
  .refine((list) => list.length > 0 && list.every((b) => hostPort.test(b)), {
    error: 'expected a comma-separated list of host:port',
  })
  .optional();

const name = (description: string, dflt: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'expected letters, digits, ".", "_" or "-"' })
    .default(dflt)
    .describe(description);

export const ConfigSchema = z.object({
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the HTTP server listens on (0.0.0.0 in containers)'),
  PORT: int('HTTP port', 8080, 1, 65535),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  DATABASE_URL: url(
    ['postgres', 'postgresql'],
    'PostgreSQL connection URL; unset = embedded PGlite database in PGLITE_DATA_DIR',
  ),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'expected a lower-case SQL identifier' })
    .default('public')
    .describe('PostgreSQL schema holding the tables (created if missing)'),
  DATABASE_POOL_SIZE: int('PostgreSQL connection pool size', 10, 1, 200),
  PGLITE_DATA_DIR: z
    .string()
    .min(1)
    .default(DEFAULTS.pgliteDataDir)
    .describe('Folder of the embedded PGlite database (used when DATABASE_URL is unset)'),
  MIGRATE_ON_START: bool('Apply pending SQL migrations at start', true),
  REDIS_URL: url(['redis', 'rediss'], 'Redis connection URL; unset = in-process cache (one replica only)'),
  REDIS_KEY_PREFIX: z.string().default('cad-triage:').describe('Prefix of every Redis key'),
  KAFKA_BROKERS: brokerList.describe(
    'Comma-separated Kafka bootstrap brokers (host:port); unset = REST only',
  ),
  KAFKA_CLIENT_ID: name('Kafka client id', 'cad-triage'),
  KAFKA_GROUP_ID: name('Kafka consumer group of the call consumer', 'cad-triage'),
  KAFKA_TOPIC_CALLS: name('Input topic of CAD call events', DEFAULTS.topics.calls),
  KAFKA_TOPIC_DECISIONS: name('Output topic of triage decisions', DEFAULTS.topics.decisions),
  KAFKA_TOPIC_DLQ: name('Dead-letter topic for events that cannot be triaged', DEFAULTS.topics.dlq),
  KAFKA_CREATE_TOPICS: bool('Create the topics at start when they do not exist', true),
  KAFKA_TOPIC_PARTITIONS: int('Partitions of topics the service creates', 6, 1, 1000),
  KAFKA_TOPIC_REPLICATION: int('Replication factor of topics the service creates', 1, 1, 10),
  PII_HASH_KEY: z
    .string()
    .min(16, { error: 'expected at least 16 characters' })
    .optional()
    .describe(
      'Secret key for hashing phone numbers and addresses (repeat-call counts, stored calls); required with REDIS_URL, random per process otherwise',
    ),
  NARRATIVE_RETENTION_DAYS: int(
    'Days a call narrative is kept with its decision, then purged (0 = never stored); the decision, reasons and evidence stay',
    30,
    0,
    3650,
  ),
  PURGE_INTERVAL_MINUTES: int('How often the service purges narratives past their retention', 60, 1, 10080),
  RULES_DIR: z
    .string()
    .min(1)
    .default(DEFAULTS.rulesDir)
    .describe('Folder of the triage rules and routing policies'),
  AUTH_MODE: z
    .enum(['keys', 'off'])
    .default('keys')
    .describe(
      "REST access control: 'keys' = every /v1 route needs an API key (npx cad-triage keys); 'off' = no checks, for local trials only (warned at every start)",
    ),
  METRICS_PUBLIC: bool('Serve /metrics without a key (false = admin keys only)', true),
  RATE_LIMIT_PER_MINUTE: int(
    'Requests per minute allowed to one API key (shared across replicas through Redis)',
    600,
    1,
    1_000_000,
  ),
  AUTH_FAILURES_PER_MINUTE: int(
    'Failed authentications allowed from one client address per minute; beyond it the address gets 429 without a key lookup',
    30,
    1,
    1_000_000,
  ),
  SHUTDOWN_TIMEOUT_MS: int(
    'How long a graceful shutdown may take before the process exits',
    15000,
    100,
    600000,
  ),
});

/** Rules that involve several variables. */
const CrossChecked = ConfigSchema.superRefine((c, ctx) => {
  // Shared counters across replicas need one key; a random per-process key would split them.
  if (c.REDIS_URL && !c.PII_HASH_KEY) {
    ctx.addIssue({ code: 'custom', path: ['PII_HASH_KEY'], message: 'required when REDIS_URL is set' });
  }
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A readable value for the error line; secrets in URLs are not echoed. */
function shown(key: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (/URL$/.test(key)) return 'a malformed URL';
  if (/KEY$/.test(key)) return 'a secret';
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/**
 * Validates the environment. Pure: takes the env as an argument, returns a frozen config, and throws
 * a ConfigError whose message is one line naming every bad variable and what is wrong with it.
 * Empty strings count as unset, as shells and compose files often produce them.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') input[key] = v.trim();
  }
  const result = CrossChecked.safeParse(input);
  if (!result.success) {
    const parts = result.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `${key}=${shown(key, input[key])}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${parts.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** Which optional components are switched on, for the first log line and readiness. */
export function describeMode(config: Config): { mode: 'embedded' | 'full' | 'mixed'; components: string[] } {
  const components = [
    config.DATABASE_URL ? 'postgres' : `pglite (${config.PGLITE_DATA_DIR})`,
    config.REDIS_URL ? 'redis' : 'in-process cache',
    config.KAFKA_BROKERS ? 'kafka' : 'REST only',
  ];
  const on = [config.DATABASE_URL, config.REDIS_URL, config.KAFKA_BROKERS].filter(Boolean).length;
  return { mode: on === 0 ? 'embedded' : on === 3 ? 'full' : 'mixed', components };
}
