/**
 * Everything storage would refuse is refused at validation: a 400 naming the field on the first try,
 * never a database error (a 500, or retries on Kafka). Runs on PostgreSQL when available, since it is
 * PostgreSQL's limits (integer range, jsonb's refusal of unpaired surrogates) that are at stake.
 */
import t from 'tap';
import { MAX_DEPTH, MAX_ID_LENGTH, MAX_VALUES } from '../../src/domain/call-event.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { assertProblem, testService } from './fixture.ts';

t.test('values PostgreSQL refuses are a 400 naming the field, and nothing is stored', async (t) => {
  const ts = await testService(t);
  const app = ts.service.app;
  const admin = await ts.key('admin', ['*']);
  const base = devCases()[0]!.call;
  const nest = (levels: number): unknown => (levels === 0 ? 'deep' : { next: nest(levels - 1) });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['revision beyond integer', { revision: 3_000_000_000 }, 'body.revision'],
    ['unpaired surrogate in the narrative', { narrative: 'caller says \ud800 hello' }, 'body.narrative'],
    ['NUL in the event id', { eventId: 'evt-\u0000-1' }, 'body.eventId'],
    ['newline in the incident id', { incidentId: 'INC\n1' }, 'body.incidentId'],
    ['unpaired surrogate in an id', { incidentId: 'INC-\udc00' }, 'body.incidentId'],
    ['id over the one limit', { eventId: 'e'.repeat(MAX_ID_LENGTH + 1) }, 'body.eventId'],
    [
      'control character in the jurisdiction',
      { agency: { id: 'CT0001', jurisdiction: 'new-haven\u0007' } },
      'body.agency.jurisdiction',
    ],
    ['unpaired surrogate in an unknown field', { cadExtra: { note: 'x\udbff' } }, 'body.cadExtra.note'],
    ['unpaired surrogate in an unknown field name', { ['bad\ud800key']: 1 }, 'body'],
    ['unknown field nested too deep', { cadExtra: nest(MAX_DEPTH + 2) }, 'body.cadExtra'],
    ['too many values', { cadExtra: Array.from({ length: MAX_VALUES + 1 }, () => 1) }, 'body'],
  ];
  const before = await ts.count('decisions');
  for (const [name, change, path] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/triage',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ ...freshCall(base), ...change }),
    });
    const body = assertProblem(t, res, 400, 'ERR_VALIDATION') as { errors?: Array<{ path: string }> };
    t.ok(
      body.errors?.some((e) => e.path === path || e.path.startsWith(`${path}.`)),
      `${name}: names ${path} (${JSON.stringify(body.errors?.map((e) => e.path))})`,
    );
  }
  t.equal(await ts.count('decisions'), before, 'nothing stored');

  // Just inside the bounds is accepted and stored.
  const inside = await app.inject({
    method: 'POST',
    url: '/v1/triage',
    headers: { authorization: `Bearer ${admin}` },
    payload: {
      ...freshCall(base),
      revision: 2_147_483_647,
      narrative: 'a paired surrogate is fine: \ud83d\ude91',
      cadExtra: nest(MAX_DEPTH - 3),
    },
  });
  t.equal(inside.statusCode, 200, `inside the bounds: ${inside.statusCode} ${inside.body.slice(0, 200)}`);
});
