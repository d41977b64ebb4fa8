/**
 * The authorization matrix: every route × every kind of caller, with the resource in the caller's
 * own jurisdiction or another one. Reads (and writes addressed by id) of another jurisdiction's
 * records answer 404, a body naming another jurisdiction 403, a role the route does not allow 403.
 */
import t from 'tap';
import type { Decision } from '../../src/domain/decision.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { assertProblem, testService } from './fixture.ts';

const OWN = 'new-haven';
const OTHER = 'stamford';

type Caller =
  | 'no key'
  | 'invalid key'
  | 'revoked key'
  | 'dispatch own'
  | 'dispatch other'
  | 'vendor own'
  | 'vendor other'
  | 'admin';
const CALLERS: Caller[] = [
  'no key',
  'invalid key',
  'revoked key',
  'dispatch own',
  'dispatch other',
  'vendor own',
  'vendor other',
  'admin',
];

/** What a route answers a caller allowed by role: 'ok' in its own jurisdiction, `other` elsewhere. */
interface Route {
  name: string;
  roles: Array<'dispatch' | 'vendor' | 'admin'> | 'public';
  /** The answer to an allowed role outside its jurisdiction. */
  other: 403 | 404 | 'hidden' | 'ok';
  ok: number;
  request(f: { decision: Decision; referralId: string; call: object }): {
    method: 'GET' | 'POST' | 'PATCH';
    url: string;
    payload?: object;
  };
}

const ownCase = devCases().find((c) => c.call.agency.jurisdiction === OWN)!;

const ROUTES: Route[] = [
  {
    name: 'POST /v1/triage',
    roles: ['dispatch', 'vendor', 'admin'],
    other: 403,
    ok: 200,
    request: ({ call }) => ({ method: 'POST', url: '/v1/triage', payload: call }),
  },
  {
    name: 'GET /v1/decisions/:id',
    roles: ['dispatch', 'vendor', 'admin'],
    other: 404,
    ok: 200,
    request: ({ decision }) => ({ method: 'GET', url: `/v1/decisions/${decision.decisionId}` }),
  },
  {
    name: 'GET /v1/incidents/:id/decisions',
    roles: ['dispatch', 'vendor', 'admin'],
    other: 404,
    ok: 200,
    request: ({ decision }) => ({ method: 'GET', url: `/v1/incidents/${decision.incidentId}/decisions` }),
  },
  {
    name: 'POST /v1/decisions/:id/feedback',
    roles: ['dispatch', 'admin'],
    other: 404,
    ok: 201,
    request: ({ decision }) => ({
      method: 'POST',
      url: `/v1/decisions/${decision.decisionId}/feedback`,
      payload: { action: 'accepted' },
    }),
  },
  {
    name: 'GET /v1/referrals',
    roles: ['dispatch', 'admin'],
    other: 'hidden',
    ok: 200,
    request: () => ({ method: 'GET', url: '/v1/referrals?limit=200&status=open' }),
  },
  {
    name: 'PATCH /v1/referrals/:id',
    roles: ['dispatch', 'admin'],
    other: 404,
    ok: 200,
    request: ({ referralId }) => ({
      method: 'PATCH',
      url: `/v1/referrals/${referralId}`,
      payload: { status: 'assigned', assignedTo: 'sw-7' },
    }),
  },
  {
    name: 'GET /v1/admin/rules',
    roles: ['admin'],
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'GET', url: '/v1/admin/rules' }),
  },
  {
    name: 'POST /v1/admin/rules/reload',
    roles: ['admin'],
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'POST', url: '/v1/admin/rules/reload' }),
  },
  {
    name: 'POST /v1/admin/rules/dry-run',
    roles: ['admin'],
    other: 403,
    ok: 200,
    request: ({ call }) => ({ method: 'POST', url: '/v1/admin/rules/dry-run', payload: { call } }),
  },
  {
    name: 'GET /health/live',
    roles: 'public',
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'GET', url: '/health/live' }),
  },
  {
    name: 'GET /health/ready',
    roles: 'public',
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'GET', url: '/health/ready' }),
  },
  {
    name: 'GET /metrics',
    roles: 'public',
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'GET', url: '/metrics' }),
  },
  {
    name: 'GET /docs/json',
    roles: 'public',
    other: 'ok',
    ok: 200,
    request: () => ({ method: 'GET', url: '/docs/json' }),
  },
];

t.test('authorization matrix: every route × caller × own/other jurisdiction', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  t.comment(`backend: ${ts.backend}`);
  const admin = await ts.key('admin', ['*']);
  const keys: Record<Caller, string | undefined> = {
    'no key': undefined,
    'invalid key': 'ct_000000000000_not-a-real-secret-not-a-real-secret-0000000',
    'revoked key': await ts.revokedKey(),
    'dispatch own': await ts.key('dispatch', [OWN]),
    'dispatch other': await ts.key('dispatch', [OTHER]),
    'vendor own': await ts.key('vendor', ['New Haven']), // stored as the policy id new-haven
    'vendor other': await ts.key('vendor', [OTHER]),
    admin,
  };

  // A fresh decision with an open referral in OWN, made by the admin key, for each cell.
  const fixture = async () => {
    for (let i = 0; i < 20; i++) {
      const call = freshCall(devCases().filter((c) => c.call.agency.jurisdiction === OWN)[i]!.call);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/triage',
        headers: { authorization: `Bearer ${admin}` },
        payload: call,
      });
      const decision = res.json() as Decision;
      if (decision.referral?.created)
        return { decision, referralId: decision.referral.referralId!, call: freshCall(ownCase.call) };
    }
    throw new Error(`no ${OWN} dev case opens a referral at night`);
  };

  for (const route of ROUTES) {
    t.test(route.name, async (t) => {
      for (const caller of CALLERS) {
        const f = await fixture();
        const req = route.request(f);
        const key = keys[caller];
        const res = await app.inject({ ...req, headers: key ? { authorization: `Bearer ${key}` } : {} });
        const label = `${caller}: ${res.statusCode}`;
        const role = caller.split(' ')[0] as 'dispatch' | 'vendor' | 'admin';
        const isOther = caller.endsWith('other');
        t.test(label, async (t) => {
          if (route.roles === 'public') {
            t.equal(res.statusCode, route.ok, 'open to everyone');
          } else if (caller === 'no key') {
            assertProblem(t, res, 401, 'ERR_AUTH_MISSING');
            t.match(res.headers['www-authenticate'], /^Bearer/);
          } else if (caller === 'invalid key' || caller === 'revoked key') {
            assertProblem(t, res, 401, 'ERR_AUTH_INVALID');
          } else if (!route.roles.includes(role)) {
            assertProblem(t, res, 403, 'ERR_FORBIDDEN');
          } else if (isOther && route.other === 403) {
            assertProblem(t, res, 403, 'ERR_FORBIDDEN');
          } else if (isOther && route.other === 404) {
            assertProblem(t, res, 404, 'ERR_NOT_FOUND');
          } else if (isOther && route.other === 'hidden') {
            t.equal(res.statusCode, 200);
            const listed = (res.json() as { referrals: Array<{ referralId: string; jurisdiction: string }> })
              .referrals;
            t.notOk(
              listed.some((r) => r.referralId === f.referralId),
              'the other jurisdiction’s referral is not listed',
            );
            t.ok(
              listed.every((r) => r.jurisdiction === OTHER),
              'only its own jurisdiction',
            );
          } else {
            t.equal(res.statusCode, route.ok, res.body.slice(0, 300));
            if (route.other === 'hidden') {
              const listed = (res.json() as { referrals: Array<{ referralId: string }> }).referrals;
              t.ok(
                listed.some((r) => r.referralId === f.referralId),
                'its own jurisdiction’s referral is listed',
              );
            }
          }
        });
      }
    });
  }
});

t.test(
  'incident numbers are per jurisdiction; an event id is not reusable across them; x-api-key works',
  async (t) => {
    const ts = await testService(t);
    const app = ts.service.app;
    const own = await ts.key('dispatch', [OWN]);
    const other = await ts.key('dispatch', [OTHER]);
    const call = freshCall(ownCase.call);
    const first = await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { 'x-api-key': own },
      payload: call,
    });
    t.equal(first.statusCode, 200);
    // The same incident number in another town's CAD is another incident: decided on its own,
    // superseding nothing, and invisible to the first town.
    const sameNumber = freshCall(ownCase.call, {
      incidentId: call.incidentId,
      revision: 1,
      agency: { ...call.agency, jurisdiction: OTHER },
    });
    const second = await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { 'x-api-key': other },
      payload: sameNumber,
    });
    t.equal(second.statusCode, 200, 'not mistaken for a stale revision of the other town’s incident');
    t.match(second.json(), { jurisdiction: OTHER, supersedes: null });
    const ownView = await app.inject({
      method: 'GET',
      url: `/v1/incidents/${encodeURIComponent(call.incidentId)}/decisions`,
      headers: { 'x-api-key': own },
    });
    t.same(
      (ownView.json() as { decisions: Array<{ jurisdiction: string }> }).decisions.map((d) => d.jurisdiction),
      [OWN],
      'each town sees only its own incident',
    );
    // Replaying the first town's event id with the other town's key shows nothing of it.
    const before = await ts.count('decisions');
    const replay = await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { 'x-api-key': other },
      payload: { ...call, agency: { ...call.agency, jurisdiction: OTHER } },
    });
    assertProblem(t, replay, 403, 'ERR_FORBIDDEN');
    t.equal(await ts.count('decisions'), before, 'nothing stored');
  },
);

t.test('per-key rate limit: 429 problem+json with Retry-After, counted per key', async (t) => {
  const ts = await testService(t, { RATE_LIMIT_PER_MINUTE: '3' });
  const app = ts.service.app;
  const a = await ts.key('vendor', [OWN]);
  const b = await ts.key('vendor', [OWN]);
  const get = (key: string) =>
    app.inject({ method: 'GET', url: '/v1/referrals', headers: { authorization: `Bearer ${key}` } });
  const codes = [];
  for (let i = 0; i < 4; i++)
    codes.push(
      (
        await app.inject({
          method: 'GET',
          url: `/v1/decisions/${crypto.randomUUID()}`,
          headers: { authorization: `Bearer ${a}` },
        })
      ).statusCode,
    );
  t.same(codes.slice(0, 3), [404, 404, 404]);
  const limited = await app.inject({
    method: 'GET',
    url: `/v1/decisions/${crypto.randomUUID()}`,
    headers: { authorization: `Bearer ${a}` },
  });
  assertProblem(t, limited, 429, 'ERR_RATE_LIMITED');
  const retry = Number(limited.headers['retry-after']);
  t.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  t.equal(
    (await get(b)).statusCode,
    403,
    'another key has its own budget (and vendors may not list referrals)',
  );
  t.equal(
    (await app.inject({ method: 'GET', url: '/health/live' })).statusCode,
    200,
    'health is not limited',
  );
});

t.test('METRICS_PUBLIC=false makes /metrics admin-only; AUTH_MODE=off opens everything', async (t) => {
  const closed = await testService(t, { METRICS_PUBLIC: 'false' });
  assertProblem(
    t,
    await closed.service.app.inject({ method: 'GET', url: '/metrics' }),
    401,
    'ERR_AUTH_MISSING',
  );
  const admin = await closed.key('admin', ['*']);
  const ok = await closed.service.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${admin}` },
  });
  t.equal(ok.statusCode, 200);
  const dispatch = await closed.key('dispatch', [OWN]);
  assertProblem(
    t,
    await closed.service.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${dispatch}` },
    }),
    403,
    'ERR_FORBIDDEN',
  );

  const open = await testService(t, { AUTH_MODE: 'off' });
  const res = await open.service.app.inject({ method: 'GET', url: '/v1/admin/rules' });
  t.equal(res.statusCode, 200);
});
