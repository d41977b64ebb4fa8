import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';

t.test('readiness turns 503 and names the dependency that stopped answering', async (t) => {
  const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
  const store = createMemoryStore();
  const app = await buildApp({
    config: loadConfig({}),
    logger: createLogger({ level: 'silent' }),
    resources: { checks: { pglite: () => db.ping(), cache: () => store.ping() } },
  });
  t.teardown(() => app.close());

  const live = await app.inject({ method: 'GET', url: '/health/live' });
  t.equal(live.statusCode, 200);
  t.same(live.json(), { status: 'live' });

  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);

  await db.close();
  const down = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(down.statusCode, 503);
  t.match(down.json(), { status: 'not_ready', checks: { pglite: { ok: false }, cache: { ok: true } } });
  t.type(down.json().checks.pglite.error, 'string');
  await store.close();
});

t.test('a check that hangs fails by timeout instead of hanging the probe', async (t) => {
  const app = await buildApp({
    config: loadConfig({}),
    logger: createLogger({ level: 'silent' }),
    resources: { checks: { stuck: () => new Promise<void>(() => {}) } },
  });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(res.statusCode, 503);
  t.match(res.json(), { checks: { stuck: { ok: false, error: /no answer within/ } } });
});

t.test('malformed JSON gets a problem+json 400, not a crash', async (t) => {
  const app = await buildApp({
    config: loadConfig({}),
    logger: createLogger({ level: 'silent' }),
    resources: { checks: {} },
  });
  app.post('/echo', async (req) => req.body);
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"a":',
  });
  t.equal(res.statusCode, 400);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(res.json(), { code: 'ERR_VALIDATION', status: 400 });
});
