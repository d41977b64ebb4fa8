import type { Message } from 'kafkajs';
import type { Decision } from '../domain/decision.ts';
import type { ConsumedMessage, HandlerResult } from '../adapters/kafka-consumer.ts';
import { eidoContext } from './eido-context.ts';
import { decisionHeaders, decodeCallRecord } from './kafka-records.ts';
import { type TriageDeps, type TriageOutcome, triage } from './pipeline.ts';

/** The Kafka record of a decision: keyed by incident id, with its ids in headers for cheap deduplication. */
export function decisionRecord(decision: Decision): Message {
  return {
    key: decision.incidentId,
    value: JSON.stringify(decision),
    headers: decisionHeaders(decision),
  };
}

/**
 * Turns one record of the calls topic into a triage outcome. A record that can never be a call
 * event (empty, too large, not JSON, an unknown content type, a malformed EIDO, not valid) is
 * dead-lettered with a specific reason (see `decodeCallRecord`); an outage
 * propagates as an error so the consumer loop pauses instead.
 */
export async function handleCallRecord(
  m: ConsumedMessage,
  deps: TriageDeps,
  decisionsTopic: string,
): Promise<HandlerResult & { outcome?: TriageOutcome }> {
  const decoded = decodeCallRecord(m.message.headers, m.message.value, eidoContext(deps));
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
    return { outcome, outputs: [{ topic: decisionsTopic, message: decisionRecord(outcome.decision) }] };
  }
  return { outcome };
}
