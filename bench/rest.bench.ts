/**
 * REST throughput: `POST /v1/triage` over a real socket on 127.0.0.1 (autocannon, keep-alive
 * connections), each request a fresh event (new eventId and incidentId, dev cases cycled) so every
 * one is decided and stored, beside a bare Fastify route that echoes the same bodies, measured in
 * the same run. PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set, else the embedded
 * default (in-memory PGlite, in-process cache); the figure's name says which. With PostgreSQL, a
 * third bare route stores each body with one INSERT before answering: the floor under any design
 * that keeps every call durably, measured in the same run.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createKey } from '../src/auth/keys.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startService } from '../src/service.ts';
import { fileURLToPath } from 'node:url';
import { triage as triageCall } from '../src/triage/pipeline.ts';
import { devCases } from '../test/helpers/calls.ts';
import { asyncOpsPerSecond, type Bench } from './harness.ts';

const CONNECTIONS = 16;
const DURATION_S = 8;

/** The request builder, run in autocannon's worker thread so load generation does not share the server's event loop. */
const SETUP_REQUEST = fileURLToPath(new URL('./rest-request.cjs', import.meta.url));

async function load(url: string, headers: Record<string, string>) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    workers: 1,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        // A file path, not a function: autocannon's workers require() it (see its README, "Workers").
        setupRequest: SETUP_REQUEST as never,
      },
    ],
  });
  const errors = result.non2xx + result.errors + result.timeouts;
  return { rps: result.requests.average, p99: result.latency.p99, errors };
}

const bench: Bench = {
  name: 'rest',
  async run() {
    const full = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
    const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      PGLITE_DATA_DIR: 'memory://',
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...(full
        ? {
            DATABASE_URL: process.env.DATABASE_URL,
            DATABASE_SCHEMA: schema,
            REDIS_URL: process.env.REDIS_URL,
            REDIS_KEY_PREFIX: `${schema}:`,
            PII_HASH_KEY: 'bench-key-0123456789abcdef',
          }
        : {}),
    });
    const service = await startService(config, createLogger({ level: 'silent' }), { watchRules: false });
    const { key } = await createKey(service.resources.db, {
      role: 'dispatch',
      jurisdictions: ['*'],
      name: 'bench',
    });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (service.app.server.address() as { port: number }).port;

    const bare = Fastify({ logger: false });
    bare.post('/echo', async (req) => req.body);
    // The least any durable triage route can do: one INSERT of the body per request, answered once
    // committed (PostgreSQL only). Its distance from the echo is what durability alone costs here.
    const pool = full
      ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: CONNECTIONS })
      : undefined;
    if (pool) {
      await pool.query(`CREATE TABLE "${schema}".floor (id uuid PRIMARY KEY, body jsonb NOT NULL)`);
      bare.post('/insert', async (req) => {
        await pool.query(`INSERT INTO "${schema}".floor VALUES ($1, $2)`, [randomUUID(), req.body]);
        return req.body;
      });
    }
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const barePort = (bare.server.address() as { port: number }).port;

    const floor = pool ? await load(`http://127.0.0.1:${barePort}/insert`, {}) : undefined;
    await pool?.end();
    const baseline = await load(`http://127.0.0.1:${barePort}/echo`, {});
    const triage = await load(`http://127.0.0.1:${port}/v1/triage`, { authorization: `Bearer ${key}` });
    // The same pipeline called in process, as many in flight: what the REST layer (HTTP, JSON, auth,
    // rate limit) costs on top of the work itself.
    const calls = devCases().map((c) => c.call);
    const direct = await asyncOpsPerSecond(
      async (i) => {
        const id = randomUUID();
        await triageCall(
          { ...calls[i % calls.length]!, eventId: `direct-${id}`, incidentId: `DIRECT-${id}` },
          service.deps,
        );
      },
      { ms: DURATION_S * 1000, concurrency: CONNECTIONS },
    );

    await bare.close();
    if (full) await service.resources.db.exec(`DROP SCHEMA "${schema}" CASCADE`);
    await service.close();

    const where = full ? 'postgres+redis' : 'embedded pglite';
    const notes = `${CONNECTIONS} connections, ${DURATION_S} s each, dispatch key (auth + rate limit on)${triage.errors ? `; ${triage.errors} non-2xx/errors` : ''}`;
    return [
      {
        name: `POST /v1/triage (${where})`,
        value: triage.rps,
        unit: 'req/s',
        higherIsBetter: true,
        baseline: { name: 'bare Fastify echo', value: baseline.rps },
        targetRatio: 0.5,
        notes,
      },
      ...(floor
        ? [
            {
              name: 'bare Fastify route doing one INSERT per request (the durable floor)',
              value: floor.rps,
              unit: 'req/s',
              higherIsBetter: true,
              baseline: { name: 'bare Fastify echo', value: baseline.rps },
              notes: `${CONNECTIONS} connections; any design that stores each call before answering is below this`,
            },
            {
              name: `POST /v1/triage vs the durable floor (${where})`,
              value: triage.rps,
              unit: 'req/s',
              higherIsBetter: true,
              baseline: { name: 'bare route, one INSERT per request', value: floor.rps },
              notes,
            },
          ]
        : []),
      {
        name: `POST /v1/triage vs the pipeline in process (${where})`,
        value: triage.rps,
        unit: 'req/s',
        higherIsBetter: true,
        baseline: { name: `triage() direct, ${CONNECTIONS} in flight`, value: direct },
        notes,
      },
      {
        name: `POST /v1/triage p99 (${where})`,
        value: triage.p99,
        unit: 'ms',
        higherIsBetter: false,
        baseline: { name: 'bare Fastify echo p99', value: baseline.p99 },
        notes,
      },
    ];
  },
};

export default bench;
