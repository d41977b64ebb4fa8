import t from 'tap';
import { spawnSync } from 'node:child_process';
import { ConfigError, ConfigSchema, describeMode, loadConfig } from '../src/config.ts';
import { DEFAULTS } from '../src/definitions.ts';

t.test('an empty environment gives the embedded default', async (t) => {
  const c = loadConfig({});
  t.equal(c.PORT, 8080);
  t.equal(c.HOST, '127.0.0.1');
  t.equal(c.DATABASE_URL, undefined);
  t.equal(c.KAFKA_TOPIC_CALLS, DEFAULTS.topics.calls);
  t.equal(c.MIGRATE_ON_START, true);
  t.ok(Object.isFrozen(c), 'frozen');
  t.same(describeMode(c).mode, 'embedded');
});

t.test('values are parsed and typed', async (t) => {
  const c = loadConfig({
    PORT: '9000',
    KAFKA_BROKERS: 'a:9092, b.example:9093',
    DATABASE_URL: 'postgres://u@h:5432/db',
    REDIS_URL: 'redis://h:6379',
    PII_HASH_KEY: 'a-long-enough-test-key',
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'debug',
    UNRELATED: 'ignored',
  });
  t.equal(c.PORT, 9000);
  t.same(c.KAFKA_BROKERS, ['a:9092', 'b.example:9093']);
  t.equal(c.MIGRATE_ON_START, false);
  t.equal(describeMode(c).mode, 'full');
});

t.test('empty strings count as unset', async (t) => {
  t.equal(loadConfig({ PORT: '', DATABASE_URL: ' ' }).PORT, 8080);
});

const bad: Array<[Record<string, string>, RegExp]> = [
  [{ PORT: 'abc' }, /^invalid configuration: PORT="abc": expected a whole number$/],
  [{ PORT: '70000' }, /PORT="70000": expected a whole number from 1 to 65535/],
  [{ PORT: '8080.5' }, /PORT="8080.5": expected a whole number/],
  [
    { KAFKA_BROKERS: 'not a list' },
    /KAFKA_BROKERS="not a list": expected a comma-separated list of host:port/,
  ],
  [{ KAFKA_BROKERS: 'a:1,,b:2' }, /KAFKA_BROKERS=.*host:port/],
  [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL=a malformed URL: expected a URL starting with postgres:\/\//],
  [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL=a malformed URL/],
  [{ MIGRATE_ON_START: 'maybe' }, /MIGRATE_ON_START="maybe": expected true or false/],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
  [{ DATABASE_SCHEMA: 'Robert"); DROP' }, /DATABASE_SCHEMA=.*lower-case SQL identifier/],
  [{ KAFKA_TOPIC_CALLS: 'has space' }, /KAFKA_TOPIC_CALLS="has space"/],
];
for (const [env, message] of bad) {
  t.test(`rejects ${JSON.stringify(env)}`, async (t) => {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message });
  });
}

t.test('every bad variable is named in one line; URL credentials are not echoed', async (t) => {
  try {
    loadConfig({ PORT: 'abc', DATABASE_URL: 'postgres//user:secret@host' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const msg = (err as Error).message;
    t.match(msg, /PORT=/);
    t.match(msg, /DATABASE_URL=/);
    t.notMatch(msg, /secret/);
    t.notMatch(msg, /\n/);
  }
});

t.test('every variable is described (the README table is generated from it)', async (t) => {
  for (const [key, schema] of Object.entries(ConfigSchema.shape)) {
    t.ok(schema.description, `${key} has a description`);
  }
});

t.test('the server exits non-zero with one line naming the bad variable', async (t) => {
  for (const [key, value] of [
    ['PORT', 'abc'],
    ['KAFKA_BROKERS', 'not a list'],
  ] as const) {
    const res = spawnSync(process.execPath, ['src/server.ts'], {
      env: { PATH: process.env.PATH, [key]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    t.equal(res.status, 1, `${key}: exit code 1`);
    const lines = res.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${key}: one line on stderr`);
    t.match(lines[0], new RegExp(`^cad-triage: invalid configuration: ${key}=`));
    t.equal(res.stdout, '', 'nothing logged before the config is valid');
  }
});

t.test('Redis needs a shared PII hash key, or replicas would count repeat calls apart', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'redis://h:6379' }), {
    message: /PII_HASH_KEY=unset: required when REDIS_URL is set/,
  });
  t.throws(() => loadConfig({ PII_HASH_KEY: 'short' }), {
    message: /PII_HASH_KEY=a secret: expected at least 16/,
  });
});
