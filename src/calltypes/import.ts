/**
 * Onboarding a town: a CAD's exported call-type list (CSV) -> a draft crosswalk. Each row is placed
 * by the same resolver the service runs (its code is an APCO code, or the default vocabulary matches
 * its description or code) and keeps the reason in its `note`; a row nothing places goes to the
 * `review:` section for a person to decide. Nothing is defaulted silently.
 */
import { stringify } from 'yaml';
import { GATE_VALUES } from '../domain/classification.ts';
import type { CallEvent } from '../domain/call-event.ts';
import { normalizeCode, type PreparedCrosswalk } from './compile.ts';
import type { CrosswalkFile } from './format.ts';
import { resolveCallType } from './resolve.ts';

/** Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF). First row = header. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (record.some((f) => f !== '')) records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  record.push(field);
  if (record.some((f) => f !== '')) records.push(record);
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim().replace(/^\uFEFF/, '')), rows };
}

const CODE_COLUMNS = [
  'call_type_code',
  'calltype_code',
  'type_code',
  'nature_code',
  'code',
  'call_type',
  'calltype',
  'nature',
  'type',
  'problem',
];
const DESCRIPTION_COLUMNS = [
  'description',
  'call_type_description',
  'type_description',
  'nature_description',
  'desc',
  'text',
];

/** Picks the code and description columns: the flags when given, else the first known name found. */
export function detectColumns(
  header: string[],
  given: { code?: string | undefined; description?: string | undefined },
): { code: number; description: number } | { error: string } {
  const lower = header.map((h) => h.toLowerCase());
  const find = (name: string) => lower.indexOf(name.toLowerCase());
  const pick = (flag: string | undefined, candidates: string[], what: string): number | { error: string } => {
    if (flag !== undefined) {
      const i = find(flag);
      return i >= 0 ? i : { error: `no column "${flag}" for the ${what} (columns: ${header.join(', ')})` };
    }
    for (const c of candidates) if (find(c) >= 0) return find(c);
    return -1;
  };
  const code = pick(given.code, CODE_COLUMNS, 'code');
  if (typeof code !== 'number') return code;
  let description = pick(given.description, DESCRIPTION_COLUMNS, 'description');
  if (typeof description !== 'number') return description;
  if (code < 0 && description < 0) {
    return {
      error: `cannot tell the code or description column (columns: ${header.join(', ')}); use --code-column / --description-column`,
    };
  }
  if (description === code) description = -1;
  return { code, description };
}

export interface ImportOptions {
  jurisdiction: string;
  codeColumn?: string | undefined;
  descriptionColumn?: string | undefined;
  /** `column=value` filters, all of which a row must pass (values compared without case). */
  filters?: string[];
  /** Named in the draft's header. */
  source?: string;
}

export interface ImportSummary {
  rows: number;
  mapped: number;
  byCode: number;
  byVocabulary: number;
  review: number;
  duplicates: number;
  /** Mapped rows whose floor is police_secure_first. */
  violentFloors: number;
  /** APCO code -> mapped rows. */
  types: Record<string, number>;
}

export type ImportResult =
  { ok: true; draft: CrosswalkFile; yaml: string; summary: ImportSummary } | { ok: false; error: string };

/** Drafts a crosswalk for `opts.jurisdiction` from CSV text, with the national types of `crosswalk`. */
export function draftCrosswalk(csv: string, crosswalk: PreparedCrosswalk, opts: ImportOptions): ImportResult {
  const { header, rows } = parseCsv(csv);
  const cols = detectColumns(header, { code: opts.codeColumn, description: opts.descriptionColumn });
  if ('error' in cols) return { ok: false, error: cols.error };
  const filters: Array<{ col: number; value: string }> = [];
  for (const f of opts.filters ?? []) {
    const eq = f.indexOf('=');
    const col =
      eq > 0 ? header.findIndex((h) => h.toLowerCase() === f.slice(0, eq).trim().toLowerCase()) : -1;
    if (col < 0)
      return {
        ok: false,
        error: `bad --filter "${f}": expected column=value with a column of ${header.join(', ')}`,
      };
    filters.push({
      col,
      value: f
        .slice(eq + 1)
        .trim()
        .toLowerCase(),
    });
  }

  const summary: ImportSummary = {
    rows: 0,
    mapped: 0,
    byCode: 0,
    byVocabulary: 0,
    review: 0,
    duplicates: 0,
    violentFloors: 0,
    types: {},
  };
  const callTypes: NonNullable<CrosswalkFile['callTypes']> = [];
  const review: NonNullable<CrosswalkFile['review']> = [];
  const seen = new Map<string, string>();
  const violent = GATE_VALUES.indexOf('police_secure_first');
  for (const r of rows) {
    if (!filters.every((f) => (r[f.col] ?? '').trim().toLowerCase() === f.value)) continue;
    const code = cols.code >= 0 ? (r[cols.code] ?? '').trim() : '';
    const description = cols.description >= 0 ? (r[cols.description] ?? '').trim() : '';
    if (!code && !description) continue;
    summary.rows++;
    const key = code ? `c:${normalizeCode(code)}` : `d:${normalizeCode(description)}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      // The same code twice: one mapping serves both; a second description is worth a look.
      summary.duplicates++;
      if (prev !== description) {
        review.push({
          ...(code ? { code } : {}),
          ...(description ? { description } : {}),
          note: `the code is listed again with another description ("${prev}"): one code maps to one APCO type`,
        });
        summary.review++;
      }
      continue;
    }
    seen.set(key, description);
    const call = {
      agency: { id: 'import', jurisdiction: '' },
      callType: { code: code || description, ...(description ? { description } : {}) },
    } as CallEvent;
    const res = resolveCallType(crosswalk, call);
    const ct = res.commonType;
    const base = { ...(code ? { code } : {}), ...(description ? { description } : {}) };
    if (ct.code === null) {
      review.push({ ...base, note: 'no APCO type matched the code or the description: choose one' });
      summary.review++;
      continue;
    }
    const note =
      ct.foundBy === 'code'
        ? `the code is the APCO code ${ct.code} (${ct.name})`
        : `default vocabulary: "${ct.matched}" in the ${res.field === 'callType.description' ? 'description' : 'code'} is APCO ${ct.code} (${ct.name}), floor ${ct.floor}`;
    callTypes.push({ ...base, apco: ct.code, note });
    summary.mapped++;
    if (ct.foundBy === 'code') summary.byCode++;
    else summary.byVocabulary++;
    if (res.severity >= violent) summary.violentFloors++;
    summary.types[ct.code] = (summary.types[ct.code] ?? 0) + 1;
  }

  const draft: CrosswalkFile = {
    description: `Draft crosswalk for ${opts.jurisdiction}${opts.source ? ` from ${opts.source}` : ''}: check every row, then move the review rows up`,
    jurisdictions: [opts.jurisdiction],
    callTypes,
    ...(review.length > 0 ? { review } : {}),
  };
  const head = [
    '# yaml-language-server: $schema=../schema/calltypes.schema.json',
    '#',
    `# Drafted by \`cad-triage calltypes import\`${opts.source ? ` from ${opts.source}` : ''} for jurisdiction ${opts.jurisdiction}.`,
    `# ${summary.mapped} call types mapped (${summary.byCode} by their code, ${summary.byVocabulary} by the default vocabulary),`,
    `# ${summary.review} to review, ${summary.violentFloors} with a police_secure_first floor. Each mapped row says why in its note.`,
    '# A person decides every review row: give it `apco:` (and a tighter `floor:` if needed) and move it to callTypes.',
    '# Rows in review are not used; until then such a call type is placed by the default vocabulary, or not at all.',
    '',
  ].join('\n');
  const yaml = head + stringify(draft, { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' });
  return { ok: true, draft, yaml, summary };
}
