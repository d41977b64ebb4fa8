/**
 * The fault suite (issue 12 build 9): scenarios run against the real service (a child process) on
 * real PostgreSQL, Redis and Kafka, each printing events in / decided / emitted / dead-lettered /
 * lost / doubled.
 *
 *   npm run faults                       private PostgreSQL, Redis and Kafka on loopback (started and
 *                                        stopped here: initdb/pg_ctl, redis-server, scripts/kafka.sh)
 *   npm run faults -- --short            fewer events
 *
 * Scenarios so far: `near-limit` (a ~1,048,300-byte record, accepted by the broker but too large to
 * dead-letter with its headers, in a partition between good events and a burst of small bad records:
 * nothing wedges, every event behind it is decided) and `malformed` (10,000 malformed records of many
 * kinds between good ones: no crash, each dead-lettered on its first try with a specific code).
 * test/faults.test.ts runs the short version on the test services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Services {
  DATABASE_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
}

export interface ScenarioResult {
  name: string;
  in: number;
  decided: number;
  emitted: number;
  deadLettered: number;
  lost: number;
  doubled: number;
  /** What else was checked, and how it went. */
  checks: Array<{ ok: boolean; what: string }>;
  /** Figures measured, not checked. */
  notes?: string[];
  ok: boolean;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });

async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/** Reads a topic with kcat: key, value size and headers of each record (values can be ~1 MB). */
function readTopic(brokers: string, topic: string) {
  const res = spawnSync(
    'kcat',
    [
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-J',
      '-X',
      'fetch.message.max.bytes=4000000',
    ],
    { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024, timeout: 120_000 },
  );
  if (res.status !== 0) throw new Error(`kcat: ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as { key: string | null; payload: string | null; headers?: string[] };
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < (r.headers?.length ?? 0); i += 2) headers[r.headers![i]!] = r.headers![i + 1]!;
      return { key: r.key, payload: r.payload, headers };
    });
}

/** One deployment of the service: its own schema, key prefix, group and topics. */
async function deployment(services: Services, name: string, partitions: number) {
  const id = `faults_${name.replaceAll('-', '_')}_${Date.now().toString(36)}`;
  const env = {
    ...services,
    DATABASE_SCHEMA: id,
    REDIS_KEY_PREFIX: `${id}:`,
    PII_HASH_KEY: 'fault-suite-key-0123456789',
    KAFKA_GROUP_ID: id,
    KAFKA_TOPIC_CALLS: `${id}.calls`,
    KAFKA_TOPIC_DECISIONS: `${id}.decisions`,
    KAFKA_TOPIC_DLQ: `${id}.dlq`,
    KAFKA_TOPIC_PARTITIONS: String(partitions),
    AUTH_MODE: 'off',
    LOG_LEVEL: 'info',
  };
  const kafka = new Kafka({ brokers: services.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [env.KAFKA_TOPIC_CALLS, env.KAFKA_TOPIC_DECISIONS, env.KAFKA_TOPIC_DLQ].map((topic) => ({
      topic,
      numPartitions: partitions,
    })),
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const db = new pg.Pool({ connectionString: services.DATABASE_URL, max: 2 });

  let child: ChildProcess | undefined;
  let exitCode: number | null | undefined;
  const start = async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('exit', (code) => (exitCode = code));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        if (line.includes('Server listening')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`service exited ${code} before listening`)));
    });
  };
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
  return {
    env,
    producer,
    start,
    crashed: () => exitCode !== undefined,
    decided: () => count(`SELECT count(DISTINCT event_id)::text AS n FROM "${id}".decisions`).catch(() => 0),
    persisted: () => count(`SELECT count(*)::text AS n FROM "${id}".decisions`).catch(() => 0),
    read: (topic: string) => readTopic(services.KAFKA_BROKERS, topic),
    async close() {
      if (child && exitCode === undefined) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      await producer.disconnect();
      await db.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`).catch(() => {});
      await db.end();
    },
  };
}

/** A valid call event, unique per index (the scenarios need no realistic text). */
function call(i: number, tag: string) {
  return {
    eventId: `${tag}-evt-${i}`,
    incidentId: `${tag}-INC-${i}`,
    revision: 1,
    occurredAt: '2026-02-11T12:07:00-05:00',
    agency: { id: 'CT0011000', jurisdiction: 'stamford' },
    callType: { code: 'WELFARE', description: 'WELFARE CHECK' },
    priority: 3,
    source: '911',
    narrative: 'ELDERLY NEIGHBOR NOT SEEN FOR 2 DAYS, MAIL PILING UP',
    screening: { weapons: 'no', violence: 'no' },
  };
}

/** The figures of a scenario: `goodIds` must each be decided and emitted, `bad` records dead-lettered. */
async function outcome(
  name: string,
  d: Awaited<ReturnType<typeof deployment>>,
  goodIds: string[],
  bad: number,
  checks: ScenarioResult['checks'],
): Promise<ScenarioResult> {
  const decided = await d.decided();
  const persisted = await d.persisted();
  const emittedIds = new Set(
    d.read(d.env.KAFKA_TOPIC_DECISIONS).map((r) => (JSON.parse(r.payload!) as { eventId: string }).eventId),
  );
  const dlq = d.read(d.env.KAFKA_TOPIC_DLQ);
  const deadLettered = new Set(
    dlq.map((r) => `${r.headers['x-dlq-source-partition']}:${r.headers['x-dlq-source-offset']}`),
  ).size;
  const emitted = goodIds.filter((e) => emittedIds.has(e)).length;
  const lost = goodIds.length - Math.min(decided, emitted) + Math.max(0, bad - deadLettered);
  const doubled = persisted - decided;
  checks.push({ ok: !d.crashed(), what: 'the service did not crash' });
  const ok = lost === 0 && doubled === 0 && checks.every((c) => c.ok);
  return { name, in: goodIds.length + bad, decided, emitted, deadLettered, lost, doubled, checks, ok };
}

/** A ~1,048,300-byte record and a burst of small bad ones in one partition between good events. */
export async function nearLimit(
  services: Services,
  options: { good?: number } = {},
): Promise<ScenarioResult> {
  const good = options.good ?? 500;
  const d = await deployment(services, 'near-limit', 1);
  try {
    await d.start();
    const tag = `nl${Date.now().toString(36)}`;
    const before = Array.from({ length: good / 2 }, (_, i) => call(i, tag));
    const after = Array.from({ length: good / 2 }, (_, i) => call(good + i, tag));
    const topic = d.env.KAFKA_TOPIC_CALLS;
    const bad = [
      { key: 'BIG', value: 'x'.repeat(1_048_300) },
      ...Array.from({ length: 20 }, (_, i) => ({
        key: `BAD-${i}`,
        value: i % 2 ? '{not json' : '{"eventId":1}',
      })),
    ];
    await d.producer.send({
      topic,
      acks: -1,
      messages: before.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
    });
    // The big one alone (with anything more the producer's batch would be over the limit), then the
    // burst right behind it: the consumer fetches them in one batch.
    await d.producer.send({ topic, acks: -1, messages: bad.slice(0, 1) });
    await d.producer.send({ topic, acks: -1, messages: bad.slice(1) });
    await d.producer.send({
      topic,
      acks: -1,
      messages: after.map((c) => ({ key: c.incidentId, value: JSON.stringify(c) })),
    });
    const goodIds = [...before, ...after].map((c) => c.eventId);
    const done = await until(async () => (await d.decided()) >= goodIds.length, 180_000);
    await until(async () => d.read(d.env.KAFKA_TOPIC_DLQ).length >= bad.length, 30_000, 1000);
    const dlq = d.read(d.env.KAFKA_TOPIC_DLQ);
    const big = dlq.find((r) => r.key === 'BIG');
    return await outcome('near-limit', d, goodIds, bad.length, [
      { ok: done, what: 'every event behind the near-limit record decided' },
      {
        ok: Boolean(big?.headers['x-dlq-archived-id']),
        what: 'the near-limit record archived, referenced on the DLQ',
      },
      {
        ok: big?.headers['x-dlq-error-code'] === 'ERR_EVENT_TOO_LARGE',
        what: 'with code ERR_EVENT_TOO_LARGE',
      },
    ]);
  } finally {
    await d.close();
  }
}

/** Malformed records of many kinds (each needs a specific code) between good ones. */
export async function malformed(
  services: Services,
  options: { bad?: number; good?: number } = {},
): Promise<ScenarioResult> {
  const badCount = options.bad ?? 10_000;
  const goodCount = options.good ?? 500;
  const d = await deployment(services, 'malformed', 3);
  try {
    await d.start();
    const tag = `mf${Date.now().toString(36)}`;
    const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });
    const kinds: Array<{ code: string; value: (i: number) => string | null }> = [
      { code: 'ERR_EVENT_NOT_JSON', value: (i) => `{"eventId": "x${i}"` },
      { code: 'ERR_EVENT_EMPTY', value: () => null },
      {
        code: 'ERR_VALIDATION',
        value: (i) => JSON.stringify({ ...call(i, `${tag}b`), revision: 3_000_000_000 }),
      },
      {
        code: 'ERR_VALIDATION',
        value: (i) => JSON.stringify({ ...call(i, `${tag}c`), narrative: 'bad \ud800 text' }),
      },
      {
        code: 'ERR_VALIDATION',
        value: (i) => JSON.stringify({ ...call(i, `${tag}d`), eventId: `nul\u0000${i}` }),
      },
      { code: 'ERR_VALIDATION', value: (i) => JSON.stringify({ ...call(i, `${tag}e`), extra: nest(40) }) },
      { code: 'ERR_VALIDATION', value: (i) => JSON.stringify({ ...call(i, `${tag}f`), agency: 'none' }) },
      { code: 'ERR_VALIDATION', value: () => '[]' },
      { code: 'ERR_VALIDATION', value: (i) => String(i) },
    ];
    const goodCalls = Array.from({ length: goodCount }, (_, i) => call(i, tag));
    const messages: Array<{ key: string; value: string | null }> = [];
    const expected = new Map<string, string>();
    let g = 0;
    for (let i = 0; i < badCount; i++) {
      const kind = kinds[i % kinds.length]!;
      const key = `BAD-${i}`;
      messages.push({ key, value: kind.value(i) });
      expected.set(key, kind.code);
      if (i % Math.max(1, Math.floor(badCount / goodCount)) === 0 && g < goodCount) {
        const c = goodCalls[g++]!;
        messages.push({ key: c.incidentId, value: JSON.stringify(c) });
      }
    }
    while (g < goodCount) {
      const c = goodCalls[g++]!;
      messages.push({ key: c.incidentId, value: JSON.stringify(c) });
    }
    const started = Date.now();
    for (let i = 0; i < messages.length; i += 1000) {
      await d.producer.send({
        topic: d.env.KAFKA_TOPIC_CALLS,
        acks: -1,
        messages: messages.slice(i, i + 1000),
      });
    }
    const decidedAll = await until(async () => (await d.decided()) >= goodCount, 300_000, 500);
    const dlqAll = await until(async () => d.read(d.env.KAFKA_TOPIC_DLQ).length >= badCount, 300_000, 2000);
    const seconds = (Date.now() - started) / 1000;
    const dlq = d.read(d.env.KAFKA_TOPIC_DLQ);
    const wrong = dlq.filter((r) => expected.get(r.key ?? '') !== r.headers['x-dlq-error-code']).length;
    const retried = dlq.filter((r) => r.headers['x-dlq-attempts'] !== '1').length;
    return await outcome(
      'malformed',
      d,
      goodCalls.map((c) => c.eventId),
      badCount,
      [
        { ok: decidedAll, what: 'every good event decided' },
        { ok: dlqAll, what: 'every malformed record dead-lettered' },
        { ok: wrong === 0, what: `each with its specific code (${wrong} not)` },
        { ok: retried === 0, what: `each on its first try (${retried} retried)` },
        {
          ok: true,
          what: `${((goodCount + badCount) / seconds).toFixed(0)} records/s through the whole run`,
        },
      ],
    );
  } finally {
    await d.close();
  }
}

export function format(results: ScenarioResult[]): string {
  const lines = [
    'scenario      in      decided  emitted  dead-lettered  lost  doubled  result',
    ...results.map(
      (r) =>
        `${r.name.padEnd(12)}  ${String(r.in).padEnd(6)}  ${String(r.decided).padEnd(7)}  ${String(r.emitted).padEnd(7)}  ${String(r.deadLettered).padEnd(13)}  ${String(r.lost).padEnd(4)}  ${String(r.doubled).padEnd(7)}  ${r.ok ? 'pass' : 'FAIL'}`,
    ),
  ];
  for (const r of results)
    for (const c of r.checks) lines.push(`  ${r.name}: ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}`);
  return lines.join('\n');
}

/** Private PostgreSQL, Redis and Kafka on loopback; stopped by the returned function. */
async function privateServices(): Promise<{ services: Services; stop: () => Promise<void> }> {
  const stops: Array<() => void> = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      try {
        s();
      } catch {
        // keep stopping the others
      }
    }
    await Promise.resolve();
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'cad-triage-faults-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    // PostgreSQL: initdb refuses to run as root, so the cluster belongs to the postgres user then.
    const pgBin = '/usr/lib/postgresql/15/bin';
    const pgDir = join(dir, 'pg');
    const pgPort = await freePort();
    const asPg = (cmd: string, args: string[]) =>
      process.getuid?.() === 0
        ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
        : spawnSync(cmd, args, { encoding: 'utf8' });
    if (process.getuid?.() === 0)
      chownSync(
        dir,
        Number(spawnSync('id', ['-u', 'postgres']).stdout),
        Number(spawnSync('id', ['-g', 'postgres']).stdout),
      );
    let r = asPg(`${pgBin}/initdb`, ['-D', pgDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    if (r.status !== 0) throw new Error(`initdb: ${r.stderr}`);
    r = asPg(`${pgBin}/pg_ctl`, [
      '-D',
      pgDir,
      '-l',
      join(pgDir, 'log'),
      '-w',
      '-o',
      `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1`,
      'start',
    ]);
    if (r.status !== 0) throw new Error(`pg_ctl start: ${r.stderr}`);
    stops.push(() => asPg(`${pgBin}/pg_ctl`, ['-D', pgDir, '-m', 'immediate', 'stop']));
    // Redis
    const redisPort = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    stops.push(() => redis.kill('SIGKILL'));
    // Kafka: its own ports and state folder (the jars are shared with scripts/kafka.sh's usual broker).
    const kafkaPort = await freePort();
    const controllerPort = await freePort();
    const kafkaEnv = {
      ...process.env,
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_STATE_DIR: join(dir, 'kafka'),
      KAFKA_PARTITIONS: '3',
    };
    stops.push(() =>
      spawnSync('bash', [join(root, 'scripts/kafka.sh'), 'stop'], { env: kafkaEnv, stdio: 'inherit' }),
    );
    const started = spawnSync('bash', [join(root, 'scripts/kafka.sh'), 'start'], {
      env: kafkaEnv,
      stdio: 'inherit',
    });
    if (started.status !== 0) throw new Error('the private Kafka broker did not start');
    return {
      services: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const short = process.argv.includes('--short');
  const { services, stop } = await privateServices();
  const results: ScenarioResult[] = [];
  try {
    results.push(await nearLimit(services, { good: short ? 100 : 1000 }));
    results.push(await malformed(services, short ? { bad: 1000, good: 100 } : {}));
  } finally {
    await stop();
  }
  process.stdout.write(`${format(results)}\n`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
