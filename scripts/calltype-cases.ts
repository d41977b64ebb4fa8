/**
 * Builds code-only labelled cases (shared/eval/README.md format) from the real call-type lists in
 * shared/reference/calltypes/: each case is a call that carries only an agency and a call type
 * (code + description) — no narrative, no screening — the way many CAD events first arrive.
 *
 *   node scripts/calltype-cases.ts [--source DIR] [--out FILE]   (defaults: ../shared/reference/calltypes,
 *                                                                  test/fixtures/calltypes-code-only.jsonl)
 *   node scripts/calltype-cases.ts --check                          exit 1 when FILE differs from a rebuild
 *
 * The labels come from the SOURCE FILES' OWN categories (the Vera Institute / Two Sigma
 * `vera_category` column, and the published mappings' `label_as_published`), narrowed by the
 * explicit keyword lists below — never from the engine's rules. Each case gets a `group` (an extra
 * field the eval format tolerates) so `cad-triage eval` can report per group:
 *
 *   violent            vera_category "Violent Crime" or "Domestic Violence", the type's words name
 *                      violence (VIOLENT_WORDS), and it is not a report of a past event (PAST_REPORT)
 *                      unless it is a domestic-violence type (the guide: a DV call, verbal or past,
 *                      is police_secure_first)                       -> gate police_secure_first
 *   behavioral_health  vera_category "Behavioral Health" whose words name a mental-health or suicide
 *                      type (Vera files overdoses and sudden deaths there too; those are left out)
 *                                                                   -> categories [behavioral_health]
 *   property, alarm,   vera_category "Property Crime", "Alarms", "Traffic", "Accidents/Traffic
 *   traffic            Safety", published label "traffic"; minus types whose own words name a subject
 *                      the guide gives a category (an elderly victim, drugs, an impaired driver)
 *                                                                   -> categories []
 *
 * San Diego's list has no category column, so it is not labelled here (the crosswalk import uses it).
 * Rows with the same description (case and spacing aside) are kept once, the first file winning.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_SOURCE = join(root, '..', 'shared', 'reference', 'calltypes');
export const DEFAULT_OUT = join(root, 'test', 'fixtures', 'calltypes-code-only.jsonl');

/** Words that make a Violent Crime / Domestic Violence type a violent one for this set. */
export const VIOLENT_WORDS =
  /\b(ASSAULTS?|ASLT|ASSLT|BATTERY|A\/B|F\/A|MURDER|HOMICIDE|ROBBERY|CAR ?JACK(ING)?|SHOOTING|SHOT|STAB(BED|BING)?|CUTTING|WEAPONS?|WEAP|WPNS?|WP|ARMED|FIREARMS?|GUNSHOT|ASSAILANT|IMMINENT DANGER|DEADLY CONDUCT|KIDNAP(PING)?|ABDUCT(ION)?|HOSTAGE|DV|DOM|DOMESTIC|FAMILY|ABUSED?|CRUEL(I)?TY|PENT (WOUND|WND))\b/;

/** A domestic-violence type: police_secure_first even when verbal or past (guide, Clarifications). */
export const DOMESTIC_WORDS = /\b(DV|DOM|DOMESTIC|FAMILY)\b/;

/**
 * A report of a past event, or information only: "ASSAULT REPORT", "106B_Assault Past",
 * "ROBBERY (REPORT)+1HR", "ASSAULT - PRELIMINARY INVESTIGATION", "106O_Assault Information", and
 * Dallas's UCR offense classifications (written after the fact).
 */
export const PAST_REPORT =
  /\b(PAST|PST|REPORT|REPT|RPT|PRELIMINARY INVESTIGATION|INFORMATION|INFO|REFERRAL|REFERRL|BULLETIN)\b|\+\s*\d+\s*HR|^UCR\b/;

/** Mental-health and suicide words in a Vera "Behavioral Health" type. */
export const BEHAVIORAL_WORDS = /\b(MENTAL|SUICID\w*|CRISIS|BEHAV\w*|EMOTIONAL|PSYCH\w*|JUMPER|ABNORM\w*)\b/;

/**
 * Words that name a subject the guide gives a category, left out of the no-category groups: elder
 * exploitation, a child locked in a car, drug delivery, an impaired or intoxicated driver.
 */
export const SOCIAL_SUBJECT_WORDS =
  /\b(ELDER\w*|ELD|SENIOR|CHILD\w*|JUVENILES?|DRUGS?|CONT SUB|NARC\w*|D\.?U\.?I\.?|DWI|INTOX\w*|IMPAIRED)\b/;

/**
 * The categories of a violent type, from the subject its words name (the guide: a child is
 * juvenile, an elderly victim of abuse or exploitation is elderly, an intoxicated offender is
 * substance use); none otherwise.
 */
export function violentCategories(text: string): string[] {
  const out: string[] = [];
  if (/\b(ELDER\w*|ELD|SENIOR)\b/.test(text)) out.push('elderly');
  if (/\b(CHILD\w*|JUVENILES?)\b/.test(text)) out.push('juvenile');
  if (/\bINTOX\w*\b/.test(text)) out.push('substance_use');
  return out;
}

const NO_CATEGORY_GROUPS: Record<string, string> = {
  'Property Crime': 'property',
  Alarms: 'alarm',
  Traffic: 'traffic',
  'Accidents/Traffic Safety': 'traffic',
};

export type Group = 'violent' | 'behavioral_health' | 'property' | 'alarm' | 'traffic';

export interface SourceRow {
  file: string;
  city: string;
  callType: string;
  /** The file's own category for the row. */
  category: string;
  sourceColumn?: string;
}

export interface Label {
  group: Group;
  categories: string[];
  gate?: 'police_secure_first';
}

/** The label of one source row, or undefined when the row is not in any group. */
export function labelOf(row: SourceRow): Label | undefined {
  const text = row.callType.toUpperCase().replace(/_/g, ' ');
  const cat = row.category.trim();
  if (cat === 'Violent Crime' || cat === 'Domestic Violence') {
    if (!VIOLENT_WORDS.test(text)) return undefined;
    const past = PAST_REPORT.test(text) || row.sourceColumn === 'UCR Offense Description';
    if (past && !DOMESTIC_WORDS.test(text)) return undefined;
    return { group: 'violent', categories: violentCategories(text), gate: 'police_secure_first' };
  }
  if (cat === 'Behavioral Health' || cat.startsWith('Behavioral Health (')) {
    if (!BEHAVIORAL_WORDS.test(text)) return undefined;
    return { group: 'behavioral_health', categories: ['behavioral_health'] };
  }
  const group = NO_CATEGORY_GROUPS[cat] ?? (cat === 'traffic' ? 'traffic' : undefined);
  if (group !== undefined) {
    if (SOCIAL_SUBJECT_WORDS.test(text)) return undefined;
    return { group: group as Group, categories: [] };
  }
  return undefined;
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  if (!header) return [];
  return body
    .filter((r) => r.some((f) => f.trim() !== ''))
    .map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? ''])));
}

/** Reads the labelled source files of `dir`, in a fixed order. */
export function readSources(dir: string): SourceRow[] {
  const read = (f: string) => parseCsv(readFileSync(join(dir, f), 'utf8'));
  const out: SourceRow[] = [];
  for (const r of read('vera_twosigma_calltypes_5cities.csv')) {
    out.push({
      file: 'vera_twosigma_calltypes_5cities.csv',
      city: r.city ?? '',
      callType: r.call_type ?? '',
      category: r.vera_category ?? '',
      sourceColumn: r.source_column ?? '',
    });
  }
  for (const r of read('vera_twosigma_type_to_category.csv')) {
    out.push({
      file: 'vera_twosigma_type_to_category.csv',
      city: '',
      callType: r.call_type ?? '',
      category: r.vera_category ?? '',
    });
  }
  for (const r of read('published_call_type_mappings.csv')) {
    if (r.call_type?.startsWith('(')) continue; // criteria and examples, not call types
    out.push({
      file: 'published_call_type_mappings.csv',
      city: r.city ?? '',
      callType: r.call_type ?? '',
      category: r.label_as_published ?? '',
    });
  }
  return out;
}

/**
 * The CAD's code and description of a source call type. A leading local or protocol code is split
 * off ("114D_Domestic Physical" -> 114D, "20R - ROBBERY (REPORT)+1HR" -> 20R); otherwise the code is
 * an opaque one made from the text (real CADs' codes are often meaningless to an outsider), so the
 * rules must read the description.
 */
export function codeAndDescription(callType: string): { code: string; description: string } {
  const description = callType.trim().replace(/\s+/g, ' ');
  const m =
    /^(\d{1,3}[A-Z]?\d?|\d{1,3}\/\d{1,3}[A-Z]?|[A-Z]{2,4}\/\d{1,3}[A-Z]?|\d[A-Z0-9]{1,4})(?:_| - |-| )/.exec(
      description,
    );
  if (m && /\d/.test(m[1]!)) return { code: m[1]!, description };
  const hash = createHash('sha256').update(description.toUpperCase()).digest('hex').slice(0, 6).toUpperCase();
  return { code: `T${hash}`, description };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'unknown';

/** Builds the cases as JSONL text (one case a line, in source order, deterministic). */
export function buildCallTypeCases(dir: string = DEFAULT_SOURCE): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  let n = 0;
  for (const row of readSources(dir)) {
    const label = labelOf(row);
    if (!label) continue;
    const key = row.callType.toUpperCase().replace(/\s+/g, ' ').trim();
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    n++;
    const id = `ct-${String(n).padStart(4, '0')}`;
    const { code, description } = codeAndDescription(row.callType);
    const city = row.city || 'Vera five cities';
    const call = {
      eventId: `${id}-e1`,
      incidentId: `${id}`,
      revision: 1,
      occurredAt: '2026-01-01T00:00:00Z',
      agency: { id: `REF-${slug(city).toUpperCase()}`, jurisdiction: slug(city) },
      callType: { code, description },
    };
    const expect = { categories: label.categories, ...(label.gate ? { gate: label.gate } : {}) };
    const note = `${row.file}: ${city}, ${row.category.trim()}`;
    lines.push(JSON.stringify({ id, group: label.group, call, expect, note }));
  }
  return lines.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { source: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean' } },
  });
  const out = values.out ?? DEFAULT_OUT;
  const text = buildCallTypeCases(values.source ?? DEFAULT_SOURCE);
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      /* missing counts as drift */
    }
    if (current !== text) {
      process.stderr.write(`${out} differs from a rebuild: run node scripts/calltype-cases.ts\n`);
      process.exit(1);
    }
    process.stdout.write(`${out} is up to date\n`);
  } else {
    writeFileSync(out, text);
    const counts = new Map<string, number>();
    for (const l of text.trim().split('\n')) {
      const g = (JSON.parse(l) as { group: string }).group;
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    process.stdout.write(`${out}: ${[...counts].map(([g, c]) => `${g} ${c}`).join(', ')}\n`);
  }
}
