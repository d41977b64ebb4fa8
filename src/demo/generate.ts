/**
 * Demo data: a realistic year of calls for a few Connecticut towns, triaged by the real pipeline
 * (rules, routing, repeat-call counts, referrals), then worked like a town would: dispatch feedback
 * with overrides, follow-ups claimed, contacted and closed with outcomes. So a newcomer sees full
 * reports at once. Every demo call is marked: event ids start with `demo-`, the agency id is `DEMO`,
 * and reports count them (`demoCalls`) so the page says so.
 *
 * The model, from the seeds and the labelled calls: calls follow the day (few at 4 am, most in the
 * afternoon and evening); the call mix is the shipped rule tests' sample calls (every category and
 * gate) beside ordinary police calls; a small group of frequent callers makes a large share of the
 * calls, and calls less often after a follow-up referral (Stamford reported about 20% fewer).
 */
import type { CallEvent } from '../domain/call-event.ts';
import { type TriageDeps, triage } from '../triage/pipeline.ts';

export const DEMO_EVENT_PREFIX = 'demo-';
export const DEMO_AGENCY = 'DEMO';

export interface DemoOptions {
  towns: string[];
  year: number;
  /** Calls per town over the year. */
  callsPerTown: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export interface DemoResult {
  calls: number;
  referrals: number;
  feedback: number;
}

/** A small, seeded random number generator (mulberry32): the same seed makes the same year. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}

/** Relative call volume per local hour, 0..23 (a typical PSAP day). */
const HOURLY = [3, 2, 2, 1.5, 1.2, 1.2, 2, 3, 4, 5, 5.5, 6, 6, 6.5, 7, 7.5, 7.5, 7.5, 7, 6.5, 6, 5, 4.5, 3.5];

/** Ordinary police calls: the larger share of a CAD's day, with no social category. */
const ORDINARY: Array<Pick<CallEvent, 'callType' | 'narrative' | 'screening'>> = [
  { callType: { code: 'NOISE', description: 'NOISE COMPLAINT' }, narrative: 'LOUD MUSIC FROM APT ABOVE' },
  { callType: { code: 'MVA', description: 'MOTOR VEHICLE ACCIDENT' }, narrative: 'TWO CAR MVA, NO INJURIES' },
  { callType: { code: 'ALARM', description: 'BURGLAR ALARM' }, narrative: 'ALARM CO REPORTS REAR DOOR ZONE' },
  { callType: { code: 'LARC', description: 'LARCENY REPORT' }, narrative: 'BIKE TAKEN FROM PORCH OVERNIGHT' },
  { callType: { code: 'PARK', description: 'PARKING COMPLAINT' }, narrative: 'CAR BLOCKING DRIVEWAY' },
  { callType: { code: 'SUSP', description: 'SUSPICIOUS VEHICLE' }, narrative: 'UNKNOWN CAR PARKED 2 HRS' },
];

const OUTCOMES = [
  'connected to outpatient care',
  'connected to housing services',
  'declined services',
  'no contact after three attempts',
  'referred to substance use treatment',
  'family support plan made',
  'connected to elder services',
];

const day = 24 * 3600 * 1000;

/**
 * Fills the database behind `deps` with a demo year. `deps` should count repeat calls in its own
 * store and emit nothing. Returns what was made.
 */
export async function fillDemo(deps: TriageDeps, opts: DemoOptions): Promise<DemoResult> {
  const r = rng(opts.seed);
  const samples = deps
    .rules()
    .tests.map((t) => t.call)
    .filter((c) => c.callType?.code);
  // The year plus the 12 weeks before it, so the first referrals of the year have a history to
  // compare with (the repeat-call trend looks back that far).
  const lead = 84;
  const start = Date.UTC(opts.year, 0, 1, 5) - lead * day; // about local midnight in Connecticut
  const days = 365 + lead;
  const hourWeights = HOURLY.map((w, h) => ({ w, h }));
  const totalWeight = HOURLY.reduce((a, b) => a + b, 0);
  const hour = () => {
    let x = r.next() * totalWeight;
    for (const { w, h } of hourWeights) if ((x -= w) < 0) return h;
    return 23;
  };

  // Per town: frequent callers (phone and address), some of whom call often.
  interface Person {
    phone: string;
    address: string;
    weight: number;
    referred: boolean;
  }
  const people = new Map<string, Person[]>();
  for (const [t, town] of opts.towns.entries())
    people.set(
      town,
      Array.from({ length: 50 }, (_, i) => ({
        phone: `203-555-${String(1000 + t * 100 + i).padStart(4, '0')}`,
        address: `${10 + i * 7} ${r.pick(['ELM', 'MAIN', 'OAK', 'PARK', 'RIVER', 'HIGH'])} ST`,
        weight: 1 + r.int(8),
        referred: false,
      })),
    );

  // The calls of the year in time order, so repeat counts and referrals happen as they would.
  const plan = opts.towns.flatMap((town) =>
    Array.from({ length: Math.round((opts.callsPerTown * days) / 365) }, () => {
      const at = start + r.int(days) * day + hour() * 3600_000 + r.int(3600) * 1000;
      return { town, at };
    }),
  );
  plan.sort((a, b) => a.at - b.at);

  let seq = 0;
  const decided: Array<{ decisionId: string; mode: string; at: number }> = [];
  const outcomes: { referrals: number } = { referrals: 0 };
  for (const { town, at } of plan) {
    seq += 1;
    const crowd = people.get(town)!;
    let who: Person | undefined;
    if (r.chance(0.3)) {
      // A frequent caller; one who was referred calls less often.
      const weights = crowd.map((p) => p.weight * (p.referred ? 0.6 : 1));
      let x = r.next() * weights.reduce((a, b) => a + b, 0);
      who = crowd.find((_, i) => (x -= weights[i]!) < 0) ?? crowd[0];
    }
    const social = r.chance(0.45);
    const template = social ? r.pick(samples) : r.pick(ORDINARY);
    const call: CallEvent = {
      ...(template as CallEvent),
      eventId: `${DEMO_EVENT_PREFIX}${town}-${opts.year}-${seq}`,
      incidentId: `DEMO-${town.toUpperCase()}-${opts.year}-${seq}`,
      revision: 1,
      occurredAt: new Date(at).toISOString(),
      agency: { id: DEMO_AGENCY, jurisdiction: town },
      caller: {
        ...((template as CallEvent).caller ?? {}),
        phone: who?.phone ?? `860-555-${String(r.int(10000)).padStart(4, '0')}`,
      },
      location: {
        ...((template as CallEvent).location ?? {}),
        address:
          who?.address ?? `${1 + r.int(400)} ${r.pick(['WASHINGTON', 'BROAD', 'CHURCH', 'SPRING'])} ST`,
      },
    };
    const out = await triage(call, { ...deps, now: () => new Date(at + 1000) });
    if (out.kind !== 'decided') continue;
    decided.push({ decisionId: out.decision.decisionId, mode: out.decision.routing.mode, at: at + 1000 });
    if (out.decision.referral.created) {
      outcomes.referrals += 1;
      if (who) who.referred = true;
    }
    opts.onProgress?.(decided.length, plan.length);
  }

  // Dispatch's feedback: most recommendations get an answer; some are overridden (more at night,
  // when the civilian responder recommended is farther away).
  const fb = decided.filter(() => r.chance(0.65));
  const feedback = fb.map((d) => {
    const night = new Date(d.at).getUTCHours() < 10; // before 5 am local
    const overridden = d.mode !== 'police_only' && r.chance(night ? 0.3 : 0.12);
    return {
      decisionId: d.decisionId,
      action: overridden ? 'overridden' : 'accepted',
      modeSent: overridden ? 'police_only' : d.mode,
      at: new Date(d.at + (5 + r.int(40)) * 60_000).toISOString(),
    };
  });
  if (feedback.length > 0)
    await deps.db.query(
      `INSERT INTO feedback (feedback_id, decision_id, action, mode_sent, reason, submitted_by, created_at)
       SELECT gen_random_uuid(), f.decision_id, f.action, f.mode_sent,
              CASE WHEN f.action = 'overridden' THEN 'demo: responder too far away' END, 'demo dispatcher', f.at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS f(decision_id, action, mode_sent, at)`,
      [
        feedback.map((f) => f.decisionId),
        feedback.map((f) => f.action),
        feedback.map((f) => f.modeSent),
        feedback.map((f) => f.at),
      ],
    );

  // Follow-ups opened when their call was decided, then worked: most claimed within a day, most of
  // those reached, a few late, most closed with an outcome.
  const { rows: refs } = await deps.db.query<{
    referral_id: string;
    decided_at: Date | string;
    due_by: Date | string | null;
  }>(
    `SELECT r.referral_id, d.decided_at, r.due_by FROM referrals r JOIN decisions d ON d.decision_id = r.decision_id
     WHERE d.event_id LIKE '${DEMO_EVENT_PREFIX}%'`,
  );
  const worked = refs.map((ref) => {
    const created = new Date(ref.decided_at).getTime();
    const assigned = r.chance(0.9) ? created + (1 + r.int(20)) * 3600_000 : null;
    const contacted =
      assigned && r.chance(0.85) ? assigned + (1 + r.int(r.chance(0.8) ? 24 : 96)) * 3600_000 : null;
    const closed = contacted && r.chance(0.9) ? contacted + (1 + r.int(14)) * day : null;
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      id: ref.referral_id,
      created: iso(created)!,
      status: closed ? 'closed' : contacted ? 'contacted' : assigned ? 'assigned' : 'open',
      assigned: iso(assigned),
      contacted: iso(contacted),
      closed: iso(closed),
      outcome: closed ? r.pick(OUTCOMES) : null,
      worker: assigned ? r.pick(['demo social worker A', 'demo social worker B', 'demo clinician']) : null,
    };
  });
  if (worked.length > 0)
    await deps.db.query(
      `UPDATE referrals r SET created_at = w.created, status = w.status, assigned_at = w.assigned,
         contacted_at = w.contacted, closed_at = w.closed, outcome = w.outcome, assigned_to = w.worker,
         updated_at = coalesce(w.closed, w.contacted, w.assigned, w.created)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[])
         AS w(id, created, status, assigned, contacted, closed, outcome, worker)
       WHERE r.referral_id = w.id`,
      [
        worked.map((w) => w.id),
        worked.map((w) => w.created),
        worked.map((w) => w.status),
        worked.map((w) => w.assigned),
        worked.map((w) => w.contacted),
        worked.map((w) => w.closed),
        worked.map((w) => w.outcome),
        worked.map((w) => w.worker),
      ],
    );
  return { calls: decided.length, referrals: outcomes.referrals, feedback: feedback.length };
}
