/**
 * Errors are problem+json with a catalogue code: every dev.jsonl call with one field broken at a
 * time gets a 400 naming exactly that field and stores nothing; too-large and non-JSON bodies get
 * their own codes; a 5xx says nothing about its cause.
 */
import t from 'tap';
import type { CallEvent } from '../../src/domain/call-event.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { assertProblem, testService } from './fixture.ts';

type Break = { path: string; apply(call: Record<string, unknown>): void };

const set = (obj: Record<string, unknown>, path: string, value: unknown) => {
  const parts = path.split('.');
  let o = obj as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  if (value === undefined) delete o[parts.at(-1)!];
  else o[parts.at(-1)!] = value;
};

/** One broken field per entry: missing, wrong type or out of range. Optional fields only when present. */
function breaks(call: CallEvent): Break[] {
  const b = (path: string, value: unknown): Break => ({ path, apply: (c) => set(c, path, value) });
  const out: Break[] = [
    b('eventId', undefined),
    b('eventId', 42),
    b('incidentId', ''),
    b('revision', undefined),
    b('revision', '2'),
    b('revision', 0),
    b('occurredAt', 'yesterday'),
    b('agency', undefined),
    b('agency.id', undefined),
    b('agency.jurisdiction', 7),
    b('callType', 'DISTURB'),
    b('callType.code', undefined),
  ];
  if (call.priority !== undefined) out.push(b('priority', 10));
  if (call.narrative !== undefined) out.push(b('narrative', ['not', 'text']));
  if (call.location?.lat !== undefined) out.push(b('location.lat', 91));
  if (call.subjects?.[0]?.age !== undefined) out.push(b('subjects.0.age', -1));
  if (call.screening?.weapons !== undefined) out.push(b('screening.weapons', 'maybe'));
  if (call.source !== undefined) out.push(b('source', 'carrier-pigeon'));
  return out;
}

t.test('each dev.jsonl call with one field broken: 400 naming that field, nothing stored', async (t) => {
  const ts = await testService(t, { RATE_LIMIT_PER_MINUTE: '1000000' });
  const app = ts.service.app;
  const admin = await ts.key('admin', ['*']);
  const tables = ['incidents', 'decisions', 'stale_events', 'referrals'];
  const counts = async () => Promise.all(tables.map((x) => ts.count(x)));
  const before = await counts();
  let n = 0;
  for (const c of devCases()) {
    for (const br of breaks(c.call)) {
      const call = structuredClone(freshCall(c.call)) as unknown as Record<string, unknown>;
      br.apply(call);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/triage',
        headers: { authorization: `Bearer ${admin}` },
        payload: call,
      });
      const body = res.json() as { code: string; errors?: Array<{ path: string }> };
      const paths = body.errors?.map((e) => e.path) ?? [];
      const ok =
        res.statusCode === 400 &&
        String(res.headers['content-type']).startsWith('application/problem+json') &&
        body.code === 'ERR_VALIDATION' &&
        paths.length > 0 &&
        paths.every((p) => p === `body.${br.path}`);
      // One assertion per case would be thousands of lines of output; failures name themselves.
      if (!ok) t.fail(`${c.id} ${br.path}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      n += 1;
    }
  }
  t.ok(n > devCases().length * 12, `${n} broken calls, each answered 400 naming its field`);
  t.same(await counts(), before, `nothing stored (${tables.join(', ')})`);
});

t.test('other client errors: body too large, not JSON, bad params, bad feedback', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  const admin = await ts.key('admin', ['*']);
  const auth = { authorization: `Bearer ${admin}` };

  const huge = freshCall(devCases()[0]!.call, { narrative: 'x'.repeat(300 * 1024) });
  assertProblem(
    t,
    await app.inject({ method: 'POST', url: '/v1/triage', headers: auth, payload: huge }),
    413,
    'ERR_BODY_TOO_LARGE',
  );

  const bigFeedback = await app.inject({
    method: 'POST',
    url: `/v1/decisions/${crypto.randomUUID()}/feedback`,
    headers: auth,
    payload: { action: 'accepted', reason: 'y'.repeat(20 * 1024) },
  });
  assertProblem(t, bigFeedback, 413, 'ERR_BODY_TOO_LARGE');

  assertProblem(
    t,
    await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'hello',
    }),
    415,
    'ERR_MEDIA_TYPE',
  );
  assertProblem(
    t,
    await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"eventId":',
    }),
    400,
    'ERR_VALIDATION',
  );

  const badId = assertProblem(
    t,
    await app.inject({ method: 'GET', url: '/v1/decisions/nope', headers: auth }),
    400,
    'ERR_VALIDATION',
  );
  t.match(badId, { errors: [{ path: 'params.decisionId' }] });

  const badFeedback = await app.inject({
    method: 'POST',
    url: `/v1/decisions/${crypto.randomUUID()}/feedback`,
    headers: auth,
    payload: { action: 'ignored', modeSent: 'helicopter' },
  });
  const fb = assertProblem(t, badFeedback, 400, 'ERR_VALIDATION');
  t.same((fb as unknown as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort(), [
    'body.action',
    'body.modeSent',
  ]);

  const badQuery = await app.inject({
    method: 'GET',
    url: '/v1/referrals?limit=0&status=lost',
    headers: auth,
  });
  const q = assertProblem(t, badQuery, 400, 'ERR_VALIDATION') as unknown as {
    errors: Array<{ path: string }>;
  };
  t.same(q.errors.map((e) => e.path).sort(), ['querystring.limit', 'querystring.status']);

  const closing = await app.inject({
    method: 'PATCH',
    url: `/v1/referrals/${crypto.randomUUID()}`,
    headers: auth,
    payload: { status: 'closed' },
  });
  t.match(assertProblem(t, closing, 400, 'ERR_VALIDATION'), { errors: [{ path: 'body.outcome' }] });
});

t.test('a 5xx says nothing about its cause', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  const admin = await ts.key('admin', ['*']);
  // Make the database fail in a way that is not an outage: a query error with internals in it.
  const db = ts.service.resources.db;
  const query = db.query.bind(db);
  db.query = (async (text: string, params?: unknown[]) => {
    if (text.includes('FROM decisions WHERE decision_id'))
      throw new Error('relation "secret_table" at 10.0.0.5 exploded');
    return query(text, params);
  }) as typeof db.query;
  t.teardown(() => {
    db.query = query;
  });
  const res = await app.inject({
    method: 'GET',
    url: `/v1/decisions/${crypto.randomUUID()}`,
    headers: { authorization: `Bearer ${admin}` },
  });
  const body = assertProblem(t, res, 500, 'ERR_INTERNAL');
  t.notMatch(res.body, /secret_table|10\.0\.0\.5|exploded|at /, 'no internals');
  t.same(Object.keys(body).sort(), ['code', 'status', 'title', 'type']);
});
