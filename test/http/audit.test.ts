/**
 * The admin audit over REST (who reloaded the rules, made or revoked keys, purged narratives) and
 * the per-address limit on failed authentications, which keeps key guessing from costing a database
 * lookup per guess.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { assertProblem, testService } from './fixture.ts';

t.test('GET /v1/admin/audit: admin actions newest first, paged, admins only', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  const admin = await ts.key('admin', ['*']);
  const adminId = /^ct_([a-z0-9]{12})_/.exec(admin)![1];
  const auth = { authorization: `Bearer ${admin}` };
  for (let i = 0; i < 3; i++) {
    const r = await app.inject({ method: 'POST', url: '/v1/admin/rules/reload', headers: auth });
    t.equal(r.statusCode, 200);
  }
  const page = await app.inject({ method: 'GET', url: '/v1/admin/audit?limit=2', headers: auth });
  t.equal(page.statusCode, 200);
  const body = page.json() as {
    entries: Array<{ auditId: number; actor: string; action: string; details: object }>;
    next: number | null;
  };
  t.equal(body.entries.length, 2);
  t.match(body.entries[0], {
    actor: adminId,
    action: 'rules.reload',
    details: { ok: true, rulesVersion: /^sha256:/ },
  });
  t.ok(body.entries[0]!.auditId > body.entries[1]!.auditId, 'newest first');
  t.equal(body.next, body.entries[1]!.auditId);
  const rest = (
    await app.inject({ method: 'GET', url: `/v1/admin/audit?limit=100&before=${body.next}`, headers: auth })
  ).json() as { entries: unknown[]; next: number | null };
  t.ok(rest.entries.length >= 1, 'the older page');
  t.equal(rest.next, null, 'the last page says so');
  const dispatch = await ts.key('dispatch', ['new-haven']);
  assertProblem(
    t,
    await app.inject({
      method: 'GET',
      url: '/v1/admin/audit',
      headers: { authorization: `Bearer ${dispatch}` },
    }),
    403,
    'ERR_FORBIDDEN',
  );
  assertProblem(
    t,
    await app.inject({ method: 'GET', url: '/v1/admin/audit?limit=0', headers: auth }),
    400,
    'ERR_VALIDATION',
  );
});

t.test('failed authentications are limited per client address, before any key lookup', async (t) => {
  const ts = await testService(t, { AUTH_FAILURES_PER_MINUTE: '5' });
  const app = ts.service.app;
  const good = await ts.key('dispatch', ['new-haven']);
  const get = (key: string, ip = '10.0.0.7') =>
    app.inject({
      method: 'GET',
      url: '/v1/referrals',
      headers: { authorization: `Bearer ${key}` },
      remoteAddress: ip,
    });
  t.equal((await get(good)).statusCode, 200, 'a good key works');
  const guess = () => `ct_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  for (let i = 0; i < 5; i++) assertProblem(t, await get(guess()), 401, 'ERR_AUTH_INVALID');
  const limited = await get(guess());
  assertProblem(t, limited, 429, 'ERR_RATE_LIMITED');
  const retry = Number(limited.headers['retry-after']);
  t.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  t.equal((await get(good)).statusCode, 200, 'a key already in use from that address keeps working');
  assertProblem(t, await get(guess(), '10.0.0.8'), 401, 'ERR_AUTH_INVALID');
  t.pass('another address has its own budget');
});
