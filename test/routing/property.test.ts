/**
 * Properties of route() over the shipped policies, any call and any instant: the safety gate is
 * never broken, interns never go alone, the chosen pool is on duty, and the result is deterministic.
 */
import fc from 'fast-check';
import t from 'tap';
import { GATE_VALUES } from '../../src/domain/classification.ts';
import { RoutingSchema, type RouteInput } from '../../src/domain/routing.ts';
import { route } from '../../src/routing/index.ts';
import { onDuty } from '../../src/routing/schedule.ts';
import { shippedPolicies } from './helpers.ts';

const policies = await shippedPolicies();
const jurisdictions = [...policies.jurisdictions.keys(), 'nowhere', 'BRANFORD'];
const category = fc.oneof(
  fc.constantFrom('behavioral_health', 'homelessness', 'substance_use', 'elderly', 'juvenile'),
  fc.stringMatching(/^[a-z][a-z_]{0,12}$/),
);
const routeInput: fc.Arbitrary<RouteInput> = fc.record(
  {
    jurisdiction: fc.constantFrom(...jurisdictions),
    categories: fc.array(category, { maxLength: 4 }),
    gate: fc.constantFrom(...GATE_VALUES),
    emsNeeded: fc.boolean(),
    urgent: fc.boolean(),
    priority: fc.integer({ min: 1, max: 9 }),
    subjectAges: fc.array(fc.integer({ min: 0, max: 110 }), { maxLength: 3 }),
    repeatCalls: fc.record({
      byAddress: fc.integer({ min: 0, max: 10 }),
      byCaller: fc.integer({ min: 0, max: 10 }),
    }),
  },
  { requiredKeys: ['jurisdiction', 'categories', 'gate', 'emsNeeded'] },
);
// Two years, both daylight-saving changes included, to the minute and off it.
const instant = fc.date({
  min: new Date('2026-01-01T00:00:00Z'),
  max: new Date('2027-12-31T23:59:59Z'),
  noInvalidDate: true,
});

const ALONE = new Set(['civilian_only', 'mobile_crisis', 'referral']);

t.test('a gate other than civilian_ok never yields a civilian alone, at any time', async (t) => {
  fc.assert(
    fc.property(routeInput, instant, (input, now) => {
      const r = route(policies, input, now);
      if (input.gate !== 'civilian_ok') {
        if (ALONE.has(r.mode) || r.policeRole === 'none') return false;
        if (
          input.gate === 'police_secure_first' &&
          r.mode === 'co_response' &&
          r.policeRole !== 'secure_first'
        )
          return false;
      }
      return true;
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 random calls and instants');
});

t.test('every result is valid, deterministic and consistent with the policy', async (t) => {
  fc.assert(
    fc.property(routeInput, instant, (input, now) => {
      const r = route(policies, input, now);
      if (JSON.stringify(route(policies, input, now)) !== JSON.stringify(r)) return false;
      if (!RoutingSchema.safeParse(r).success) return false;
      const pool = r.pool ? policies.pools.get(r.pool.id) : undefined;
      if (r.pool && !pool) return false;
      if (pool) {
        const tz = pool.timeZone ?? policies.jurisdictions.get(r.jurisdiction)!.timeZone;
        if (!onDuty(pool.schedule, now, tz).on) return false; // only pools on duty are sent
        if (pool.model === 'intern' && r.mode !== 'co_response') return false;
        if ((r.mode === 'civilian_only' || r.mode === 'mobile_crisis') && !pool.mayAttendAlone) return false;
        const urgentPriority = policies.jurisdictions.get(r.jurisdiction)!.urgentPriority;
        const urgent = input.urgent || (input.priority !== undefined && input.priority <= urgentPriority);
        if (r.mode === 'referral' && (input.emsNeeded || urgent)) return false;
      }
      if (r.mode === 'police_only' && r.pool !== null) return false;
      // A social need nobody could take always leaves a follow-up behind.
      if (input.categories.length > 0 && r.fallback.taken && !r.followUp.referral) return false;
      if (input.categories.length === 0 && (r.mode !== 'police_only' || r.followUp.referral)) return false;
      if (r.passedOver.some((p) => p.poolId === r.pool?.id)) return false;
      return r.summary.length > 0 && r.ems === input.emsNeeded;
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 random calls and instants');
});
