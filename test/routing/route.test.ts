/**
 * route() against the shipped Connecticut policies (rules/policies/) and small fixtures, with fixed
 * clocks written in the towns' own time: America/New_York, UTC-5 in winter and UTC-4 from 2026-03-08.
 */
import t from 'tap';
import { RoutingSchema } from '../../src/domain/routing.ts';
import { route } from '../../src/routing/index.ts';
import { BASE_FILES, input, policiesFrom, shippedPolicies } from './helpers.ts';

const policies = await shippedPolicies();

// Wednesday 2026-03-11 (daylight time).
const WED_10AM = new Date('2026-03-11T10:00:00-04:00');
const WED_8PM = new Date('2026-03-11T20:00:00-04:00');
const WED_1130PM = new Date('2026-03-11T23:30:00-04:00');

t.test('in hours the embedded social worker is chosen', async (t) => {
  const r = route(policies, input({ jurisdiction: 'branford' }), WED_10AM);
  t.match(r, {
    jurisdiction: 'branford',
    mode: 'civilian_only',
    policeRole: 'none',
    pool: { id: 'branford-police-sw', model: 'embedded', onDutyUntil: '16:00' },
    passedOver: [],
    fallback: { taken: false },
    followUp: { referral: false, reasons: [] },
  });
  t.match(r.summary, /Branford police social worker.*until 16:00/);
  t.ok(RoutingSchema.safeParse(r).success, 'valid against the contract');

  const co = route(policies, input({ jurisdiction: 'branford', gate: 'co_response_only' }), WED_10AM);
  t.match(co, { mode: 'co_response', policeRole: 'accompany', pool: { id: 'branford-police-sw' } });
  t.match(co.summary, /^Co-response: police with Branford police social worker/);

  const secure = route(policies, input({ jurisdiction: 'branford', gate: 'police_secure_first' }), WED_10AM);
  t.match(secure, { mode: 'co_response', policeRole: 'secure_first', pool: { id: 'branford-police-sw' } });
  t.match(secure.summary, /^Police secure the scene first, then Branford police social worker/);
});

t.test('out of hours the fallback is taken and a follow-up referral is opened', async (t) => {
  const r = route(policies, input({ jurisdiction: 'branford', subjectAges: [34] }), WED_8PM);
  t.match(r, {
    mode: 'mobile_crisis',
    policeRole: 'none',
    pool: { id: 'dmhas-mobile-crisis' },
    fallback: { taken: true, reason: 'no Branford pool is on duty' },
    followUp: { referral: true, poolId: 'branford-police-sw', reasons: ['no suitable pool on duty'] },
  });
  // Next shift: Thursday 08:00 EDT.
  t.equal(r.followUp.dueBy, '2026-03-12T12:00:00.000Z');
  t.same(
    r.passedOver.map((p) => [p.poolId, p.reason]),
    [
      ['branford-police-sw', 'off_duty'],
      ['youth-mobile-crisis', 'age_not_served'],
    ],
  );
  t.match(r.passedOver[0]?.detail, /off duty until Thu 08:00/);
  t.match(r.summary, /fallback.*follow-up referral to Branford police social worker \(Thu 08:00\)/);

  // Late at night the crisis teams are off too: police, and still the follow-up.
  const late = route(policies, input({ jurisdiction: 'branford' }), WED_1130PM);
  t.match(late, {
    mode: 'police_only',
    policeRole: 'primary',
    pool: null,
    fallback: { taken: true },
    followUp: { referral: true },
  });
  t.same(
    late.passedOver.map((p) => p.reason),
    ['off_duty', 'off_duty', 'off_duty'],
  );
  t.match(
    late.summary,
    /^Police only: no suitable responder on duty for behavioral health; follow-up referral/,
  );
});

t.test('a contracted pool with limited hours: in hours, then fallback after 17:00', async (t) => {
  t.match(route(policies, input({ jurisdiction: 'stamford' }), new Date('2026-03-11T16:59:00-04:00')), {
    mode: 'civilian_only',
    pool: { id: 'stamford-rnp', model: 'contracted' },
  });
  const after = route(policies, input({ jurisdiction: 'stamford' }), new Date('2026-03-11T17:00:00-04:00'));
  t.match(after, { fallback: { taken: true }, followUp: { referral: true, poolId: 'stamford-rnp' } });
});

t.test('an intern pool is never sent alone', async (t) => {
  // Tuesday 10:00: the Willimantic interns are on duty and the gate would let a civilian go alone.
  const r = route(policies, input({ jurisdiction: 'willimantic' }), new Date('2026-03-10T10:00:00-04:00'));
  t.match(r, {
    mode: 'co_response',
    policeRole: 'accompany',
    pool: { id: 'willimantic-interns', model: 'intern' },
  });
  t.same(r.passedOver, []);

  // With a pool that may go alone on duty too, that pool is preferred and the interns are passed over.
  const fixture = policiesFrom({
    ...BASE_FILES,
    'town.yaml': `
pools:
  - id: interns
    name: Interns
    model: intern
    categories: [behavioral_health]
    mayAttendAlone: false
    schedule: always
  - id: town-sw
    name: Town social worker
    model: town_department
    categories: [behavioral_health]
    mayAttendAlone: true
    schedule: always
jurisdictions:
  - id: town
    name: Town
    timeZone: America/New_York
    pools: [interns, town-sw]
    fallback: [police]
    followUp: { pool: town-sw }
`,
  });
  const both = route(fixture, input({ jurisdiction: 'town' }), WED_10AM);
  t.match(both, { mode: 'civilian_only', pool: { id: 'town-sw' } });
  t.same(
    both.passedOver.map((p) => [p.poolId, p.reason]),
    [['interns', 'not_alone_capable']],
  );
  t.match(route(fixture, input({ jurisdiction: 'town', gate: 'co_response_only' }), WED_10AM), {
    mode: 'co_response',
    pool: { id: 'interns' },
  });
});

t.test('a police_secure_first gate never yields a civilian-alone mode', async (t) => {
  for (const jurisdiction of ['branford', 'new-haven', 'coventry', 'willimantic', 'nowhere']) {
    for (const at of [WED_10AM, WED_8PM, WED_1130PM]) {
      const r = route(
        policies,
        input({ jurisdiction, gate: 'police_secure_first', categories: ['elderly'] }),
        at,
      );
      t.ok(
        r.mode === 'police_only' || (r.mode === 'co_response' && r.policeRole === 'secure_first'),
        `${jurisdiction} ${r.mode}`,
      );
      t.not(r.policeRole, 'none');
    }
  }
  // Coventry at 05:00: no crisis team on duty, and 211 alone is not enough behind a safety gate.
  const r = route(
    policies,
    input({ jurisdiction: 'coventry', gate: 'co_response_only', categories: ['elderly'] }),
    new Date('2026-03-11T05:00:00-04:00'),
  );
  t.match(r, { mode: 'police_only', policeRole: 'primary' });
  t.match(r.passedOver.at(-1), { poolId: 'ct-211', reason: 'gate_forbids' });
});

t.test('a third call from the same address inside the window opens a follow-up referral', async (t) => {
  const call = (byAddress: number, byCaller = 1) =>
    route(policies, input({ jurisdiction: 'branford', repeatCalls: { byAddress, byCaller } }), WED_10AM);
  t.match(call(2), { followUp: { referral: false } }, 'the second call does not');
  const third = call(3);
  t.match(third, { mode: 'civilian_only', followUp: { referral: true, poolId: 'branford-police-sw' } });
  t.same(third.followUp.reasons, ['repeat calls from this address: 3 in 30 days']);
  t.equal(third.followUp.dueBy, WED_10AM.toISOString(), 'on duty now: due now');
  t.same(call(1, 3).followUp.reasons, ['repeat calls from this caller: 3 in 30 days']);
  // Stamford follows up frequent callers sooner: the second call from one caller.
  t.match(
    route(
      policies,
      input({ jurisdiction: 'stamford', repeatCalls: { byAddress: 1, byCaller: 2 } }),
      WED_10AM,
    ),
    {
      followUp: { referral: true, reasons: ['repeat calls from this caller: 2 in 30 days'] },
    },
  );
});

t.test('across midnight: COMPASS works 08:00-03:00', async (t) => {
  // Saturday 01:30 is Friday's shift.
  const night = route(
    policies,
    input({ jurisdiction: 'new-haven', categories: ['homelessness'] }),
    new Date('2026-03-14T01:30:00-04:00'),
  );
  t.match(night, {
    mode: 'civilian_only',
    pool: { id: 'new-haven-compass', onDutyUntil: '03:00' },
    followUp: { referral: false },
  });
  t.match(night.summary, /until 03:00/);
  // Saturday 03:30: nobody until 07:00; COMPASS follows up at 08:00.
  const gap = route(
    policies,
    input({ jurisdiction: 'new-haven', categories: ['homelessness'] }),
    new Date('2026-03-14T03:30:00-04:00'),
  );
  t.match(gap, {
    mode: 'police_only',
    followUp: { referral: true, poolId: 'new-haven-compass', dueBy: '2026-03-14T12:00:00.000Z' },
  });
});

t.test('across a daylight-saving change the town clock decides', async (t) => {
  // Same UTC time, a week apart: 07:30 EST (off duty) and 08:30 EDT (on duty).
  t.match(route(policies, input({ jurisdiction: 'branford' }), new Date('2026-03-02T12:30:00Z')), {
    fallback: { taken: true },
  });
  t.match(route(policies, input({ jurisdiction: 'branford' }), new Date('2026-03-09T12:30:00Z')), {
    fallback: { taken: false },
    pool: { id: 'branford-police-sw' },
  });
  // A Saturday call before the change is followed up Monday 08:00 EDT (12:00 UTC, not 13:00).
  const sat = route(
    policies,
    input({ jurisdiction: 'branford', gate: 'co_response_only' }),
    new Date('2026-03-07T23:45:00-05:00'),
  );
  t.match(sat, { mode: 'police_only', followUp: { referral: true, dueBy: '2026-03-09T12:00:00.000Z' } });
});

t.test('passed-over reasons name what ruled each pool out', async (t) => {
  // Torrington's McCall only covers substance use.
  const bh = route(policies, input({ jurisdiction: 'torrington', subjectAges: [15] }), WED_10AM);
  t.match(bh.passedOver[0], {
    poolId: 'torrington-mccall',
    reason: 'category_not_handled',
    detail: /does not handle behavioral health/,
  });
  t.match(
    bh,
    { mode: 'mobile_crisis', pool: { id: 'youth-mobile-crisis' } },
    'a 15-year-old: youth mobile crisis',
  );
  const adult = route(
    policies,
    input({ jurisdiction: 'torrington', subjectAges: [15, 44], categories: ['substance_use'] }),
    WED_10AM,
  );
  t.match(
    adult,
    { mode: 'co_response', pool: { id: 'torrington-mccall', onCall: true } },
    'McCall may not go alone',
  );
  t.match(adult.summary, /on call/);
  const old = route(
    policies,
    input({ jurisdiction: 'coventry', subjectAges: [81], categories: ['behavioral_health'] }),
    WED_10AM,
  );
  t.match(old, { mode: 'mobile_crisis', pool: { id: 'dmhas-mobile-crisis' } });
  t.match(old.passedOver, [{ poolId: 'youth-mobile-crisis', reason: 'age_not_served' }]);
  // Coventry after hours: 211 for a civilian_ok call that can wait, not for one needing EMS.
  const night = new Date('2026-03-11T05:00:00-04:00');
  t.match(route(policies, input({ jurisdiction: 'coventry', categories: ['elderly'] }), night), {
    mode: 'referral',
    policeRole: 'none',
    pool: { id: 'ct-211' },
  });
  const ems = route(
    policies,
    input({ jurisdiction: 'coventry', categories: ['elderly'], emsNeeded: true }),
    night,
  );
  t.match(ems, { mode: 'police_only', ems: true });
  t.match(ems.passedOver.at(-1), { poolId: 'ct-211', reason: 'urgent' });
  t.match(ems.summary, /EMS requested/);
  t.match(
    route(policies, input({ jurisdiction: 'coventry', categories: ['elderly'], urgent: true }), night),
    { mode: 'police_only' },
  );
  // The CAD priority makes a call urgent by the jurisdiction's threshold (default: 1 and 2).
  const byPriority = (priority: number) =>
    route(policies, input({ jurisdiction: 'coventry', categories: ['elderly'], priority }), night);
  t.match(byPriority(1), { mode: 'police_only' });
  t.match(byPriority(1).passedOver.at(-1), { poolId: 'ct-211', reason: 'urgent' });
  t.match(byPriority(2), { mode: 'police_only' });
  t.match(byPriority(3), { mode: 'referral', pool: { id: 'ct-211' } });
  const strict = {
    ...policies,
    jurisdictions: new Map(
      [...policies.jurisdictions].map(([id, j]) => [id, id === 'coventry' ? { ...j, urgentPriority: 3 } : j]),
    ),
  };
  t.match(
    route(strict, input({ jurisdiction: 'coventry', categories: ['elderly'], priority: 3 }), night),
    { mode: 'police_only' },
    'a jurisdiction may count more priorities as urgent',
  );
});

t.test('an ordinary police call, EMS, and a town without a policy', async (t) => {
  const plain = route(
    policies,
    input({ jurisdiction: 'branford', categories: [], repeatCalls: { byAddress: 9, byCaller: 9 } }),
    WED_10AM,
  );
  t.match(plain, {
    mode: 'police_only',
    policeRole: 'primary',
    pool: null,
    passedOver: [],
    followUp: { referral: false },
  });
  t.equal(plain.summary, 'Police only: no social-service need found');
  const ems = route(policies, input({ jurisdiction: 'branford', emsNeeded: true }), WED_10AM);
  t.match(ems, { ems: true, mode: 'civilian_only' });
  t.match(ems.summary, /; EMS requested/);
  const unknown = route(policies, input({ jurisdiction: 'bloomfield' }), WED_10AM);
  t.match(unknown, {
    jurisdiction: 'default',
    mode: 'police_only',
    followUp: { referral: true, poolId: 'ct-211' },
  });
  t.match(unknown.summary, /^No policy for 'bloomfield', default used\./);
  t.match(route(policies, input({ jurisdiction: ' New Haven ' }), WED_10AM), {
    jurisdiction: 'new-haven',
    pool: { id: 'new-haven-compass' },
  });
});

t.test('Hartford follows up every call, with the follow-up unit keeping longer hours', async (t) => {
  const r = route(policies, input({ jurisdiction: 'hartford' }), WED_10AM);
  t.match(r, {
    mode: 'civilian_only',
    pool: { id: 'hartford-heart' },
    followUp: { referral: true, poolId: 'hartford-heart-followup' },
  });
  // Saturday 19:00: responders off, follow-up unit on until 20:00 so the referral is due now.
  const sat = new Date('2026-03-14T19:00:00-04:00');
  t.match(route(policies, input({ jurisdiction: 'hartford' }), sat).followUp, {
    referral: true,
    dueBy: sat.toISOString(),
  });
});

t.test('a regional social worker serves both small towns', async (t) => {
  for (const jurisdiction of ['redding', 'ridgefield']) {
    t.match(route(policies, input({ jurisdiction }), WED_10AM), {
      mode: 'civilian_only',
      pool: { id: 'western-regional-sw' },
    });
  }
  // 08:45: the regional social worker starts at 09:00; Redding's own on-call social worker co-responds.
  const early = route(policies, input({ jurisdiction: 'redding' }), new Date('2026-03-11T08:45:00-04:00'));
  t.match(early, {
    mode: 'co_response',
    pool: { id: 'redding-social-services', onCall: true },
    fallback: { taken: false },
  });
  t.match(early.passedOver, [{ poolId: 'western-regional-sw', reason: 'off_duty' }]);
});

t.test('a town on the statewide services refers to the line that fits the need', async (t) => {
  const night = new Date('2026-03-11T05:00:00-04:00');
  const bh = route(policies, input({ jurisdiction: 'coventry' }), night);
  t.match(bh, { mode: 'referral', pool: { id: 'ct-988' }, followUp: { referral: true, poolId: 'ct-211' } });
  t.match(
    bh.summary,
    /^Referral: give the caller 988 Suicide & Crisis Lifeline — dial or text 988; nobody sent/,
  );
  const elderly = route(policies, input({ jurisdiction: 'coventry', categories: ['elderly'] }), night);
  t.match(elderly, { mode: 'referral', pool: { id: 'ct-211' } });
  t.match(elderly.passedOver.at(-1), { poolId: 'ct-988', reason: 'category_not_handled' });
});
