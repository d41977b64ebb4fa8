/**
 * Rule diagnostics: what the compiler reports about a rules folder. Every stage collects them
 * instead of throwing on the first, so an admin sees all the problems of a change at once.
 */
export interface RuleDiagnostic {
  /** One of {@link RULE_ERROR_CODES}. */
  code: RuleErrorCode;
  /** Path of the file, relative to the rules folder. */
  file: string;
  /** 1-based line; 0 when the problem is about the folder or a file as a whole. */
  line: number;
  ruleId?: string;
  message: string;
  /** Warnings are printed but do not make a rule set invalid. */
  severity?: 'error' | 'warning';
}

/** The catalogue of diagnostic codes, with what each means (printed by `rules validate --codes`). */
export const RULE_ERROR_CODES = {
  ERR_RULES_IO: 'A rules folder or file cannot be read',
  ERR_RULES_YAML: 'A file is not valid YAML',
  ERR_RULES_SCHEMA: 'A file does not follow the rules file format (see rules/schema/)',
  ERR_RULES_DUPLICATE_ID: 'Two categories, lexicons or rules share an id',
  ERR_RULES_UNKNOWN_CATEGORY: 'A rule names a category that is not defined',
  ERR_RULES_UNKNOWN_LEXICON: 'A condition names a lexicon that is not defined',
  ERR_RULES_LEXICON_ARGUMENT: "A text function's lexicon argument is not a quoted lexicon id",
  ERR_RULES_TERM_SYNTAX: 'A lexicon term cannot be read (unbalanced parentheses, empty term, ...)',
  ERR_RULES_CEL_SYNTAX: 'A condition is not valid CEL',
  ERR_RULES_CEL_TYPE: 'A condition does not type-check (unknown field, wrong argument types, ...)',
  ERR_RULES_NOT_BOOL: 'A condition does not evaluate to a bool',
  ERR_RULES_UNREACHABLE: 'A category or rule can never fire',
  ERR_RULES_CONFLICT: 'Two rules have the same condition but disagree',
  ERR_RULES_DUPLICATE_CONDITION: 'Two rules of one category have the same condition (counted twice)',
  ERR_RULES_UNUSED_LEXICON: 'A lexicon is defined but no condition uses it',
  ERR_RULES_MISSING: 'The rule set lacks a required part (categories, gate rules, ...)',
  ERR_RULES_TEST_INVALID: 'A rule test case is not valid (bad call event, unknown rule id, ...)',
  ERR_RULES_TEST_FAILED: 'A rule test case does not get what it expects',
  ERR_CALLTYPE_UNKNOWN_APCO: 'A crosswalk row names an APCO code that no commonTypes entry defines',
  ERR_CALLTYPE_DUPLICATE: 'A local code (or an APCO type) is mapped twice for one jurisdiction',
  ERR_CALLTYPE_FLOOR_LOOSER: "A crosswalk row's gate floor is less cautious than its APCO type allows",
  ERR_CALLTYPE_UNKNOWN_JURISDICTION: 'A crosswalk names a jurisdiction that no routing policy defines',
} as const;

export type RuleErrorCode = keyof typeof RULE_ERROR_CODES;

export function isError(d: RuleDiagnostic): boolean {
  return d.severity !== 'warning';
}

/** `file:line: [code] message` — the one-line form the CLI prints. */
export function formatDiagnostic(d: RuleDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  const rule = d.ruleId ? ` (rule ${d.ruleId})` : '';
  const sev = d.severity === 'warning' ? 'warning ' : '';
  return `${where}: ${sev}[${d.code}] ${d.message}${rule}`;
}
