/**
 * The one triage pipeline, shared by REST and Kafka:
 *   validate → deduplicate → enrich (repeat calls) → classify + gate (rules) → route (policy) → persist → emit.
 * It never throws on bad input (that is an `invalid` outcome); it throws only when a dependency
 * fails, with ERR_DEPENDENCY_UNAVAILABLE when the cause is an outage, so the caller can retry
 * (Kafka pauses, REST answers 503) without anything half-written: persistence is one transaction.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { CallEventSchema, type CallEvent } from '../domain/call-event.ts';
import type { Decision } from '../domain/decision.ts';
import type { Classification } from '../domain/classification.ts';
import type { Routing } from '../domain/routing.ts';
import type { Database, Queryable } from '../adapters/database.ts';
import type { KeyValueStore } from '../adapters/store.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { evaluate, type PreparedRuleset } from '../rules/index.ts';
import { repeatWindows, route, type PolicySet } from '../routing/index.ts';

export interface TriageDeps {
  db: Database;
  store: KeyValueStore;
  /** The rule set serving now (hot-reloaded). */
  rules: () => PreparedRuleset;
  /** The routing policies serving now (hot-reloaded), with their content hash. */
  policies: () => { policies: PolicySet; version: string };
  /** Publishes a decision (Kafka); absent on REST-only deployments. Must resolve only once durable. */
  emit?: (decision: Decision) => Promise<void>;
  /** Keyed hash secret for phone numbers and addresses: they are never stored or counted in clear. */
  piiKey: string;
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
  /** A new decision, persisted (and emitted when `emit` is set). */
  | { kind: 'decided'; decision: Decision }
  /** This event was triaged before: the stored decision, emitted again so a crash between persist and emit loses nothing. */
  | { kind: 'duplicate'; decision: Decision }
  /** A revision older than (or equal to) one already decided: recorded, nothing new decided or emitted. */
  | {
      kind: 'stale';
      eventId: string;
      incidentId: string;
      revision: number;
      currentDecisionId: string | null;
    };

const DONE_TTL_MS = 7 * 24 * 3600 * 1000;

/** The zod issues of a call event as dotted field paths ("callType.code", "subjects.0.age"). */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** True when an error means a server is unreachable or going away, not that the data is wrong. */
export function isOutage(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ERR_DEPENDENCY_UNAVAILABLE',
    ].includes(code) ||
    /^(08|57P|53)/.test(code) || // PostgreSQL: connection exception, operator intervention, insufficient resources
    /Connection terminated|Connection is closed|max retries per request|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|memory store is closed|PGlite is closed/i.test(
      message,
    )
  );
}

async function dependency<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isOutage(err))
      throw new AppError('ERR_DEPENDENCY_UNAVAILABLE', `${what} unavailable`, { cause: err });
    throw err;
  }
}

const hmac = (key: string, value: string) =>
  createHmac('sha256', key).update(value).digest('hex').slice(0, 32);
const normalizeAddress = (a: string) =>
  a
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
const normalizePhone = (p: string) => p.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');

/** The call as stored: the phone number replaced by its keyed hash. */
function storedCall(call: CallEvent, piiKey: string): CallEvent {
  if (!call.caller?.phone) return call;
  return {
    ...call,
    caller: { ...call.caller, phone: `hmac:${hmac(piiKey, normalizePhone(call.caller.phone))}` },
  };
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

async function findDecision(q: Queryable, eventId: string): Promise<Decision | undefined> {
  const { rows } = await q.query<{ decision: Decision }>(
    'SELECT decision FROM decisions WHERE event_id = $1',
    [eventId],
  );
  return rows[0]?.decision;
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
  const call = parsed.data;

  // Fast path for replays: the store remembers events already decided (the database stays the truth).
  const doneMarker = `done:${call.eventId}`;
  if (await dependency('cache', () => deps.store.get(doneMarker))) {
    const previous = await dependency('database', () => findDecision(deps.db, call.eventId));
    if (previous) {
      if (deps.emit) await deps.emit(previous);
      return { kind: 'duplicate', decision: previous };
    }
  }

  const { policies, version: policyVersion } = deps.policies();
  const repeatCalls = await repeatCounts(call, deps, policies);
  const rules = deps.rules();
  const classification = evaluate(rules, call, { repeatCalls });
  const now = deps.now();
  const routing = routeCall(policies, call, classification, repeatCalls, now);

  const outcome = await dependency('database', () =>
    deps.db.transaction(async (tx): Promise<TriageOutcome> => {
      // Lock the incident row first (an upsert's DO UPDATE takes the row lock): revisions of one
      // incident are decided one at a time, in order, whichever replica gets them.
      const { rows } = await tx.query<{ latest_revision: number; latest_decision_id: string | null }>(
        `INSERT INTO incidents (incident_id, jurisdiction) VALUES ($1, $2)
         ON CONFLICT (jurisdiction, incident_id) DO UPDATE SET incident_id = EXCLUDED.incident_id
         RETURNING latest_revision, latest_decision_id`,
        [call.incidentId, call.agency.jurisdiction],
      );
      const incident = rows[0]!;
      const existing = await findDecision(tx, call.eventId);
      if (existing) return { kind: 'duplicate', decision: existing };
      if (call.revision <= incident.latest_revision) {
        await tx.query(
          `INSERT INTO stale_events (event_id, jurisdiction, incident_id, revision, current_decision_id)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
          [
            call.eventId,
            call.agency.jurisdiction,
            call.incidentId,
            call.revision,
            incident.latest_decision_id,
          ],
        );
        return {
          kind: 'stale',
          eventId: call.eventId,
          incidentId: call.incidentId,
          revision: call.revision,
          currentDecisionId: incident.latest_decision_id,
        };
      }

      const decisionId = randomUUID();
      const referralId = routing.followUp.referral ? randomUUID() : undefined;
      const base: Omit<Decision, 'summary'> = {
        decisionId,
        eventId: call.eventId,
        incidentId: call.incidentId,
        revision: call.revision,
        jurisdiction: call.agency.jurisdiction,
        agencyId: call.agency.id,
        supersedes: incident.latest_decision_id,
        occurredAt: call.occurredAt,
        decidedAt: now.toISOString(),
        rulesVersion: classification.rulesVersion,
        policyVersion,
        categories: classification.categories,
        gate: classification.gate,
        screeningQuestions: classification.screeningQuestions,
        ems: classification.ems,
        routing: { ...routing, policyVersion },
        repeatCalls,
        referral: referralId ? { created: true, referralId } : { created: false },
      };
      const decision: Decision = { ...base, summary: summarize(base) };
      await tx.query(
        `INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, supersedes,
           rules_version, policy_version, gate, mode, categories, decision, call, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          decisionId,
          call.eventId,
          call.incidentId,
          call.revision,
          call.agency.jurisdiction,
          incident.latest_decision_id,
          decision.rulesVersion,
          policyVersion,
          decision.gate.value,
          decision.routing.mode,
          decision.categories.map((c) => c.category),
          decision,
          storedCall(call, deps.piiKey),
          decision.decidedAt,
        ],
      );
      await tx.query(
        `UPDATE incidents SET latest_revision = $3, latest_decision_id = $4, updated_at = now()
         WHERE jurisdiction = $1 AND incident_id = $2`,
        [call.agency.jurisdiction, call.incidentId, call.revision, decisionId],
      );
      if (referralId) {
        await tx.query(
          `INSERT INTO referrals (referral_id, decision_id, incident_id, jurisdiction, pool_id, reasons, due_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            referralId,
            decisionId,
            call.incidentId,
            call.agency.jurisdiction,
            routing.followUp.poolId ?? null,
            routing.followUp.reasons,
            routing.followUp.dueBy ?? null,
          ],
        );
      }
      return { kind: 'decided', decision };
    }),
  );

  if (outcome.kind === 'decided' || outcome.kind === 'duplicate') {
    // Best effort: the marker only speeds up replays; the unique event id in the database decides.
    await deps.store
      .setIfAbsent(doneMarker, outcome.decision.decisionId, DONE_TTL_MS)
      .catch((err: unknown) =>
        deps.logger.warn({ err, eventId: call.eventId }, 'could not set the dedupe marker'),
      );
    if (deps.emit) await deps.emit(outcome.decision);
  }
  return outcome;
}
