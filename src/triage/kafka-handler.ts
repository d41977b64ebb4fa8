import type { Decision } from '../domain/decision.ts';
import type { HandlerResult } from '../kafka/consumer-loop.ts';
import type { ConsumedRecord, OutgoingRecord } from '../kafka/types.ts';
import { eidoContext } from './eido-context.ts';
import { decisionHeaders, decodeCallRecord } from './kafka-records.ts';
import { type TriageDeps, type TriageOutcome, triage } from './pipeline.ts';

/** The Kafka record of a decision: keyed by incident id, with its ids in headers for cheap deduplication. */
export function decisionRecord(decision: Decision, topic: string): OutgoingRecord {
  return {
    topic,
    key: decision.incidentId,
    value: JSON.stringify(decision),
    headers: decisionHeaders(decision),
  };
}

/**
 * Turns one record of the calls topic into a triage outcome: a function of the record and the
 * pipeline, with no Kafka client (the consumer loop produces what it returns). A record that can
 * never be a call event (empty, too large, not JSON, an unknown content type, a malformed EIDO, not
 * valid; see `decodeCallRecord`) is dead-lettered with a specific
 * reason; a dependency failure propagates as an error for the loop to classify (pause on an outage,
 * retry a transient one, dead-letter a refused event at once).
 */
export async function handleCallRecord(
  record: ConsumedRecord,
  deps: TriageDeps,
  decisionsTopic: string,
): Promise<HandlerResult & { outcome?: TriageOutcome }> {
  const decoded = decodeCallRecord(record.headers, record.value, eidoContext(deps));
  if (!decoded.ok) return { deadLetter: { code: decoded.code, message: decoded.message } };
  const json = decoded.input;
  // The consumer loop produces the decision with the others of its batch, before committing.
  const outcome = await triage(json, { ...deps, emit: undefined });
  if (outcome.kind === 'invalid') {
    return {
      outcome,
      deadLetter: {
        code: 'ERR_VALIDATION',
        message: outcome.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      },
    };
  }
  if (outcome.kind === 'decided' || outcome.kind === 'duplicate') {
    return { outcome, outputs: [decisionRecord(outcome.decision, decisionsTopic)] };
  }
  return { outcome };
}
