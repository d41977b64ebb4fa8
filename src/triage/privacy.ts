/**
 * What of a call is kept, and for how long (the README's privacy section says why). A call carries
 * health, substance-use and criminal-justice information about people who did not ask to be
 * recorded, so the stored copy keeps only what triage, audit, backtests and reports need:
 * - the phone number and the address only as keyed hashes (HMAC with PII_HASH_KEY), enough to count
 *   repeat calls and unduplicated people, never enough to read them back;
 * - coordinates only as a coarse area (two decimals, about 1 km);
 * - the narrative only while its retention runs (NARRATIVE_RETENTION_DAYS; 0 = never stored), then
 *   purged by `purgeNarratives` — the one change the append-only decision audit allows;
 * - of the fields a CAD may add beyond the call event, none: unknown fields are dropped.
 */
import { createHmac } from 'node:crypto';
import type { CallEvent } from '../domain/call-event.ts';
import { SCREENING_KEYS } from '../domain/call-event.ts';
import type { Database } from '../adapters/database.ts';

/** A keyed hash: the same value gives the same hash under one key, and nothing can be read back. */
export const hmac = (key: string, value: string) =>
  createHmac('sha256', key).update(value).digest('hex').slice(0, 32);

export const normalizeAddress = (a: string) =>
  a
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
export const normalizePhone = (p: string) => p.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');

/** Keyed hashes of a call's phone and address, or undefined when the call has none. */
export function piiHashes(call: CallEvent, piiKey: string): { phone?: string; address?: string } {
  const phone = call.caller?.phone ? normalizePhone(call.caller.phone) : '';
  const address = call.location?.address ? normalizeAddress(call.location.address) : '';
  return {
    ...(phone ? { phone: hmac(piiKey, phone) } : {}),
    ...(address ? { address: hmac(piiKey, `${call.agency.jurisdiction}|${address}`) } : {}),
  };
}

/** Why a stored call has no narrative, when it had one. */
export type NarrativeOmitted = 'not-stored' | 'purged';

/** The call as stored in `decisions.call`: a call event with nothing personal left in clear. */
export interface StoredCall {
  eventId: string;
  incidentId: string;
  revision: number;
  occurredAt: string;
  agency: { id: string; jurisdiction: string };
  callType: CallEvent['callType'];
  priority?: number;
  source?: string;
  location?: {
    addressHash?: string;
    /** Coordinates rounded to two decimals (about 1 km). */
    area?: { lat: number; lon: number };
    placeType?: string;
    premiseFlags?: string[];
  };
  narrative?: string;
  /** Set when the call had a narrative that is not (or no longer) kept: backtests cannot replay it. */
  narrativeOmitted?: NarrativeOmitted;
  caller?: { relationship?: string; phoneHash?: string };
  subjects?: Array<{ age?: number; role?: string }>;
  screening?: CallEvent['screening'];
}

const coarse = (x: number) => Math.round(x * 100) / 100;

function defined<T extends object>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The stored copy of a call: the fields the service reads, the phone and address as keyed hashes,
 * coordinates coarsened, the narrative kept only when `keepNarrative`, unknown fields dropped.
 */
export function storedCall(call: CallEvent, piiKey: string, keepNarrative: boolean): StoredCall {
  const hashes = piiHashes(call, piiKey);
  const loc = call.location;
  const location = loc
    ? defined({
        addressHash: hashes.address,
        area:
          loc.lat !== undefined && loc.lon !== undefined
            ? { lat: coarse(loc.lat), lon: coarse(loc.lon) }
            : undefined,
        placeType: loc.placeType,
        premiseFlags: loc.premiseFlags,
      })
    : undefined;
  const caller = call.caller
    ? defined({ relationship: call.caller.relationship, phoneHash: hashes.phone })
    : undefined;
  const screening = call.screening
    ? defined(Object.fromEntries(SCREENING_KEYS.map((k) => [k, call.screening?.[k]])))
    : undefined;
  const stored: StoredCall = {
    eventId: call.eventId,
    incidentId: call.incidentId,
    revision: call.revision,
    occurredAt: call.occurredAt,
    agency: { id: call.agency.id, jurisdiction: call.agency.jurisdiction },
    callType: defined({
      code: call.callType.code,
      description: call.callType.description,
      commonType: call.callType.commonType,
    })!,
  };
  if (call.priority !== undefined) stored.priority = call.priority;
  if (call.source !== undefined) stored.source = call.source;
  if (location) stored.location = location;
  if (call.narrative !== undefined) {
    if (keepNarrative) stored.narrative = call.narrative;
    else stored.narrativeOmitted = 'not-stored';
  }
  if (caller) stored.caller = caller;
  if (call.subjects) stored.subjects = call.subjects.map((s) => defined({ age: s.age, role: s.role }) ?? {});
  if (screening) stored.screening = screening;
  return stored;
}

/**
 * Removes the narratives of calls decided before `before` (at most `limit` at a time, so a large
 * backlog does not hold one long transaction), keeping the decision, its reasons, rule ids and
 * evidence. The decision audit is append-only; this is the one change its trigger lets through
 * (migrations/0006), and only inside this transaction. Archived dead letters older than `before`
 * go too. Returns how many narratives and archived records were purged.
 */
export async function purgeNarratives(db: Database, before: Date, limit = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const purged = await db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('cad_triage.purge', 'narratives', true)`);
      const { rows } = await tx.query<{ n: number }>(
        `WITH due AS (
           SELECT decision_id FROM decisions
           WHERE call ? 'narrative' AND decided_at < $1
           ORDER BY decided_at LIMIT $2
           FOR UPDATE SKIP LOCKED)
         , done AS (
           UPDATE decisions d
           SET call = (d.call - 'narrative') || '{"narrativeOmitted": "purged"}'::jsonb
           FROM due WHERE d.decision_id = due.decision_id
           RETURNING 1)
         SELECT count(*)::int AS n FROM done`,
        [before.toISOString(), limit],
      );
      return rows[0]?.n ?? 0;
    });
    total += purged;
    if (purged < limit) break;
  }
  // Dead-lettered originals too large for the topic (src/adapters/dead-letters.ts) are whole call
  // events, narrative included: they keep as long as a narrative does.
  const { rowCount } = await db.query('DELETE FROM dead_letters WHERE created_at < $1', [
    before.toISOString(),
  ]);
  return total + rowCount;
}
