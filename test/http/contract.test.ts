/**
 * The REST contract, tested from the outside: a client made only from the committed
 * openapi/openapi.yaml (types by openapi-typescript in contract/openapi.d.ts, calls by openapi-fetch)
 * drives a real service listening on 127.0.0.1 through triage, decision lookup, feedback and the
 * referral queue. The service is the embedded default, started as on a first run: the admin key it
 * prints once is the key the client uses.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import createClient from 'openapi-fetch';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { CLIENT_TYPES, renderClientTypes } from '../../scripts/contracts.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { NIGHT } from './fixture.ts';
import type { paths } from './contract/openapi.d.ts';

t.test('the client types are generated from the committed openapi/openapi.yaml', async (t) => {
  t.equal(
    await renderClientTypes(readFileSync('openapi/openapi.yaml', 'utf8')),
    readFileSync(CLIENT_TYPES, 'utf8'),
    'regenerate with node scripts/contracts.ts',
  );
});

t.test('a generated client drives triage, lookup, feedback and the referral queue', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const service = await startService(
    loadConfig({ PGLITE_DATA_DIR: 'memory://' }),
    createLogger({ level: 'warn' }, sink),
    { watchRules: false, now: () => NIGHT },
  );
  t.teardown(() => service.close());
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = service.app.server.address() as { port: number };

  const first = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => /admin API key/.test(l.msg));
  const key = /(ct_[a-z0-9]+_[A-Za-z0-9_-]+)/.exec(first?.msg ?? '')?.[1];
  t.ok(key, 'the first start logs a local admin key once');

  const api = createClient<paths>({
    baseUrl: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${key}` },
  });
  const anonymous = createClient<paths>({ baseUrl: `http://127.0.0.1:${port}` });

  const live = await anonymous.GET('/health/live');
  t.equal(live.data?.status, 'live');

  const denied = await anonymous.GET('/v1/referrals', { params: { query: { limit: 10 } } });
  t.equal(denied.response.status, 401);
  t.equal(denied.error?.code, 'ERR_AUTH_MISSING');

  // Triage until a call opens a referral (most do at night), then follow it through.
  let decision;
  for (const c of devCases().slice(0, 20)) {
    const res = await api.POST('/v1/triage', { body: freshCall(c.call) });
    t.equal(res.response.status, 200, `triage ${c.id}`);
    if (res.data?.referral.created) {
      decision = res.data;
      break;
    }
  }
  if (!decision) throw new Error('no call opened a referral');
  t.ok(decision.summary.length >= 1, 'a decision says why');

  const again = await api.GET('/v1/decisions/{decisionId}', {
    params: { path: { decisionId: decision.decisionId } },
  });
  t.equal(again.data?.decisionId, decision.decisionId);

  // Every decision carries the call's APCO common type, in the response and as stored.
  const { narrative: _narrative, ...quiet } = devCases()[0]!.call;
  const typed = await api.POST('/v1/triage', {
    body: freshCall({ ...quiet, callType: { code: 'ASLT W/ WPN' } }),
  });
  t.equal(typed.response.status, 200);
  t.match(typed.data?.commonType, { code: 'NCRASLTWF', foundBy: 'vocabulary', floor: 'police_secure_first' });
  t.equal(typed.data?.gate.value, 'police_secure_first', 'the floor of a weapon call type');
  const typedAgain = await api.GET('/v1/decisions/{decisionId}', {
    params: { path: { decisionId: typed.data!.decisionId } },
  });
  t.same(typedAgain.data?.commonType, typed.data?.commonType, 'stored with the decision');

  const history = await api.GET('/v1/incidents/{incidentId}/decisions', {
    params: { path: { incidentId: decision.incidentId } },
  });
  t.same(
    history.data?.decisions.map((d) => d.decisionId),
    [decision.decisionId],
  );

  const feedback = await api.POST('/v1/decisions/{decisionId}/feedback', {
    params: { path: { decisionId: decision.decisionId } },
    body: { action: 'overridden', modeSent: 'police_only', reason: 'caller mentioned a knife' },
  });
  t.equal(feedback.response.status, 201);
  t.equal(feedback.data?.decisionId, decision.decisionId);

  const queue = await api.GET('/v1/referrals', {
    params: { query: { status: 'open', jurisdiction: decision.jurisdiction, limit: 200 } },
  });
  const referral = queue.data?.referrals.find((r) => r.referralId === decision.referral.referralId);
  t.ok(referral, 'the referral is in the open queue');

  const assigned = await api.PATCH('/v1/referrals/{referralId}', {
    params: { path: { referralId: referral!.referralId } },
    body: { status: 'assigned', assignedTo: 'sw-12' },
  });
  t.equal(assigned.data?.status, 'assigned');
  const closed = await api.PATCH('/v1/referrals/{referralId}', {
    params: { path: { referralId: referral!.referralId } },
    body: { status: 'closed', outcome: 'connected to the mobile crisis team' },
  });
  t.equal(closed.data?.status, 'closed');

  const backwards = await api.PATCH('/v1/referrals/{referralId}', {
    params: { path: { referralId: referral!.referralId } },
    body: { status: 'assigned', assignedTo: 'sw-12' },
  });
  t.equal(backwards.response.status, 409);
  t.equal(backwards.error?.code, 'ERR_REFERRAL_TRANSITION');

  const missing = await api.GET('/v1/decisions/{decisionId}', {
    params: { path: { decisionId: '00000000-0000-4000-8000-000000000000' } },
  });
  t.equal(missing.response.status, 404);
  t.equal(missing.error?.code, 'ERR_NOT_FOUND');
  t.match(missing.response.headers.get('content-type'), /^application\/problem\+json/);

  const status = await api.GET('/v1/admin/rules');
  t.match(status.data, { rules: { version: /^sha256:/ }, policies: { version: /./ } });
});
