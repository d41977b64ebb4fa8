/**
 * Admin routes: the status of the rules and policies serving, a reload (accepted and refused), and
 * a dry run with the serving or candidate rules that stores, counts and emits nothing.
 */
import t from 'tap';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/definitions.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { assertProblem, testService } from './fixture.ts';

t.test('status, reload accepted and refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cad-triage-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(DEFAULTS.rulesDir, dir, { recursive: true });
  const ts = await testService(t, { RULES_DIR: dir });
  const app = ts.service.app;
  const auth = { authorization: `Bearer ${await ts.key('admin', ['*'])}` };

  const status = await app.inject({ method: 'GET', url: '/v1/admin/rules', headers: auth });
  t.equal(status.statusCode, 200);
  const s = status.json();
  t.match(s, {
    rules: { version: /^sha256:/, lastReload: { ok: true } },
    policies: { lastReload: { ok: true } },
  });
  t.ok(s.rules.files.includes('safety-gate.yaml'));
  t.ok(s.policies.files.length > 0);

  t.equal(
    (await app.inject({ method: 'POST', url: '/v1/admin/rules/reload', headers: auth })).statusCode,
    200,
  );

  appendFileSync(join(dir, 'categories.yaml'), '\n  - this is: [not valid\n');
  const refused = await app.inject({ method: 'POST', url: '/v1/admin/rules/reload', headers: auth });
  const body = assertProblem(t, refused, 422, 'ERR_RULES_INVALID') as unknown as {
    errors: Array<{ path: string }>;
  };
  t.ok(
    body.errors.some((e) => e.path.startsWith('categories.yaml:')),
    'names the file and line',
  );
  const after = (await app.inject({ method: 'GET', url: '/v1/admin/rules', headers: auth })).json();
  t.equal(after.rules.version, s.rules.version, 'the old version keeps serving');
  t.equal(after.rules.lastReload.ok, false);
  t.ok(after.rules.lastReload.errors.length > 0);
});

t.test('dry run: serving or candidate rules, nothing stored, counted or emitted', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  const auth = { authorization: `Bearer ${await ts.key('admin', ['*'])}` };
  const call = freshCall(devCases()[0]!.call);
  const tables = ['incidents', 'decisions', 'referrals', 'stale_events'];
  const before = await Promise.all(tables.map((x) => ts.count(x)));
  let emitted = 0;
  ts.service.deps.emit = async () => {
    emitted += 1;
  };

  const serving = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: { call },
  });
  t.equal(serving.statusCode, 200, serving.body.slice(0, 300));
  const d = serving.json();
  t.equal(d.candidate, false);
  t.equal(d.rulesVersion, ts.service.rules.current().version);
  t.type(d.routing.mode, 'string');
  t.type(d.classification.gate.value, 'string');

  const text = readFileSync(join(DEFAULTS.rulesDir, 'categories.yaml'), 'utf8');
  const candidate = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: {
      call,
      rules: { 'categories.yaml': `${text}\n# candidate\n` },
      repeatCalls: { byAddress: 3, byCaller: 1 },
    },
  });
  t.equal(candidate.statusCode, 200);
  t.equal(candidate.json().candidate, true);
  t.not(candidate.json().rulesVersion, d.rulesVersion, 'the candidate has its own version');

  // A candidate crosswalk for the call's town: its code becomes APCO WEAPON, police secure first.
  const crosswalk = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: {
      call,
      rules: {
        'calltypes/town.yaml': `jurisdictions: [${call.agency.jurisdiction}]\ncallTypes:\n  - { code: ${JSON.stringify(call.callType.code)}, apco: WEAPON }\n`,
      },
    },
  });
  t.equal(crosswalk.statusCode, 200, crosswalk.body.slice(0, 300));
  t.match(crosswalk.json().classification.commonType, { code: 'WEAPON', foundBy: 'crosswalk' });
  t.equal(crosswalk.json().classification.gate.value, 'police_secure_first');
  const looser = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: {
      call,
      rules: {
        'calltypes/town.yaml': `jurisdictions: [${call.agency.jurisdiction}]\ncallTypes:\n  - { code: X, apco: WEAPON, floor: civilian_ok }\n`,
      },
    },
  });
  t.match(assertProblem(t, looser, 422, 'ERR_RULES_INVALID'), {
    errors: [{ path: 'calltypes/town.yaml:3' }],
  });

  const broken = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: { call, rules: { 'categories.yaml': 'categories: [' } },
  });
  assertProblem(t, broken, 422, 'ERR_RULES_INVALID');

  const badName = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: { call, rules: { '../etc/passwd': 'x' } },
  });
  assertProblem(t, badName, 400, 'ERR_VALIDATION');

  const badCall = await app.inject({
    method: 'POST',
    url: '/v1/admin/rules/dry-run',
    headers: auth,
    payload: { call: { ...call, revision: 0 } },
  });
  t.match(assertProblem(t, badCall, 400, 'ERR_VALIDATION'), { errors: [{ path: 'body.call.revision' }] });

  t.same(await Promise.all(tables.map((x) => ts.count(x))), before, 'nothing stored');
  t.equal(emitted, 0, 'nothing emitted');
  t.equal(ts.service.rules.current().version, d.rulesVersion, 'the serving rules are unchanged');
});
