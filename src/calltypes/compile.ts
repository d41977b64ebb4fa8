/**
 * The crosswalk compiler: crosswalk files -> a prepared crosswalk, collecting every problem as a
 * diagnostic with its file and line (unknown APCO code, duplicate local code, a floor looser than
 * the APCO type allows, unknown jurisdiction or category, bad pattern) instead of stopping at the
 * first. Compiled with the rules (same text settings, same version), so the default vocabulary is
 * matched with the same abbreviation- and negation-aware matcher as the rules' lexicons.
 */
import { GATE_VALUES, type GateValue } from '../domain/classification.ts';
import type { RuleDiagnostic } from '../rules/diagnostics.ts';
import type { TextSettings } from '../rules/format.ts';
import { parseYamlFile, type ParsedFile, type SourceFile } from '../rules/parse.ts';
import { MatcherBuilder, type Matcher, type PatternKind } from '../rules/text.ts';
import { CrosswalkFileSchema, type CrosswalkFile } from './format.ts';

export interface PreparedCommonType {
  code: string;
  name: string;
  floor: GateValue;
  /** Index of the floor in GATE_VALUES: 0 civilian_ok .. 2 police_secure_first. */
  severity: number;
  categories: readonly string[];
  file: string;
  line: number;
}

export interface PreparedCrosswalkRow {
  /** 'crosswalk:<file name without .yaml>:<code or description>': the ruleId of its evidence. */
  ref: string;
  file: string;
  line: number;
  code?: string;
  description?: string;
  type: PreparedCommonType;
  floor: GateValue;
  severity: number;
  categories: readonly string[];
}

export interface JurisdictionCrosswalk {
  /** Normalized code -> row. */
  byCode: ReadonlyMap<string, PreparedCrosswalkRow>;
  /** Normalized description -> row. */
  byDescription: ReadonlyMap<string, PreparedCrosswalkRow>;
}

/** A compiled, immutable crosswalk: part of a prepared rule set. */
export interface PreparedCrosswalk {
  files: string[];
  /** APCO code -> type, from the national file. */
  types: ReadonlyMap<string, PreparedCommonType>;
  jurisdictions: ReadonlyMap<string, JurisdictionCrosswalk>;
  /** The default vocabulary: one lexicon per type with patterns; null when no type has any. */
  vocabulary: Matcher | null;
  /** Lexicon index of the vocabulary -> its type. */
  vocabularyTypes: readonly PreparedCommonType[];
  rows: number;
}

export interface CrosswalkContext {
  text: TextSettings;
  /** Category ids the rules define. */
  categories: ReadonlySet<string>;
  /** Jurisdiction ids of the routing policies; undefined when there are none to check against. */
  jurisdictions?: ReadonlySet<string>;
}

/** A CAD code as compared: trimmed, upper case, single spaces. */
export const normalizeCode = (s: string): string => s.trim().replace(/\s+/g, ' ').toUpperCase();

/** A CAD description as compared: upper case, letters and digits only, single spaces. */
export const normalizeDescription = (s: string): string =>
  s
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

const NEGATION_KINDS: Array<[PatternKind, (t: TextSettings) => string[]]> = [
  ['pre', (t) => t.negation.pre],
  ['post', (t) => t.negation.post],
  ['uncertain', (t) => t.negation.uncertain],
  ['pseudo', (t) => t.negation.pseudo],
  ['terminator', (t) => t.negation.terminators],
  ['conjunction', (t) => t.negation.conjunctions],
];

const stem = (file: string) => file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');

/**
 * Compiles crosswalk sources. Appends every problem to `diags`; the result is meaningful only when
 * none of them is an error.
 */
export function compileCrosswalk(
  sources: SourceFile[],
  ctx: CrosswalkContext,
  diags: RuleDiagnostic[],
): PreparedCrosswalk {
  const parsed: ParsedFile<CrosswalkFile>[] = [];
  for (const src of sources) {
    const r = parseYamlFile(src, CrosswalkFileSchema);
    diags.push(...r.diagnostics);
    if (r.parsed) parsed.push(r.parsed);
  }

  // The APCO types, from whichever file defines them (the national file).
  const types = new Map<string, PreparedCommonType>();
  const b = new MatcherBuilder({ abbreviations: ctx.text.abbreviations, window: ctx.text.negation.window });
  const vocabularyTypes: PreparedCommonType[] = [];
  for (const f of parsed) {
    f.value.commonTypes?.forEach((t, i) => {
      const line = f.lineAt(['commonTypes', i, 'code']);
      const prev = types.get(t.code);
      if (prev) {
        diags.push({
          code: 'ERR_CALLTYPE_DUPLICATE',
          file: f.file,
          line,
          ruleId: t.code,
          message: `APCO type ${t.code} is already defined at ${prev.file}:${prev.line}`,
        });
        return;
      }
      t.categories.forEach((c, k) => {
        if (!ctx.categories.has(c)) {
          diags.push({
            code: 'ERR_RULES_UNKNOWN_CATEGORY',
            file: f.file,
            line: f.lineAt(['commonTypes', i, 'categories', k]),
            ruleId: t.code,
            message: `unknown category "${c}" (defined: ${[...ctx.categories].join(', ') || 'none'})`,
          });
        }
      });
      const type: PreparedCommonType = {
        code: t.code,
        name: t.name,
        floor: t.floor,
        severity: GATE_VALUES.indexOf(t.floor),
        categories: t.categories,
        file: f.file,
        line,
      };
      types.set(t.code, type);
      if (t.patterns.length === 0) return;
      const lex = vocabularyTypes.length;
      vocabularyTypes.push(type);
      const kinds = [
        ['content', t.patterns, 'patterns'],
        ['exception', t.except, 'except'],
      ] as const;
      for (const [kind, terms, key] of kinds) {
        terms.forEach((term, k) => {
          try {
            b.add(term, { kind, lex });
          } catch (e) {
            diags.push({
              code: 'ERR_RULES_TERM_SYNTAX',
              file: f.file,
              line: f.lineAt(['commonTypes', i, key, k]),
              ruleId: t.code,
              message: `${key}: ${(e as Error).message}`,
            });
          }
        });
      }
    });
  }
  for (const [kind, get] of NEGATION_KINDS) {
    // Bad trigger syntax is reported by the rules compiler, which reads the same settings.
    for (const term of get(ctx.text)) {
      try {
        b.add(term, { kind, lex: -1 });
      } catch {
        /* reported by the rules compiler */
      }
    }
  }

  // The jurisdictions' rows.
  const jurisdictions = new Map<
    string,
    { byCode: Map<string, PreparedCrosswalkRow>; byDescription: Map<string, PreparedCrosswalkRow> }
  >();
  let rows = 0;
  for (const f of parsed) {
    const v = f.value;
    if (v.callTypes && !v.jurisdictions) {
      diags.push({
        code: 'ERR_CALLTYPE_UNKNOWN_JURISDICTION',
        file: f.file,
        line: f.lineAt(['callTypes']),
        message: 'a file with callTypes must name the jurisdictions it maps (jurisdictions: [...])',
      });
      continue;
    }
    const targets: Array<{
      byCode: Map<string, PreparedCrosswalkRow>;
      byDescription: Map<string, PreparedCrosswalkRow>;
    }> = [];
    v.jurisdictions?.forEach((j, i) => {
      if (ctx.jurisdictions && !ctx.jurisdictions.has(j)) {
        diags.push({
          code: 'ERR_CALLTYPE_UNKNOWN_JURISDICTION',
          file: f.file,
          line: f.lineAt(['jurisdictions', i]),
          message: `unknown jurisdiction "${j}": no routing policy in policies/ defines it`,
        });
      }
      let t = jurisdictions.get(j);
      if (!t) jurisdictions.set(j, (t = { byCode: new Map(), byDescription: new Map() }));
      if (!targets.includes(t)) targets.push(t);
    });
    v.callTypes?.forEach((r, i) => {
      const line = f.lineAt(['callTypes', i]);
      const type = types.get(r.apco);
      if (!type) {
        diags.push({
          code: 'ERR_CALLTYPE_UNKNOWN_APCO',
          file: f.file,
          line: f.lineAt(['callTypes', i, 'apco']),
          message: `unknown APCO code "${r.apco}"${types.size === 0 ? ' (no file defines commonTypes)' : ''}`,
        });
        return;
      }
      const floor = r.floor ?? type.floor;
      const severity = GATE_VALUES.indexOf(floor);
      if (severity < type.severity) {
        diags.push({
          code: 'ERR_CALLTYPE_FLOOR_LOOSER',
          file: f.file,
          line: f.lineAt(['callTypes', i, 'floor']),
          message: `floor ${floor} is looser than APCO ${type.code} allows (${type.floor}); a crosswalk may only tighten it`,
        });
        return;
      }
      const categories = r.categories ?? type.categories;
      (r.categories ?? []).forEach((c, k) => {
        if (!ctx.categories.has(c)) {
          diags.push({
            code: 'ERR_RULES_UNKNOWN_CATEGORY',
            file: f.file,
            line: f.lineAt(['callTypes', i, 'categories', k]),
            message: `unknown category "${c}" (defined: ${[...ctx.categories].join(', ') || 'none'})`,
          });
        }
      });
      const row: PreparedCrosswalkRow = {
        ref: `crosswalk:${stem(f.file)}:${r.code ?? r.description!}`,
        file: f.file,
        line,
        ...(r.code !== undefined ? { code: r.code } : {}),
        ...(r.description !== undefined ? { description: r.description } : {}),
        type,
        floor,
        severity,
        categories,
      };
      rows++;
      let reported = false;
      for (const t of targets) {
        if (r.code !== undefined) {
          const key = normalizeCode(r.code);
          const prev = t.byCode.get(key);
          if (prev) {
            if (!reported) {
              diags.push({
                code: 'ERR_CALLTYPE_DUPLICATE',
                file: f.file,
                line: f.lineAt(['callTypes', i, 'code']),
                message: `duplicate local code "${r.code}": already mapped at ${prev.file}:${prev.line}`,
              });
            }
            reported = true;
            continue;
          }
          t.byCode.set(key, row);
        }
        if (r.description !== undefined) {
          const key = normalizeDescription(r.description);
          const prev = t.byDescription.get(key);
          if (!prev) t.byDescription.set(key, row);
          else if (r.code === undefined && !reported) {
            reported = true;
            diags.push({
              code: 'ERR_CALLTYPE_DUPLICATE',
              file: f.file,
              line: f.lineAt(['callTypes', i, 'description']),
              message: `duplicate description "${r.description}": already mapped at ${prev.file}:${prev.line}`,
            });
          }
        }
      }
    });
  }

  return {
    files: sources.map((s) => s.file),
    types,
    jurisdictions,
    vocabulary: vocabularyTypes.length > 0 ? b.build() : null,
    vocabularyTypes,
    rows,
  };
}
