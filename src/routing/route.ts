/**
 * `route()`: from the rules engine's output (categories, scene-safety gate, EMS) and a jurisdiction's
 * policy, the response to recommend — which responder pool, with or without police, which pools
 * were passed over and why, and whether a follow-up referral should be opened.
 *
 * The one thing it must never do is send a civilian alone when the gate forbids it. The gate is
 * applied where each pool is considered, and checked once more on the result (`enforceGate`), so a
 * mistake in the walk can only ever make the answer more cautious.
 */
import type { GateValue } from '../domain/classification.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import type { PassOverReason, PoliceRole, ResponseMode, RouteInput, Routing } from '../domain/routing.ts';
import { agencyKey, type Jurisdiction, type PolicySet, type Pool } from './compile.ts';
import { DEFAULT_JURISDICTION } from './policy-format.ts';
import { clock, localTime, nextShiftStart, onDuty } from './schedule.ts';

type PassOver = Routing['passedOver'][number];

/** A pool that can take the call, and how. */
interface Pick {
  pool: Pool;
  mode: ResponseMode;
  policeRole: PoliceRole;
  until?: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ALONE_MODES: ReadonlySet<ResponseMode> = new Set(['civilian_only', 'mobile_crisis', 'referral']);

const label = (category: string) => category.replaceAll('_', ' ');

/** `Mon 08:00` in the zone. */
function localLabel(at: Date, tz: string): string {
  const l = localTime(at, tz);
  return `${WEEKDAYS[l.weekday]} ${clock(l.minutes)}`;
}

interface Context {
  input: RouteInput;
  categories: readonly string[];
  urgent: boolean;
  now: Date;
  tz: string;
}

const zoneOf = (pool: Pool, ctx: Context) => pool.timeZone ?? ctx.tz;

/**
 * Whether `pool` can take the call now, and in which mode. `deferred` marks a pool that could
 * only co-respond on a call where a civilian may go alone: it is kept in reserve in case no pool
 * that may go alone is on duty.
 */
function consider(pool: Pool, ctx: Context): { pick: Pick; deferred?: PassOver } | { passOver: PassOver } {
  const pass = (reason: PassOverReason, detail: string) => ({
    passOver: { poolId: pool.id, reason, detail },
  });
  const missing = pool.anyCategory ? [] : ctx.categories.filter((c) => !pool.categories.includes(c));
  if (missing.length > 0) {
    return pass('category_not_handled', `${pool.name} does not handle ${missing.map(label).join(', ')}`);
  }
  const ages = ctx.input.subjectAges ?? [];
  const { min = 0, max = Infinity } = pool.ages ?? {};
  if (pool.ages && ages.length > 0 && !ages.some((a) => a >= min && a <= max)) {
    const range = max === Infinity ? `${min} and over` : `${min}–${max}`;
    return pass('age_not_served', `${pool.name} serves ages ${range}; subject ages ${ages.join(', ')}`);
  }
  const duty = onDuty(pool.schedule, ctx.now, zoneOf(pool, ctx));
  if (!duty.on) {
    const next = nextShiftStart(pool.schedule, ctx.now, zoneOf(pool, ctx));
    return pass(
      'off_duty',
      next
        ? `${pool.name} is off duty until ${localLabel(next, zoneOf(pool, ctx))}`
        : `${pool.name} is off duty`,
    );
  }
  const until = duty.until === undefined ? {} : { until: duty.until };
  const gate: GateValue = ctx.input.gate;
  if (pool.model === 'referral_line') {
    if (gate !== 'civilian_ok') {
      return pass(
        'gate_forbids',
        `${pool.name} is a referral line; the safety gate requires police on scene`,
      );
    }
    if (ctx.urgent)
      return pass('urgent', `${pool.name} is a referral line; the call needs someone on scene now`);
    return { pick: { pool, mode: 'referral', policeRole: 'none', ...until } };
  }
  if (gate === 'police_secure_first')
    return { pick: { pool, mode: 'co_response', policeRole: 'secure_first', ...until } };
  if (gate === 'co_response_only')
    return { pick: { pool, mode: 'co_response', policeRole: 'accompany', ...until } };
  if (!pool.mayAttendAlone) {
    return {
      pick: { pool, mode: 'co_response', policeRole: 'accompany', ...until },
      deferred: { poolId: pool.id, reason: 'not_alone_capable', detail: `${pool.name} may not attend alone` },
    };
  }
  return {
    pick: {
      pool,
      mode: pool.model === 'mobile_crisis' ? 'mobile_crisis' : 'civilian_only',
      policeRole: 'none',
      ...until,
    },
  };
}

/**
 * Walks pool ids in order. Returns the first pool that may take the call as the gate allows; a
 * co-response-only pool found on a civilian_ok call is returned only when none that may go alone is.
 */
function walk(
  ids: readonly string[],
  policies: PolicySet,
  ctx: Context,
  seen: Set<string>,
  passedOver: PassOver[],
): { pick?: Pick; reserve?: { pick: Pick; entry: PassOver } } {
  let reserve: { pick: Pick; entry: PassOver } | undefined;
  for (const id of ids) {
    const pool = policies.pools.get(id);
    if (!pool || seen.has(id)) continue;
    seen.add(id);
    const r = consider(pool, ctx);
    if ('passOver' in r) passedOver.push(r.passOver);
    else if (r.deferred) {
      passedOver.push(r.deferred);
      reserve ??= { pick: r.pick, entry: r.deferred };
    } else return { pick: r.pick, ...(reserve ? { reserve } : {}) };
  }
  return reserve ? { reserve } : {};
}

const takeReserve = (reserve: { pick: Pick; entry: PassOver }, passedOver: PassOver[]): Pick => {
  passedOver.splice(passedOver.indexOf(reserve.entry), 1);
  return reserve.pick;
};

/** Why the fallback list was used, in one phrase. */
function fallbackReason(j: Jurisdiction, passedOver: readonly PassOver[]): string {
  const own = passedOver.filter((p) => j.pools.includes(p.poolId));
  if (j.pools.length === 0) return `${j.name} has no responder pools of its own`;
  if (own.length > 0 && own.every((p) => p.reason === 'off_duty')) return `no ${j.name} pool is on duty`;
  return `no ${j.name} pool on duty can take this call`;
}

/** Defence in depth: whatever the walk did, a forbidden civilian-alone result becomes police only. */
function enforceGate(gate: GateValue, pick: Pick | undefined): Pick | undefined {
  if (!pick) return undefined;
  if (gate !== 'civilian_ok' && (ALONE_MODES.has(pick.mode) || pick.policeRole === 'none')) return undefined;
  if (pick.pool.model === 'intern' && pick.mode !== 'co_response') return undefined;
  return pick;
}

function followUp(
  j: Jurisdiction,
  policies: PolicySet,
  input: RouteInput,
  fallbackTaken: boolean,
  now: Date,
): Routing['followUp'] {
  const reasons: string[] = [];
  if (fallbackTaken) reasons.push('no suitable pool on duty');
  if (j.followUp.always) reasons.push('the policy asks for a follow-up after every call with a social need');
  const { byAddress, byCaller } = j.followUp.repeatCalls;
  const counts = input.repeatCalls;
  if (counts && byAddress && counts.byAddress >= byAddress.count) {
    reasons.push(`repeat calls from this address: ${counts.byAddress} in ${byAddress.windowDays} days`);
  }
  if (counts && byCaller && counts.byCaller >= byCaller.count) {
    reasons.push(`repeat calls from this caller: ${counts.byCaller} in ${byCaller.windowDays} days`);
  }
  if (reasons.length === 0) return { referral: false, reasons };
  const pool = policies.pools.get(j.followUp.pool);
  const due = pool ? nextShiftStart(pool.schedule, now, pool.timeZone ?? j.timeZone) : undefined;
  return { referral: true, poolId: j.followUp.pool, reasons, ...(due ? { dueBy: due.toISOString() } : {}) };
}

function describe(pick: Pick | undefined, categories: readonly string[]): string {
  if (!pick) return categories.length === 0 ? 'Police only: no social-service need found' : 'Police only';
  const when = [
    pick.pool.onCall ? 'on call' : undefined,
    pick.until !== undefined ? `on duty until ${clock(pick.until)}` : undefined,
    pick.pool.onCall && pick.pool.contact ? pick.pool.contact : undefined,
  ].filter(Boolean);
  const who = when.length > 0 ? `${pick.pool.name} (${when.join(', ')})` : pick.pool.name;
  switch (pick.mode) {
    case 'co_response':
      return pick.policeRole === 'secure_first'
        ? `Police secure the scene first, then ${who}`
        : `Co-response: police with ${who}`;
    case 'civilian_only':
      return `Civilian response: ${who}, no police`;
    case 'mobile_crisis':
      return `Mobile crisis: ${who}, no police`;
    case 'referral':
      return `Referral: give the caller ${who}${pick.pool.contact ? ` — ${pick.pool.contact}` : ''}; nobody sent`;
    default:
      return `Police only`;
  }
}

/** The policy a call's jurisdiction is routed by: its own, else `default`. */
export function jurisdictionFor(policies: PolicySet, name: string): Jurisdiction | undefined {
  return policies.jurisdictions.get(jurisdictionId(name)) ?? policies.jurisdictions.get(DEFAULT_JURISDICTION);
}

/**
 * The jurisdiction an agency's incidents belong to: the one whose policy lists the agency id under
 * `agencies` (case-insensitive), or undefined when none does. Used where the input names an agency
 * but no jurisdiction (a NENA EIDO).
 */
export function jurisdictionOfAgency(policies: PolicySet, agencyId: string): string | undefined {
  const key = agencyKey(agencyId);
  for (const j of policies.jurisdictions.values()) if (j.agencies?.includes(key)) return j.id;
  return undefined;
}

/** The sliding windows, in days, over which the jurisdiction counts repeat calls (by address, by caller). */
export function repeatWindows(
  policies: PolicySet,
  name: string,
  fallbackDays = 30,
): { byAddress: number; byCaller: number } {
  const r = jurisdictionFor(policies, name)?.followUp.repeatCalls;
  return {
    byAddress: r?.byAddress?.windowDays ?? fallbackDays,
    byCaller: r?.byCaller?.windowDays ?? fallbackDays,
  };
}

/**
 * Recommends the response to a call under the routing policies, at instant `now`.
 *
 * Pure and deterministic; never throws for input valid under `RouteInputSchema`. The jurisdiction
 * is matched case-insensitively, spaces as dashes ("New Haven" → `new-haven`); one without a
 * policy gets the `default` one (`jurisdiction: 'default'` in the result). Guarantees:
 * when `gate` is not `civilian_ok` the mode is never civilian_only, mobile_crisis or referral and
 * police always attend; an intern pool only ever co-responds; a call with categories that no
 * suitable pool can take now gets police (or the fallback) and a follow-up referral.
 */
export function route(policies: PolicySet, input: RouteInput, now: Date): Routing {
  const wanted = jurisdictionId(input.jurisdiction);
  const j = jurisdictionFor(policies, input.jurisdiction);
  const ems = input.emsNeeded;
  const emsNote = ems ? '; EMS requested' : '';
  if (!j) {
    // Only reachable with a PolicySet not made by compilePolicies (which requires `default`).
    return {
      jurisdiction: DEFAULT_JURISDICTION,
      mode: 'police_only',
      policeRole: 'primary',
      pool: null,
      passedOver: [],
      fallback: { taken: true, reason: 'no routing policy at all' },
      ems,
      followUp: { referral: false, reasons: [] },
      summary: `Police only: no routing policy loaded${emsNote}`,
    };
  }
  const categories = [...new Set(input.categories)];
  const prefix = j.id === wanted ? '' : `No policy for '${input.jurisdiction}', default used. `;
  if (categories.length === 0) {
    return {
      jurisdiction: j.id,
      mode: 'police_only',
      policeRole: 'primary',
      pool: null,
      passedOver: [],
      fallback: { taken: false },
      ems,
      followUp: { referral: false, reasons: [] },
      summary: `${prefix}${describe(undefined, categories)}${emsNote}`,
    };
  }

  const urgent =
    ems || input.urgent === true || (input.priority !== undefined && input.priority <= j.urgentPriority);
  const ctx: Context = { input, categories, urgent, now, tz: j.timeZone };
  const passedOver: PassOver[] = [];
  const seen = new Set<string>();
  let fallbackTaken = false;
  let fallbackWhy: string | undefined;

  const own = walk(j.pools, policies, ctx, seen, passedOver);
  let pick = own.pick ?? (own.reserve ? takeReserve(own.reserve, passedOver) : undefined);
  if (!pick) {
    fallbackTaken = true;
    fallbackWhy = fallbackReason(j, passedOver);
    let reserve: { pick: Pick; entry: PassOver } | undefined;
    for (const step of j.fallback) {
      if (step.kind === 'police') break;
      const r = walk([step.poolId], policies, ctx, seen, passedOver);
      if (r.pick) {
        pick = r.pick;
        break;
      }
      reserve ??= r.reserve;
    }
    // A co-response with a civilian beats police alone; either beats nobody.
    if (!pick && reserve) pick = takeReserve(reserve, passedOver);
  }
  pick = enforceGate(input.gate, pick);

  const mode: ResponseMode = pick?.mode ?? 'police_only';
  const policeRole: PoliceRole = pick?.policeRole ?? 'primary';
  const follow = followUp(j, policies, input, fallbackTaken || !pick, now);
  let summary = `${prefix}${describe(pick, categories)}`;
  if (!pick) summary += `: no suitable responder on duty for ${categories.map(label).join(', ')}`;
  else if (fallbackTaken) summary += ` (fallback: ${fallbackWhy})`;
  summary += emsNote;
  if (follow.referral) {
    const to = policies.pools.get(follow.poolId ?? '');
    const due = follow.dueBy ? localLabel(new Date(follow.dueBy), to?.timeZone ?? j.timeZone) : undefined;
    summary += `; follow-up referral to ${to?.name ?? follow.poolId}${due && follow.dueBy !== now.toISOString() ? ` (${due})` : ''}`;
  }

  return {
    jurisdiction: j.id,
    mode,
    policeRole,
    pool: pick
      ? {
          id: pick.pool.id,
          name: pick.pool.name,
          model: pick.pool.model,
          ...(pick.pool.contact ? { contact: pick.pool.contact } : {}),
          ...(pick.pool.onCall ? { onCall: true } : {}),
          ...(pick.until !== undefined ? { onDutyUntil: clock(pick.until) } : {}),
        }
      : null,
    passedOver,
    fallback:
      fallbackTaken || !pick
        ? { taken: true, reason: fallbackWhy ?? 'the safety gate rules out the pool found' }
        : { taken: false },
    ems,
    followUp: follow,
    summary,
  };
}
