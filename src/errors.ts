/**
 * The error catalogue: one code per thing that can go wrong, shared by HTTP (problem+json), the Kafka
 * dead-letter envelope and the CLI. docs/errors.md lists every code; a test keeps the two in step.
 */
export const ERROR_CODES = {
  ERR_CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  ERR_VALIDATION: { status: 400, title: 'The request is not valid' },
  ERR_EVENT_EMPTY: { status: 400, title: 'The Kafka record has no value' },
  ERR_EVENT_TOO_LARGE: { status: 413, title: 'The call event is too large' },
  ERR_EVENT_NOT_JSON: { status: 400, title: 'The call event is not JSON' },
  ERR_BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  ERR_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  ERR_EIDO_INVALID: { status: 400, title: 'The NENA EIDO cannot be triaged' },
  ERR_EIDO_SCHEMA: { status: 400, title: 'An EIDO field is missing or has the wrong type or form' },
  ERR_EIDO_REFERENCE: { status: 400, title: 'An EIDO reference names no component, or the wrong kind' },
  ERR_EIDO_TIMESTAMP: { status: 400, title: 'The EIDO update time cannot order its revisions' },
  ERR_EIDO_NOTES_TOO_LONG: { status: 400, title: 'The EIDO notes are too long to read' },
  ERR_EIDO_AGENCY_UNMAPPED: { status: 400, title: 'No routing policy lists the EIDO agency' },
  ERR_CLOUDEVENT_INVALID: { status: 400, title: 'The record carries CloudEvents headers that do not fit' },
  ERR_AUTH_MISSING: { status: 401, title: 'An API key is required' },
  ERR_AUTH_INVALID: { status: 401, title: 'The API key is not valid' },
  ERR_FORBIDDEN: { status: 403, title: 'Not allowed for this API key' },
  ERR_RATE_LIMITED: { status: 429, title: 'Too many requests for this API key' },
  ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  ERR_RULES_INVALID: { status: 422, title: 'The rules or routing policies do not load' },
  ERR_STALE_REVISION: { status: 409, title: 'A newer revision of the incident was already decided' },
  ERR_REFERRAL_TRANSITION: { status: 409, title: 'The referral cannot move to that status' },
  ERR_DEPENDENCY_UNAVAILABLE: { status: 503, title: 'A dependency is unavailable' },
  ERR_DEPENDENCY_BUSY: { status: 503, title: 'A dependency asked for the request to be retried' },
  ERR_EVENT_REFUSED: { status: 422, title: 'The database refused a value of the call event' },
  ERR_OUTPUT_REFUSED: { status: 500, title: 'The broker refused the decision record' },
  ERR_MIGRATION_FAILED: { status: 500, title: 'A database migration failed' },
  ERR_MIGRATION_CHANGED: { status: 500, title: 'An applied migration file was changed' },
  ERR_PROCESSING_FAILED: { status: 500, title: 'The event kept failing and was dead-lettered' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that knows its catalogue code; `detail` is safe to show to the client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
    this.extra = options.extra;
  }
}
