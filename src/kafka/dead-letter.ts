/**
 * Dead letters that always fit. The copy on the dead-letter topic is the original record (key,
 * value, headers) with the reason in `x-dlq-*` headers, as Kafka Connect does — when that fits the
 * topic's `max.message.bytes`. When it does not (a record near the limit plus six headers is over
 * it), the original is stored whole in the dead-letter archive (PostgreSQL) and the topic gets a
 * reference to it plus as much of the value's beginning as fits. Nothing is dropped either way.
 */
import { HEADERS } from '../definitions.ts';
import { recordBytes, type ConsumedRecord, type OutgoingRecord, type RecordHeaders } from './types.ts';

export interface DeadLetterReason {
  /** An error code from the catalogue (errors.ts). */
  code: string;
  /** Why, in words; must not quote the record (it may hold personal data). */
  message: string;
}

/** A dead-lettered original, as the archive stores it. */
export interface ArchivedDeadLetter {
  record: ConsumedRecord;
  reason: DeadLetterReason;
  attempts: number;
}

/** Where originals too large for the dead-letter topic are kept. */
export interface DeadLetterArchive {
  /**
   * Stores the original durably and resolves with its reference (an id); storing the same source
   * record (topic, partition, offset) twice returns the first reference. Rejects when the store is
   * unavailable (the consumer then pauses: the record is not lost).
   */
  put(entry: ArchivedDeadLetter): Promise<string>;
}

/** Bytes kept free under the limit for what our estimate cannot see (compression framing, rounding). */
const MARGIN = 512;

function reasonHeaders(record: ConsumedRecord, reason: DeadLetterReason, attempts: number) {
  return {
    [HEADERS.dlqErrorCode]: reason.code,
    [HEADERS.dlqErrorMessage]: reason.message.slice(0, 2000),
    [HEADERS.dlqSourceTopic]: record.topic,
    [HEADERS.dlqSourcePartition]: String(record.partition),
    [HEADERS.dlqSourceOffset]: record.offset,
    [HEADERS.dlqAttempts]: String(attempts),
  };
}

function definedHeaders(headers: RecordHeaders): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/** The full copy: the original key, value and headers with the reason added. */
export function fullCopy(
  dlqTopic: string,
  record: ConsumedRecord,
  reason: DeadLetterReason,
  attempts: number,
): OutgoingRecord {
  return {
    topic: dlqTopic,
    key: record.key,
    value: record.value,
    headers: { ...definedHeaders(record.headers), ...reasonHeaders(record, reason, attempts) },
  };
}

/** True when `copy` fits a topic whose limit is `maxMessageBytes`, with the margin. */
export function fits(copy: OutgoingRecord, maxMessageBytes: number): boolean {
  return recordBytes(copy) <= maxMessageBytes - MARGIN;
}

/**
 * The reference copy: the original key, the reason, the archive reference and the original's size in
 * headers, and the beginning of the value as fits under the limit (`prefix: false` for none).
 */
export function referenceCopy(
  dlqTopic: string,
  record: ConsumedRecord,
  reason: DeadLetterReason,
  attempts: number,
  reference: string,
  maxMessageBytes: number,
  prefix = true,
): OutgoingRecord {
  const headers = {
    ...reasonHeaders(record, reason, attempts),
    [HEADERS.dlqArchived]: reference,
    [HEADERS.dlqOriginalBytes]: String(record.value?.length ?? 0),
  };
  const copy: OutgoingRecord = { topic: dlqTopic, key: record.key, value: null, headers };
  if (!prefix || !record.value) return copy;
  const room = maxMessageBytes - MARGIN - recordBytes(copy);
  if (room <= 0) return copy;
  return { ...copy, value: record.value.subarray(0, Math.min(room, record.value.length)) };
}
