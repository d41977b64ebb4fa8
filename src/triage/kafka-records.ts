/**
 * The two pure functions between Kafka records and the pipeline: decoding a record of the calls
 * topic (headers + value → the input for `triage()`, or a coded reason to dead-letter it) and the
 * headers of a decision record (CloudEvents binary mode plus the service's own). No I/O, so the
 * consumer loop and producer can call them from wherever they live.
 */
import type { IHeaders } from 'kafkajs';
import { CLOUDEVENTS, HEADERS, MAX_EVENT_BYTES } from '../definitions.ts';
import type { Decision } from '../domain/decision.ts';
import type { ErrorCode } from '../errors.ts';
import {
  EIDO_MEDIA_TYPE,
  eidoToCallEvent,
  type EidoContext,
  type EidoError,
} from '../adapters/eido/index.ts';

export type DecodedRecord =
  /** The input for `triage()`: a parsed call event (validated by the pipeline) or one mapped from an EIDO. */
  | { ok: true; format: 'call-event' | 'eido'; input: unknown }
  /** A record that can never be triaged, with the reason for its dead letter (no input values quoted). */
  | { ok: false; code: ErrorCode; message: string };

/** The first value of a header as text; header names are matched case-insensitively. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const raw = key === undefined ? undefined : headers[key];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/** `application/emergency.eido+json; version="1"` → `application/emergency.eido+json`. */
export const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

/** One line per EIDO error, as a dead letter's reason: "/pointer: [CODE] message; ...". */
export const eidoReason = (errors: readonly EidoError[]) =>
  errors.map((e) => `${e.pointer || '(document)'}: [${e.code}] ${e.message}`).join('; ');

/**
 * Decodes one record of the calls topic. The `content-type` header picks the format: absent or
 * `application/json` is the service's call event, `application/emergency.eido+json` a NENA EIDO
 * (mapped here); anything else is refused. CloudEvents headers are accepted, not required; when
 * present, `ce_specversion` must be 1.0 and `ce_type` must not be the service's own decision type
 * (a decision fed back into the calls topic would loop).
 */
export function decodeCallRecord(
  headers: IHeaders | undefined,
  value: Buffer | null | undefined,
  eido: EidoContext,
): DecodedRecord {
  const specversion = headerText(headers, HEADERS.ceSpecversion);
  if (specversion !== undefined && specversion !== CLOUDEVENTS.specversion) {
    return {
      ok: false,
      code: 'ERR_CLOUDEVENT_INVALID',
      message: `ce_specversion must be ${CLOUDEVENTS.specversion}`,
    };
  }
  const ceType = headerText(headers, HEADERS.ceType);
  if (ceType !== undefined && (ceType.trim() === '' || ceType === CLOUDEVENTS.decisionType)) {
    return {
      ok: false,
      code: 'ERR_CLOUDEVENT_INVALID',
      message:
        ceType.trim() === ''
          ? 'ce_type is empty'
          : `ce_type ${CLOUDEVENTS.decisionType} is a triage decision, not a call: is the decisions topic wired into the calls topic?`,
    };
  }
  const contentType = headerText(headers, HEADERS.contentType);
  const type =
    contentType === undefined || contentType.trim() === '' ? 'application/json' : mediaType(contentType);
  if (type !== 'application/json' && type !== EIDO_MEDIA_TYPE) {
    return {
      ok: false,
      code: 'ERR_MEDIA_TYPE',
      message: `content-type must be application/json (a call event) or ${EIDO_MEDIA_TYPE} (a NENA EIDO); CloudEvents are read in binary mode only`,
    };
  }
  if (!value || value.length === 0) {
    return {
      ok: false,
      code: 'ERR_EVENT_EMPTY',
      message: 'the record has no value (a tombstone or empty message)',
    };
  }
  if (value.length > MAX_EVENT_BYTES) {
    return {
      ok: false,
      code: 'ERR_EVENT_TOO_LARGE',
      message: `the record is ${value.length} bytes; a call event may be at most ${MAX_EVENT_BYTES}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    // The parser's own message quotes the input, which may be a narrative: not repeated here.
    if (type === EIDO_MEDIA_TYPE) {
      const reason = eidoReason([{ pointer: '', code: 'ERR_EIDO_SCHEMA', message: 'the value is not JSON' }]);
      return { ok: false, code: 'ERR_EIDO_INVALID', message: reason };
    }
    return { ok: false, code: 'ERR_EVENT_NOT_JSON', message: 'the value is not JSON' };
  }
  if (type === 'application/json') return { ok: true, format: 'call-event', input: json };
  const mapped = eidoToCallEvent(json, eido);
  if (!mapped.ok) return { ok: false, code: 'ERR_EIDO_INVALID', message: eidoReason(mapped.errors) };
  return { ok: true, format: 'eido', input: mapped.call };
}

/**
 * The headers of a decision record: CloudEvents 1.0 binary mode (id = the decision id, so a replayed
 * decision is recognisably the same event; time = when it was decided; subject = the incident) and
 * the service's own `x-decision-id` / `x-event-id` for consumers that predate CloudEvents.
 */
export function decisionHeaders(decision: Decision): Record<string, string> {
  return {
    [HEADERS.contentType]: 'application/json',
    [HEADERS.ceSpecversion]: CLOUDEVENTS.specversion,
    [HEADERS.ceId]: decision.decisionId,
    [HEADERS.ceType]: CLOUDEVENTS.decisionType,
    [HEADERS.ceSource]: CLOUDEVENTS.source(decision.jurisdiction),
    [HEADERS.ceTime]: decision.decidedAt,
    [HEADERS.ceSubject]: decision.incidentId,
    [HEADERS.decisionId]: decision.decisionId,
    [HEADERS.eventId]: decision.eventId,
  };
}
