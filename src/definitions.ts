/** Constants that are written once: topic names, header names, default paths. */
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULTS = Object.freeze({
  topics: Object.freeze({
    calls: 'cad.calls.v1',
    decisions: 'triage.decisions.v1',
    dlq: 'cad.calls.v1.dlq',
  }),
  pgliteDataDir: '.data/pglite',
  rulesDir: fileURLToPath(new URL('../rules', import.meta.url)),
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
});

export const PROJECT_ROOT = root;

/** Kafka record headers the service reads or writes. */
export const HEADERS = Object.freeze({
  contentType: 'content-type',
  decisionId: 'x-decision-id',
  eventId: 'x-event-id',
  dlqErrorCode: 'x-dlq-error-code',
  dlqErrorMessage: 'x-dlq-error-message',
  dlqSourceTopic: 'x-dlq-source-topic',
  dlqSourcePartition: 'x-dlq-source-partition',
  dlqSourceOffset: 'x-dlq-source-offset',
  dlqAttempts: 'x-dlq-attempts',
  // CloudEvents 1.0, Kafka protocol binding, binary content mode (the data is the record value).
  ceSpecversion: 'ce_specversion',
  ceId: 'ce_id',
  ceType: 'ce_type',
  ceSource: 'ce_source',
  ceTime: 'ce_time',
  ceSubject: 'ce_subject',
  /** Set when the original did not fit the dead-letter topic: its id in the dead_letters table. */
  dlqArchived: 'x-dlq-archived-id',
  /** With x-dlq-archived-id: the original value's size; the record carries only its beginning. */
  dlqOriginalBytes: 'x-dlq-original-bytes',
});

/** The CloudEvents attributes of the records the service produces. */
export const CLOUDEVENTS = Object.freeze({
  specversion: '1.0',
  /** `ce_type` of a decision record. */
  decisionType: 'org.cad-triage.decision.v1',
  /** `ce_source` of a decision: the service, in the jurisdiction whose policy routed it. */
  source: (jurisdiction: string) => `urn:cad-triage:jurisdiction:${jurisdiction}`,
});

/** The largest call event accepted, on Kafka and REST alike. */
export const MAX_EVENT_BYTES = 256 * 1024;

/** Values pino replaces: narratives, phone numbers, addresses, credentials, at any usual depth. */
export const REDACTED_PATHS = Object.freeze(
  [
    'narrative',
    'phone',
    'address',
    'caller.phone',
    'location.address',
    'location.lat',
    'location.lon',
    'req.headers.authorization',
    'req.headers["x-api-key"]',
    'req.headers.cookie',
    'headers.authorization',
    'headers["x-api-key"]',
    'password',
    'apiKey',
    // NENA EIDO fields that hold the same kind of data.
    'notesActionComments',
    'locationByValue',
    'callBackInformationUri',
  ].flatMap((p) => [p, `*.${p}`, `*.*.${p}`]),
);
