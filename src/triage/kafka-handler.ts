import { HEADERS, MAX_EVENT_BYTES } from '../definitions.ts';
import type { Decision } from '../domain/decision.ts';
import type { HandlerResult } from '../kafka/consumer-loop.ts';
import type { ConsumedRecord, OutgoingRecord } from '../kafka/types.ts';
import { type TriageDeps, type TriageOutcome, triage } from './pipeline.ts';

/** The Kafka record of a decision: keyed by incident id, with its ids in headers for cheap deduplication. */
export function decisionRecord(decision: Decision, topic: string): OutgoingRecord {
  return {
    topic,
    key: decision.incidentId,
    value: JSON.stringify(decision),
    headers: {
      [HEADERS.contentType]: 'application/json',
      [HEADERS.decisionId]: decision.decisionId,
      [HEADERS.eventId]: decision.eventId,
    },
  };
}

/**
 * Turns one record of the calls topic into a triage outcome: a function of the record and the
 * pipeline, with no Kafka client (the consumer loop produces what it returns). A record that can
 * never be a call event (empty, too large, not JSON, not valid) is dead-lettered with a specific
 * reason; a dependency failure propagates as an error for the loop to classify (pause on an outage,
 * retry a transient one, dead-letter a refused event at once).
 */
export async function handleCallRecord(
  record: ConsumedRecord,
  deps: TriageDeps,
  decisionsTopic: string,
): Promise<HandlerResult & { outcome?: TriageOutcome }> {
  const value = record.value;
  if (!value || value.length === 0) {
    return {
      deadLetter: {
        code: 'ERR_EVENT_EMPTY',
        message: 'the record has no value (a tombstone or empty message)',
      },
    };
  }
  if (value.length > MAX_EVENT_BYTES) {
    return {
      deadLetter: {
        code: 'ERR_EVENT_TOO_LARGE',
        message: `the record is ${value.length} bytes; a call event may be at most ${MAX_EVENT_BYTES}`,
      },
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the text around the error, which may be personal data.
    return { deadLetter: { code: 'ERR_EVENT_NOT_JSON', message: 'the value is not JSON' } };
  }
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
