/**
 * Send failures classified at the adapter boundary (STYLE habit 14): a permanent one fails the one
 * record at once, a broken idempotent sequence is repaired by a new producer session, anything else
 * is transient and pauses the partition until the broker answers again.
 */

export type SendFailure =
  /** The record can never be accepted as it is (too large, invalid, not authorized). */
  | 'permanent'
  /** The idempotent producer's session is out of step with the broker: open a new one and retry. */
  | 'sequence'
  /** The broker or the network is unavailable for now (leader change, timeout, connection). */
  | 'transient';

/** Kafka protocol error types (kafkajs names them after the protocol's error codes). */
const PERMANENT = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);
const SEQUENCE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'DUPLICATE_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/** Every error in the chain: kafkajs wraps the broker's error in `originalError`, `cause` or `errors`. */
function* chain(err: unknown, depth = 0): Generator<{ type?: unknown; name?: unknown; message?: unknown }> {
  if (!err || typeof err !== 'object' || depth > 8) return;
  const e = err as { originalError?: unknown; cause?: unknown; errors?: unknown };
  yield e as { type?: unknown };
  yield* chain(e.originalError, depth + 1);
  yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

/** The protocol error type somewhere in `err`'s chain (e.g. MESSAGE_TOO_LARGE), if any. */
export function sendErrorType(err: unknown): string | undefined {
  for (const e of chain(err)) if (typeof e.type === 'string') return e.type;
  return undefined;
}

export function classifySendError(err: unknown): SendFailure {
  let sequence = false;
  for (const e of chain(err)) {
    const type = typeof e.type === 'string' ? e.type : '';
    if (PERMANENT.has(type)) return 'permanent';
    if (SEQUENCE.has(type)) sequence = true;
    // kafkajs' own checks before sending (e.g. an invalid header value) fail the same way every time.
    if (e.name === 'KafkaJSNonRetriableError' && /Invalid|must be|not supported/i.test(String(e.message)))
      return 'permanent';
  }
  return sequence ? 'sequence' : 'transient';
}
