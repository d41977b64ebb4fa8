/**
 * Policy diagnostics: what loading a policies folder reports. Every stage collects them instead of
 * throwing on the first, so a supervisor sees all the problems of a change at once.
 */
export interface PolicyDiagnostic {
  /** One of {@link POLICY_ERROR_CODES}. */
  code: PolicyErrorCode;
  /** Path of the file, relative to the policies folder. */
  file: string;
  /** 1-based line; 0 when the problem is about the folder or a file as a whole. */
  line: number;
  message: string;
  poolId?: string;
  jurisdiction?: string;
}

/** The catalogue of policy diagnostic codes, with what each means. */
export const POLICY_ERROR_CODES = {
  ERR_POLICY_IO: 'A policies folder or file cannot be read',
  ERR_POLICY_YAML: 'A file is not valid YAML',
  ERR_POLICY_SCHEMA: 'A file does not follow the policy format',
  ERR_POLICY_UNKNOWN_MODEL: 'A pool has a model that is not one of the known responder models',
  ERR_POLICY_DUPLICATE_ID: 'Two pools or two jurisdictions share an id',
  ERR_POLICY_DUPLICATE_AGENCY: 'One agency id is listed by two jurisdictions',
  ERR_POLICY_UNKNOWN_POOL: 'A jurisdiction names a pool that is not defined',
  ERR_POLICY_TIME_ZONE: 'A time zone is not a valid IANA time zone',
  ERR_POLICY_SCHEDULE: 'A schedule window cannot be read',
  ERR_POLICY_INTERN_ALONE: 'An intern pool is allowed to attend alone',
  ERR_POLICY_CATEGORY: 'A category name is not an identifier',
  ERR_POLICY_FALLBACK: 'A fallback entry names nothing usable',
  ERR_POLICY_FOLLOW_UP: 'A jurisdiction has no usable follow-up pool',
  ERR_POLICY_MISSING_DEFAULT: "There is no 'default' jurisdiction for calls from towns without a policy",
} as const;

export type PolicyErrorCode = keyof typeof POLICY_ERROR_CODES;

/** `file:line: [code] message` — the one-line form a CLI or log prints. */
export function formatPolicyDiagnostic(d: PolicyDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  const what = d.poolId ? ` (pool ${d.poolId})` : d.jurisdiction ? ` (jurisdiction ${d.jurisdiction})` : '';
  return `${where}: [${d.code}] ${d.message}${what}`;
}
