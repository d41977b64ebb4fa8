/**
 * The persist step of the pipeline, with group commit: events triaged at the same time (concurrent
 * REST requests, Kafka partitions handled in parallel) are recorded together, in one call of the
 * `record_triage` function (migrations/0004): one round trip and one transaction for the batch
 * instead of six statements per event. A caller's promise resolves only once its batch is committed.
 *
 * At most `maxInFlight` batches run at once; while they run, new events queue and go together in the
 * next one, so under light load an event goes alone at once and under heavy load batches grow by
 * themselves. A batch holds one event per incident, and an event whose incident is being recorded
 * waits for that batch, so the events of one incident are recorded in the order they arrived. If a
 * batch fails for a reason other than an outage, each of its events is retried alone,
 * so one bad event cannot fail the others. When more than `maxQueue` events wait, the database is not
 * keeping up and new ones are refused as an outage (REST answers 503, Kafka pauses) rather than
 * queued without bound.
 */
import type { Database } from '../adapters/database.ts';
import type { Decision } from '../domain/decision.ts';
import { AppError } from '../errors.ts';
import { isOutage } from '../adapters/failures.ts';

/** One triaged event, ready to record. */
export interface TriageRecord {
  decision: Decision;
  /** The call as stored (phone number hashed). */
  call: unknown;
  referral?: { referralId: string; poolId: string | null; reasons: string[]; dueBy: string | null };
}

export type RecordResult =
  /** Stored; `supersedes` is the incident's previous decision, also written into the stored decision. */
  | { kind: 'decided'; supersedes: string | null }
  /** This event id was decided before: the decision stored then. */
  | { kind: 'duplicate'; decision: Decision }
  /** An older or equal revision of an incident already decided: recorded in stale_events only. */
  | { kind: 'stale'; currentDecisionId: string | null };

export interface DecisionRecorder {
  record(item: TriageRecord): Promise<RecordResult>;
}

interface Pending {
  item: TriageRecord;
  resolve: (r: RecordResult) => void;
  reject: (err: unknown) => void;
}

type Row = { ord: number; outcome: RecordResult['kind']; previous: string | null; decision: Decision | null };

/** The function's item: snake_case fields, as read by record_triage. */
function toItem({ decision: d, call, referral }: TriageRecord) {
  return {
    event_id: d.eventId,
    incident_id: d.incidentId,
    jurisdiction: d.jurisdiction,
    revision: d.revision,
    decision_id: d.decisionId,
    rules_version: d.rulesVersion,
    policy_version: d.policyVersion,
    gate: d.gate.value,
    mode: d.routing.mode,
    categories: d.categories.map((c) => c.category),
    decision: d,
    call,
    decided_at: d.decidedAt,
    referral: referral
      ? {
          referral_id: referral.referralId,
          pool_id: referral.poolId,
          reasons: referral.reasons,
          due_by: referral.dueBy,
        }
      : null,
  };
}

/**
 * PostgreSQL text cannot hold U+0000, and a call must not be lost for a stray NUL byte from a CAD:
 * each is stored as U+FFFD (the replacement character). Matches `\u0000` escapes in JSON text, not
 * an escaped backslash followed by "u0000".
 */
export const storable = (json: string) => json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');

function toResult(row: Row): RecordResult {
  switch (row.outcome) {
    case 'decided':
      return { kind: 'decided', supersedes: row.previous };
    case 'duplicate':
      return { kind: 'duplicate', decision: row.decision! };
    case 'stale':
      return { kind: 'stale', currentDecisionId: row.previous };
  }
}

export function createRecorder(
  db: Database,
  options: {
    /** Events per batch at most. */
    maxBatch?: number;
    /** Batches being recorded at once (each holds one database connection). */
    maxInFlight?: number;
    /** Events waiting at most; beyond it the database is not keeping up and new events are refused (503, Kafka pauses). */
    maxQueue?: number;
  } = {},
): DecisionRecorder {
  const maxBatch = options.maxBatch ?? 64;
  const maxInFlight = db.kind === 'pglite' ? 1 : (options.maxInFlight ?? 2);
  const maxQueue = options.maxQueue ?? 10_000;
  const queue: Pending[] = [];
  let inFlight = 0;

  const write = async (batch: Pending[]): Promise<RecordResult[]> => {
    const { rows } = await db.query<Row>(
      'SELECT ord, outcome, previous, decision FROM record_triage($1::jsonb)',
      [storable(JSON.stringify(batch.map((p) => toItem(p.item))))],
    );
    if (rows.length !== batch.length) {
      throw new Error(`record_triage returned ${rows.length} rows for ${batch.length} items`);
    }
    const results = new Array<RecordResult>(batch.length);
    for (const row of rows) results[row.ord - 1] = toResult(row);
    return results;
  };

  const flush = async (batch: Pending[]) => {
    try {
      const results = await write(batch);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1 || isOutage(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Something in the batch is refused: record each event alone so only that one fails.
      for (const p of batch) {
        await write([p]).then(
          ([result]) => p.resolve(result!),
          (e: unknown) => p.reject(e),
        );
      }
    }
  };

  /** Incidents of the batches being recorded: their next events wait, so each incident keeps arrival order. */
  const busy = new Set<string>();
  const incidentOf = (p: Pending) => `${p.item.decision.jurisdiction}\u0000${p.item.decision.incidentId}`;

  /** The next batch: queued events in order, at most one per incident and none of a busy incident. */
  const take = (): Pending[] => {
    const batch: Pending[] = [];
    let kept = 0;
    for (const p of queue) {
      const incident = incidentOf(p);
      if (batch.length < maxBatch && !busy.has(incident)) {
        busy.add(incident);
        batch.push(p);
      } else {
        queue[kept++] = p;
      }
    }
    queue.length = kept;
    return batch;
  };

  const pump = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = take();
      if (batch.length === 0) return; // everything queued waits for an incident being recorded
      inFlight++;
      void flush(batch).finally(() => {
        for (const p of batch) busy.delete(incidentOf(p));
        inFlight--;
        pump();
      });
    }
  };

  return {
    record(item) {
      if (queue.length >= maxQueue) {
        return Promise.reject(
          new AppError(
            'ERR_DEPENDENCY_UNAVAILABLE',
            `the database is not keeping up: ${queue.length} events waiting to be recorded`,
          ),
        );
      }
      return new Promise<RecordResult>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
