/**
 * NENA EIDO over REST: NENA's sample and a typed incident are decided (on POST /v1/triage with the
 * EIDO media type and on POST /v1/triage/eido), a re-sent EIDO is idempotent, and every malformed
 * EIDO of the table gets a 400 problem naming the JSON pointer of what is wrong, storing nothing.
 */
import t from 'tap';
import { EIDO_MEDIA_TYPE } from '../../src/adapters/eido/index.ts';
import { eidoRulesDir, eidoSample, malformedEidos, SAMPLE_JURISDICTION, typedEido } from '../helpers/eido.ts';
import { assertProblem, testService } from './fixture.ts';

const ts = await testService(t, { RULES_DIR: eidoRulesDir(t) });
const app = ts.service.app;
const admin = { authorization: `Bearer ${await ts.key('admin', ['*'])}` };
const send = (body: unknown, contentType = EIDO_MEDIA_TYPE, url = '/v1/triage', headers = admin) =>
  app.inject({
    method: 'POST',
    url,
    headers: { ...headers, 'content-type': contentType },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

type Problem = {
  code: string;
  errors?: Array<{ path: string; pointer?: string; code?: string; message: string }>;
};
type Decision = {
  decisionId: string;
  eventId: string;
  incidentId: string;
  jurisdiction: string;
  revision: number;
};

t.test(`NENA's sample is decided on POST /v1/triage as ${EIDO_MEDIA_TYPE}`, async (t) => {
  const res = await send(eidoSample(), `${EIDO_MEDIA_TYPE}; version="1"`);
  t.equal(res.statusCode, 200, res.body);
  const d = res.json() as Decision;
  t.equal(d.incidentId, 'urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us');
  t.equal(d.jurisdiction, SAMPLE_JURISDICTION, "the policy listing the sample's agency");
  t.match(d.eventId, /^eido:/);

  const again = await send(eidoSample(), EIDO_MEDIA_TYPE, '/v1/triage/eido');
  t.equal(again.statusCode, 200);
  t.equal(
    (again.json() as Decision).decisionId,
    d.decisionId,
    're-sent: the stored decision, on either route',
  );
});

t.test('a typed EIDO is decided with its APCO type; a later update supersedes it', async (t) => {
  const eido = typedEido('SUICTHRT', {
    $id: 'urn:emergency:uid:incidentid:typed-1:bcf.state.pa.us',
    lastUpdateTimeStamp: '2026-02-11T02:59:00.000-05:00',
  });
  const res = await send(eido, 'application/json', '/v1/triage/eido');
  t.equal(res.statusCode, 200, res.body);
  const d = res.json() as Decision & { categories: Array<{ category: string }> };
  t.ok(
    d.categories.some((c) => c.category === 'behavioral_health'),
    'the note and the type make it a behavioral health call',
  );
  t.match(
    (d as unknown as { commonType: unknown }).commonType,
    { code: 'SUICTHRT', foundBy: 'call' },
    'the decision carries the APCO type the EIDO sent',
  );
  const { rows } = await ts.service.resources.db.query<{ call: { callType: unknown; subjects: unknown } }>(
    'SELECT call FROM decisions WHERE decision_id = $1',
    [d.decisionId],
  );
  t.same(
    rows[0]?.call.callType,
    { code: '10-56S', description: 'SUICIDAL PERSON - THREATS', commonType: 'SUICTHRT' },
    'the stored call carries the APCO type for the crosswalk to resolve',
  );

  const later = await send({ ...eido, lastUpdateTimeStamp: '2026-02-11T03:05:00.000-05:00' });
  t.equal(later.statusCode, 200);
  const d2 = later.json() as Decision & { supersedes: string | null };
  t.ok(d2.revision > d.revision, 'a later revision');
  t.equal(d2.supersedes, d.decisionId, 'supersedes the first decision');

  const earlier = await send({ ...eido, lastUpdateTimeStamp: '2026-02-11T02:58:00.000-05:00' });
  assertProblem(t, earlier, 409, 'ERR_STALE_REVISION');
});

t.test('a key of another jurisdiction may not triage the EIDO', async (t) => {
  const key = await ts.key('dispatch', ['new-haven']);
  const res = await send(eidoSample(), EIDO_MEDIA_TYPE, '/v1/triage', { authorization: `Bearer ${key}` });
  assertProblem(t, res, 403, 'ERR_FORBIDDEN');
});

const cases = malformedEidos();
t.test(`${cases.length} malformed EIDOs: each a 400 naming its JSON pointer; nothing stored`, async (t) => {
  const before = await ts.count('decisions');
  for (const c of cases) {
    // Both doors: the EIDO media type on /v1/triage, and the dedicated route.
    const res = await send(c.body, EIDO_MEDIA_TYPE, cases.indexOf(c) % 2 ? '/v1/triage' : '/v1/triage/eido');
    const body = assertProblem(t, res, 400, 'ERR_EIDO_INVALID') as Problem;
    const hit = body.errors?.find((e) => e.pointer === c.pointer);
    t.ok(hit, `${c.name}: names ${JSON.stringify(c.pointer)}`);
    t.equal(hit?.code, c.code, `${c.name}: ${c.code}`);
    t.notMatch(res.body, /SECRETNOTE|Cellular|8195551212/, `${c.name}: quotes no input value`);
  }
  t.equal(await ts.count('decisions'), before, 'no decision stored');
});

t.test('other media types are still refused with 415', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/triage/eido',
    headers: { ...admin, 'content-type': 'application/xml' },
    payload: '<eido/>',
  });
  assertProblem(t, res, 415, 'ERR_MEDIA_TYPE');
});
