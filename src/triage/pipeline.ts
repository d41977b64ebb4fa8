/**
 * The one triage pipeline, shared by REST and Kafka:
 *   validate → enrich (repeat calls) → classify + gate (rules) → route (policy) → persist → emit.
 * Persisting also settles duplicates (the unique event id) and stale revisions (the locked incident)
 * in the same transaction as the decision, grouped with the events triaged at the same time.
 * It never throws on bad input (that is an `invalid` outcome); it throws only when a dependency
 * fails: ERR_DEPENDENCY_UNAVAILABLE for an outage and ERR_DEPENDENCY_BUSY for a transient error,
 * so the caller can retry (Kafka pauses or retries, REST answers 503) without anything half-written
 * (persistence is one transaction); ERR_EVENT_REFUSED when the database refuses a value, never
 * retried. Once the decision is stored, a failed emit no longer fails the call (see `emitLater`).
 */
import { randomUUID } from 'node:crypto';
import { CallEventSchema, type CallEvent } from '../domain/call-event.ts';
import type { Decision } from '../domain/decision.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import type { Classification } from '../domain/classification.ts';
import type { Routing } from '../domain/routing.ts';
import type { Database } from '../adapters/database.ts';
import type { KeyValueStore } from '../adapters/store.ts';
import { classifyFailure, sqlstateOf } from '../adapters/failures.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { evaluate, type PreparedRuleset } from '../rules/index.ts';
import { repeatWindows, route, type PolicySet } from '../routing/index.ts';
import type { DecisionRecorder } from './recorder.ts';
import { hmac, normalizeAddress, normalizePhone, storedCall } from './privacy.ts';

export interface TriageDeps {
  /** The relational store (the REST routes read decisions, referrals and keys from it). */
  db: Database;
  /** Records decisions (group commit over `db`): see recorder.ts. */
  recorder: DecisionRecorder;
  store: KeyValueStore;
  /** The rule set serving now (hot-reloaded). */
  rules: () => PreparedRuleset;
  /** The routing policies serving now (hot-reloaded), with their content hash. */
  policies: () => { policies: PolicySet; version: string };
  /** Publishes a decision (Kafka); absent on REST-only deployments. Must resolve only once durable. */
  emit?: (decision: Decision) => Promise<void>;
  /**
   * Takes over a stored decision whose `emit` failed, to emit it again later. When set, a failed emit
   * does not fail the call: the outcome says `emitted: false` (the decision is stored either way).
   */
  emitLater?: (decision: Decision) => void;
  /** Keyed hash secret for phone numbers and addresses: they are never stored or counted in clear. */
  piiKey: string;
  /** Whether narratives are stored (NARRATIVE_RETENTION_DAYS > 0); they are purged when it runs out. */
  keepNarratives: boolean;
  now: () => Date;
  logger: Logger;
}

export interface FieldError {
  path: string;
  message: string;
}

export type TriageOutcome =
  /** The input is not a valid call event; nothing was stored. */
  | { kind: 'invalid'; errors: FieldError[] }
  /** A new decision, persisted (and emitted when `emit` is set, unless `emitted` is false: see `emitLater`). */
  | { kind: 'decided'; decision: Decision; emitted?: false }
  /** This event was triaged before: the stored decision, emitted again so a crash between persist and emit loses nothing. */
  | { kind: 'duplicate'; decision: Decision; emitted?: false }
  /** A revision older than (or equal to) one already decided: recorded, nothing new decided or emitted. */
  | {
      kind: 'stale';
      eventId: string;
      incidentId: string;
      revision: number;
      currentDecisionId: string | null;
    };

/** The zod issues of a call event as dotted field paths ("callType.code", "subjects.0.age"). */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

export { isOutage } from '../adapters/failures.ts';

/**
 * Runs one call of a dependency and classifies its failure (adapters/failures.ts): an outage or a
 * transient error becomes a 503-class AppError the caller may retry; a value the database refuses
 * (SQLSTATE class 22 data exception or 23 integrity) is ERR_EVENT_REFUSED, never retried; anything
 * else is rethrown as it is (an internal error). Messages name the SQLSTATE, never the data.
 */
async function dependency<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const state = sqlstateOf(err);
    switch (classifyFailure(err)) {
      case 'outage':
        throw new AppError('ERR_DEPENDENCY_UNAVAILABLE', `${what} unavailable`, { cause: err });
      case 'transient':
        throw new AppError('ERR_DEPENDENCY_BUSY', `${what} busy (SQLSTATE ${state ?? '?'}): retry`, {
          cause: err,
        });
      default:
        if (state && /^2[23]/.test(state)) {
          throw new AppError(
            'ERR_EVENT_REFUSED',
            `the ${what} refused a value of this event (SQLSTATE ${state})`,
            {
              cause: err,
            },
          );
        }
        throw err;
    }
  }
}

/** Counts this call in the jurisdiction's repeat-call windows, over the policy's own window lengths. */
async function repeatCounts(
  call: CallEvent,
  deps: TriageDeps,
  policies: PolicySet,
): Promise<Decision['repeatCalls']> {
  const windows = repeatWindows(policies, call.agency.jurisdiction);
  const at = Date.parse(call.occurredAt);
  const scope = call.agency.jurisdiction;
  // Counted per incident (not per event), so revisions and replays of one call count once.
  const count = async (
    kind: string,
    raw: string | undefined,
    normalize: (s: string) => string,
    days: number,
  ) => {
    const value = raw ? normalize(raw) : '';
    if (!value) return 0;
    const key = `repeat:${kind}:${days}d:${hmac(deps.piiKey, `${scope}|${value}`)}`;
    return deps.store.windowAdd(key, call.incidentId, at, days * 24 * 3600 * 1000);
  };
  const [byAddress, byCaller] = await dependency('cache', () =>
    Promise.all([
      count('address', call.location?.address, normalizeAddress, windows.byAddress),
      count('caller', call.caller?.phone, normalizePhone, windows.byCaller),
    ]),
  );
  return { byAddress, byCaller, windowDays: windows };
}

function summarize(decision: Omit<Decision, 'summary'>): string[] {
  const lines = [decision.routing.summary];
  const gate = decision.gate;
  const why = gate.reasons[0]?.reason;
  const label = {
    police_secure_first: 'Police secure first',
    co_response_only: 'Co-response only',
    civilian_ok: 'Civilian may attend',
  }[gate.value];
  lines.push(why ? `${label}: ${why}` : label);
  if (decision.screeningQuestions.length > 0) {
    lines.push(`Ask: ${decision.screeningQuestions.map((q) => q.question).join(' ')}`);
  }
  return lines.slice(0, 3);
}

/** Routes a classified call by its jurisdiction's policy: the pipeline's step, also used by the admin dry run. */
export function routeCall(
  policies: PolicySet,
  call: CallEvent,
  classification: Classification,
  repeatCalls: { byAddress: number; byCaller: number },
  now: Date,
): Routing {
  return route(
    policies,
    {
      jurisdiction: call.agency.jurisdiction,
      categories: classification.categories.map((c) => c.category),
      gate: classification.gate.value,
      emsNeeded: classification.ems.needed,
      ...(call.priority !== undefined ? { priority: call.priority } : {}),
      subjectAges: (call.subjects ?? []).flatMap((s) => (s.age === undefined ? [] : [s.age])),
      repeatCalls: { byAddress: repeatCalls.byAddress, byCaller: repeatCalls.byCaller },
    },
    now,
  );
}

/**
 * Triage one call event. `input` is untrusted (a parsed JSON body or Kafka message value).
 * Deterministic for a given input, rules, policies and clock, apart from the new decision id.
 */
export async function triage(input: unknown, deps: TriageDeps): Promise<TriageOutcome> {
  const parsed = CallEventSchema.safeParse(input);
  if (!parsed.success) return { kind: 'invalid', errors: fieldErrors(parsed.error.issues) };
  // One canonical jurisdiction id from here on: policy, counts, storage and reports all use it.
  const jurisdiction = jurisdictionId(parsed.data.agency.jurisdiction);
  if (!jurisdiction)
    return { kind: 'invalid', errors: [{ path: 'agency.jurisdiction', message: 'must not be blank' }] };
  const call: CallEvent = { ...parsed.data, agency: { ...parsed.data.agency, jurisdiction } };

  const { policies, version: policyVersion } = deps.policies();
  const repeatCalls = await repeatCounts(call, deps, policies);
  const rules = deps.rules();
  const classification = evaluate(rules, call, { repeatCalls });
  const now = deps.now();
  const routing = routeCall(policies, call, classification, repeatCalls, now);

  const referralId = routing.followUp.referral ? randomUUID() : undefined;
  // Fields in the order of DecisionSchema: this object is what REST returns and Kafka carries.
  const decision: Decision = {
    decisionId: randomUUID(),
    eventId: call.eventId,
    incidentId: call.incidentId,
    revision: call.revision,
    jurisdiction: call.agency.jurisdiction,
    agencyId: call.agency.id,
    // Known only once the incident is locked: the recorder fills it in, here and in the stored copy.
    supersedes: null,
    occurredAt: call.occurredAt,
    decidedAt: now.toISOString(),
    rulesVersion: classification.rulesVersion,
    policyVersion,
    summary: [], // filled in below, from the rest
    commonType: classification.commonType,
    categories: classification.categories,
    gate: classification.gate,
    screeningQuestions: classification.screeningQuestions,
    ems: classification.ems,
    routing: { policyVersion, ...routing },
    repeatCalls,
    referral: referralId ? { created: true, referralId } : { created: false },
  };
  decision.summary = summarize(decision);

  // Duplicates and stale revisions are settled in the same transaction (the unique event id and the
  // locked incident row decide), so the pipeline does the same work for a new event and a replay.
  const recorded = await dependency('database', () =>
    deps.recorder.record({
      decision,
      call: storedCall(call, deps.piiKey, deps.keepNarratives),
      ...(referralId
        ? {
            referral: {
              referralId,
              poolId: routing.followUp.poolId ?? null,
              reasons: routing.followUp.reasons,
              dueBy: routing.followUp.dueBy ?? null,
            },
          }
        : {}),
    }),
  );
  let outcome: TriageOutcome;
  switch (recorded.kind) {
    case 'stale':
      return {
        kind: 'stale',
        eventId: call.eventId,
        incidentId: call.incidentId,
        revision: call.revision,
        currentDecisionId: recorded.currentDecisionId,
      };
    case 'duplicate':
      outcome = { kind: 'duplicate', decision: recorded.decision };
      break;
    case 'decided':
      decision.supersedes = recorded.supersedes;
      outcome = { kind: 'decided', decision };
      break;
  }
  if (deps.emit) {
    try {
      await deps.emit(outcome.decision);
    } catch (err) {
      // The decision is stored: the caller gets it, told that its emit is pending, rather than an
      // error that would make it retry something already done.
      if (!deps.emitLater) throw err;
      deps.emitLater(outcome.decision);
      deps.logger.warn(
        { err, decisionId: outcome.decision.decisionId },
        'decision stored but not emitted: emitting it again in the background',
      );
      return { ...outcome, emitted: false };
    }
  }
  return outcome;
}
