/**
 * The rules compiler: source files -> a prepared rule set, in named pure stages, each collecting
 * diagnostics instead of throwing on the first problem (after Open Policy Agent's compiler):
 *
 *   parse -> merge -> resolve (lexicon references, categories) -> type-check CEL
 *   -> analyze (conflicts, unreachable, unused) -> build matcher -> prepare.
 *
 * Conditions are parsed and type-checked once here; evaluation then only runs them.
 */
import { createHash } from 'node:crypto';
import { compileCrosswalk, type PreparedCrosswalk } from '../calltypes/compile.ts';
import { serialize, type ASTNode, type Environment, type ParseResult } from '@marcbachmann/cel-js';
import { CallEventSchema, type CallEvent, type ScreeningKey } from '../domain/call-event.ts';
import { GATE_VALUES, type GateValue } from '../domain/classification.ts';
import { createCelEnvironment, LEXICON_FUNCTIONS } from './cel-env.ts';
import { isError, type RuleDiagnostic, type RuleErrorCode } from './diagnostics.ts';
import type { EvaluationContext, FactSources, Facts } from './facts.ts';
import { compileFast } from './fast.ts';
import { ENGINE_RULE_IDS } from './evaluate.ts';
import {
  RulesFileSchema,
  RuleTestFileSchema,
  TextSettingsSchema,
  type Category,
  type Lexicon,
  type RulesFile,
  type RuleTestCase,
  type RuleTestFile,
  type TextSettings,
} from './format.ts';
import { parseYamlFile, type ParsedFile, type SourceFile } from './parse.ts';
import { MatcherBuilder, type PatternKind } from './text.ts';

// ---------------------------------------------------------------------------------------------
// Prepared rule set

/** A compiled condition: run it, or skip it when none of its prefilter lexicons was hit. */
export interface PreparedCondition {
  source: string;
  run: ParseResult;
  /** The same condition compiled to a closure (see fast.ts), or null when CEL must run it. */
  fast: ((facts: Facts) => boolean) | null;
  /** The rule can only be true if one of these lexicons has an affirmed mention; null = always run. */
  prefilter: Int32Array | null;
  /** Sub-conditions over structured fields, re-run when the rule fires to say which field mattered. */
  atoms: Array<{ run: ParseResult; fast: ((facts: Facts) => boolean) | null; paths: string[]; literal?: string }>;
}

interface PreparedBase {
  id: string;
  reason: string;
  file: string;
  line: number;
  when: PreparedCondition;
}

export interface PreparedCategoryRule extends PreparedBase {
  category: number;
  weight: number;
}
export interface PreparedGateRule extends PreparedBase {
  level: GateValue;
  severity: number;
}
export type PreparedEmsRule = PreparedBase;

export interface PreparedCategory {
  id: string;
  title?: string;
  description?: string;
  threshold: number;
  unless?: PreparedCondition;
  unlessReason?: string;
}

export interface PreparedQuestion {
  key: ScreeningKey;
  question: string;
  settles: string;
  when?: PreparedCondition;
}

export interface PreparedTest {
  file: string;
  line: number;
  name: string;
  call: CallEvent;
  context?: EvaluationContext;
  expect: RuleTestCase['expect'];
}

/** A compiled, immutable rule set: build once with {@link compileRuleset}, evaluate many times. */
export interface PreparedRuleset {
  /** "sha256:" + the first 16 hex digits of the hash of the rules files (not the tests). */
  version: string;
  dir: string;
  files: string[];
  testFiles: string[];
  categories: PreparedCategory[];
  categoryRules: PreparedCategoryRule[];
  gateRules: PreparedGateRule[];
  emsRules: PreparedEmsRule[];
  questions: PreparedQuestion[];
  requireForCivilian: ScreeningKey[];
  lexicons: Array<{ id: string; description?: string; terms: number; codes: number }>;
  facts: FactSources;
  tests: PreparedTest[];
  /** Warnings of the compiler (the rule set is valid despite them). */
  warnings: RuleDiagnostic[];
  /** Every rule id: category, gate and EMS rules. */
  ruleIds: ReadonlySet<string>;
  /** The call-type crosswalk (`calltypes/`): APCO types, jurisdictions' rows, default vocabulary. */
  callTypes: PreparedCrosswalk;
}

/** What a rules folder holds besides its rules and tests. */
export interface CompileOptions {
  /** The crosswalk files (`calltypes/*.yaml`), named relative to the rules folder. */
  calltypes?: SourceFile[];
  /** Jurisdiction ids of the routing policies, to check crosswalks against; not checked when absent. */
  jurisdictions?: readonly string[];
}

export type CompileResult = { ok: true; ruleset: PreparedRuleset } | { ok: false; errors: RuleDiagnostic[] };

/** The screening keys that must be "no" for civilian_ok when the rules do not say. */
export const DEFAULT_REQUIRE_FOR_CIVILIAN: ScreeningKey[] = ['weapons', 'violence', 'threatsToOthers', 'crimeInProgress'];

// ---------------------------------------------------------------------------------------------
// Stage 1: parse

interface Parsed {
  rules: ParsedFile<RulesFile>[];
  tests: ParsedFile<RuleTestFile>[];
}

export function parseStage(rules: SourceFile[], tests: SourceFile[], diags: RuleDiagnostic[]): Parsed {
  const out: Parsed = { rules: [], tests: [] };
  for (const src of rules) {
    const r = parseYamlFile(src, RulesFileSchema);
    diags.push(...r.diagnostics);
    if (r.parsed) out.rules.push(r.parsed);
  }
  for (const src of tests) {
    const r = parseYamlFile(src, RuleTestFileSchema);
    diags.push(...r.diagnostics);
    if (r.parsed) out.tests.push(r.parsed);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stage 2: merge

interface Loc {
  file: string;
  line: number;
}
interface CondSrc extends Loc {
  /** CEL text, with `match:` already expanded. */
  source: string;
  /** Line where the condition's text starts, and whether line breaks in it are real. */
  whenLine: number;
  block: boolean;
}
interface Entry<T> extends Loc {
  value: T;
  cond?: CondSrc;
}

interface Merged {
  text: TextSettings;
  textLoc?: Loc;
  categories: Entry<Category>[];
  lexicons: Entry<Lexicon>[];
  categoryRules: Entry<{ id: string; category: string; weight: number; reason: string }>[];
  gateRules: Entry<{ id: string; level: GateValue; reason: string }>[];
  emsRules: Entry<{ id: string; reason: string }>[];
  questions: Entry<{ key: ScreeningKey; question: string; settles: string }>[];
  requireForCivilian: ScreeningKey[];
  unless: Map<string, CondSrc>;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `match: {narrative: [a, b], callType: c}` -> `mentions(narrative, 'a') || ...`, AND-ed with `when`. */
export function conditionSource(r: { when?: string | undefined; match?: { narrative?: string | string[]; callType?: string | string[] } | undefined }): string {
  const parts: string[] = [];
  for (const field of ['narrative', 'callType'] as const) {
    const v = r.match?.[field];
    for (const lex of v === undefined ? [] : Array.isArray(v) ? v : [v]) parts.push(`mentions(${field}, ${quote(lex)})`);
  }
  const match = parts.join(' || ');
  if (r.when === undefined) return match;
  if (match === '') return r.when;
  return `(${match}) && (${r.when})`;
}

export function mergeStage(p: Parsed, diags: RuleDiagnostic[]): Merged {
  const m: Merged = {
    text: TextSettingsSchema.parse({}),
    categories: [],
    lexicons: [],
    categoryRules: [],
    gateRules: [],
    emsRules: [],
    questions: [],
    requireForCivilian: DEFAULT_REQUIRE_FOR_CIVILIAN,
    unless: new Map(),
  };
  let requireLoc: Loc | undefined;
  const ids = new Map<string, Loc>();
  const claim = (kind: string, id: string, loc: Loc) => {
    const key = `${kind}:${id}`;
    const prev = ids.get(key);
    if (prev) {
      diags.push({
        code: 'ERR_RULES_DUPLICATE_ID',
        ...loc,
        ruleId: id,
        message: `${kind} "${id}" is already defined at ${prev.file}:${prev.line}`,
      });
      return false;
    }
    ids.set(key, loc);
    return true;
  };
  const cond = (f: ParsedFile<RulesFile>, path: PropertyKey[], r: { when?: string; match?: object }): CondSrc => {
    const hasWhen = r.when !== undefined;
    const whenPath = [...path, hasWhen ? 'when' : 'match'];
    return {
      file: f.file,
      line: f.lineAt(path),
      source: conditionSource(r as Parameters<typeof conditionSource>[0]),
      whenLine: f.lineAt(whenPath),
      block: hasWhen && f.isBlockScalar(whenPath),
    };
  };
  for (const f of p.rules) {
    const v = f.value;
    if (v.text) {
      if (m.textLoc) {
        diags.push({
          code: 'ERR_RULES_DUPLICATE_ID',
          file: f.file,
          line: f.lineAt(['text']),
          message: `text settings are already defined in ${m.textLoc.file}:${m.textLoc.line}`,
        });
      } else {
        m.text = v.text;
        m.textLoc = { file: f.file, line: f.lineAt(['text']) };
      }
    }
    v.categories?.forEach((c, i) => {
      const loc = { file: f.file, line: f.lineAt(['categories', i, 'id']) };
      if (!claim('category', c.id, loc)) return;
      m.categories.push({ value: c, ...loc });
      if (c.unless !== undefined) {
        m.unless.set(c.id, {
          file: f.file,
          line: loc.line,
          source: c.unless,
          whenLine: f.lineAt(['categories', i, 'unless']),
          block: f.isBlockScalar(['categories', i, 'unless']),
        });
      }
    });
    v.lexicons?.forEach((l, i) => {
      const loc = { file: f.file, line: f.lineAt(['lexicons', i, 'id']) };
      if (claim('lexicon', l.id, loc)) m.lexicons.push({ value: l, ...loc });
    });
    v.rules?.forEach((r, i) => {
      const loc = { file: f.file, line: f.lineAt(['rules', i, 'id']) };
      if (claim('rule', r.id, loc)) m.categoryRules.push({ value: r, ...loc, cond: cond(f, ['rules', i], r) });
    });
    if (v.gate?.requireForCivilian) {
      const loc = { file: f.file, line: f.lineAt(['gate', 'requireForCivilian']) };
      if (requireLoc) {
        diags.push({
          code: 'ERR_RULES_DUPLICATE_ID',
          ...loc,
          message: `gate.requireForCivilian is already set at ${requireLoc.file}:${requireLoc.line}`,
        });
      } else {
        requireLoc = loc;
        m.requireForCivilian = v.gate.requireForCivilian;
      }
    }
    v.gate?.rules.forEach((r, i) => {
      const loc = { file: f.file, line: f.lineAt(['gate', 'rules', i, 'id']) };
      if (claim('rule', r.id, loc)) m.gateRules.push({ value: r, ...loc, cond: cond(f, ['gate', 'rules', i], r) });
    });
    v.ems?.forEach((r, i) => {
      const loc = { file: f.file, line: f.lineAt(['ems', i, 'id']) };
      if (claim('rule', r.id, loc)) m.emsRules.push({ value: r, ...loc, cond: cond(f, ['ems', i], r) });
    });
    v.questions?.forEach((q, i) => {
      const loc = { file: f.file, line: f.lineAt(['questions', i, 'key']) };
      if (!claim('question', q.key, loc)) return;
      const c: CondSrc | undefined =
        q.when === undefined
          ? undefined
          : {
              ...loc,
              source: q.when,
              whenLine: f.lineAt(['questions', i, 'when']),
              block: f.isBlockScalar(['questions', i, 'when']),
            };
      m.questions.push({ value: q, ...loc, ...(c ? { cond: c } : {}) });
    });
  }
  const first = p.rules[0]?.file ?? '.';
  if (p.rules.length > 0 && m.categories.length === 0) {
    diags.push({ code: 'ERR_RULES_MISSING', file: first, line: 0, message: 'no categories are defined' });
  }
  if (p.rules.length > 0 && m.gateRules.length === 0) {
    diags.push({ code: 'ERR_RULES_MISSING', file: first, line: 0, message: 'no gate rules are defined' });
  }
  if (p.rules.length > 0 && !m.textLoc) {
    diags.push({
      code: 'ERR_RULES_MISSING',
      file: first,
      line: 0,
      severity: 'warning',
      message: 'no text settings: negation and reporter attribution are off',
    });
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Stages 3-5: resolve references, type-check, analyze

interface CheckedCondition {
  src: CondSrc;
  ast: ASTNode;
  run: ParseResult;
  ruleId?: string;
}

function lineOf(c: CondSrc, offset: number | undefined): number {
  if (!c.block || offset === undefined) return c.whenLine;
  // Block scalar content starts on the line after the `when: |` indicator.
  return c.whenLine + 1 + (c.source.slice(0, offset).match(/\n/g)?.length ?? 0);
}

function walk(node: ASTNode, visit: (n: ASTNode) => void): void {
  visit(node);
  const a = node.args as unknown;
  const visitAny = (x: unknown) => {
    if (x && typeof x === 'object' && 'op' in x && 'args' in x) walk(x as ASTNode, visit);
    else if (Array.isArray(x)) x.forEach(visitAny);
  };
  if (node.op !== 'value' && node.op !== 'id') visitAny(a);
}

/** The lexicon named by a text function call node, or undefined when it is not one. */
function lexiconArg(node: ASTNode): { fn: string; target: ASTNode; arg: ASTNode | undefined } | undefined {
  if (node.op !== 'call') return undefined;
  const [fn, args] = node.args as [string, ASTNode[]];
  if (!LEXICON_FUNCTIONS.has(fn)) return undefined;
  return { fn, target: args[0]!, arg: args[1] };
}

function typeCheckStage(
  env: Environment,
  conds: Array<{ src: CondSrc; ruleId?: string }>,
  lexicons: Map<string, Entry<Lexicon>>,
  used: Set<string>,
  diags: RuleDiagnostic[],
): Map<CondSrc, CheckedCondition> {
  const out = new Map<CondSrc, CheckedCondition>();
  for (const { src, ruleId } of conds) {
    const at = (code: RuleErrorCode, offset: number | undefined, message: string) =>
      diags.push({ code, file: src.file, line: lineOf(src, offset), ...(ruleId ? { ruleId } : {}), message });
    let run: ParseResult;
    try {
      run = env.parse(src.source);
    } catch (e) {
      const err = e as { summary?: string; message: string; range?: { start: number } };
      at('ERR_RULES_CEL_SYNTAX', err.range?.start, `${err.summary ?? err.message} in \`${src.source.trim()}\``);
      continue;
    }
    // Resolve: every text function names a lexicon that exists, as a quoted literal.
    let resolved = true;
    walk(run.ast, (n) => {
      const call = lexiconArg(n);
      if (!call) return;
      const arg = call.arg;
      if (!arg || arg.op !== 'value' || typeof arg.args !== 'string') {
        at('ERR_RULES_LEXICON_ARGUMENT', n.range.start, `${call.fn}() needs a quoted lexicon id as its 2nd argument`);
        resolved = false;
        return;
      }
      const lex = lexicons.get(arg.args);
      if (!lex) {
        at('ERR_RULES_UNKNOWN_LEXICON', arg.range.start, `unknown lexicon "${arg.args}" in ${call.fn}()`);
        resolved = false;
        return;
      }
      used.add(arg.args);
      const onText = call.target.op === 'id' && call.target.args === 'narrative';
      if (onText && lex.value.terms.length === 0) {
        at(
          'ERR_RULES_UNREACHABLE',
          n.range.start,
          `lexicon "${arg.args}" has only codes, so ${call.fn}(narrative, ...) can never be true`,
        );
        resolved = false;
      }
    });
    const checked = run.check();
    if (!checked.valid) {
      const err = checked.error as { summary?: string; message: string; range?: { start: number } } | undefined;
      at('ERR_RULES_CEL_TYPE', err?.range?.start, `${err?.summary ?? err?.message} in \`${src.source.trim()}\``);
      continue;
    }
    if (checked.type !== 'bool') {
      at('ERR_RULES_NOT_BOOL', undefined, `condition is a ${checked.type}, not a bool: \`${src.source.trim()}\``);
      continue;
    }
    if (resolved) out.set(src, { src, ast: run.ast, run, ...(ruleId ? { ruleId } : {}) });
  }
  return out;
}

/**
 * The prefilter of a condition: a set of lexicons of which at least one must be mentioned for the
 * condition to be true, or null when no such set is known. `a && b` needs what either needs;
 * `a || b` needs what both need together; anything else (negation, counts) is left alone.
 */
function necessary(node: ASTNode, lexIndex: Map<string, number>): Set<number> | null {
  if (node.op === '&&') {
    const [a, b] = node.args as [ASTNode, ASTNode];
    const na = necessary(a, lexIndex);
    const nb = necessary(b, lexIndex);
    if (na && nb) return na.size <= nb.size ? na : nb;
    return na ?? nb;
  }
  if (node.op === '||') {
    const [a, b] = node.args as [ASTNode, ASTNode];
    const na = necessary(a, lexIndex);
    const nb = necessary(b, lexIndex);
    return na && nb ? new Set([...na, ...nb]) : null;
  }
  const call = lexiconArg(node);
  if (call && (call.fn === 'mentions' || call.fn === 'mentionsAnyone') && call.arg?.op === 'value') {
    const idx = lexIndex.get(call.arg.args as string);
    return idx === undefined ? null : new Set([idx]);
  }
  return null;
}

function atomsOf(node: ASTNode, out: ASTNode[]): void {
  if (node.op === '&&' || node.op === '||') {
    for (const a of node.args as [ASTNode, ASTNode]) atomsOf(a, out);
  } else {
    out.push(node);
  }
}

/** `screening.weapons` -> "screening.weapons"; `source` -> "source". */
function fieldPaths(node: ASTNode): { paths: string[]; selfRecording: boolean } {
  const paths = new Set<string>();
  let selfRecording = false;
  walk(node, (n) => {
    if (lexiconArg(n) || n.op === 'rcall') selfRecording = true;
    if (n.op === '.') {
      const [obj, field] = n.args as [ASTNode, string];
      if (obj.op === 'id') paths.add(`${obj.args as string}.${field}`);
    } else if (n.op === 'id' && ['source', 'priority'].includes(n.args as string)) {
      paths.add(n.args as string);
    }
  });
  return { paths: [...paths], selfRecording };
}

function prepareCondition(env: Environment, c: CheckedCondition, lexIndex: Map<string, number>): PreparedCondition {
  const pre = necessary(c.ast, lexIndex);
  const leaves: ASTNode[] = [];
  atomsOf(c.ast, leaves);
  const atoms: PreparedCondition['atoms'] = [];
  for (const leaf of leaves) {
    const { paths, selfRecording } = fieldPaths(leaf);
    if (selfRecording || paths.length === 0) continue;
    let literal: string | undefined;
    if (leaf.op === 'in') {
      const [l] = leaf.args as [ASTNode, ASTNode];
      if (l.op === 'value' && typeof l.args === 'string') literal = l.args;
    }
    const run = env.parse(serialize(leaf));
    atoms.push({ run, fast: compileFast(run.ast, lexIndex), paths, ...(literal !== undefined ? { literal } : {}) });
  }
  return {
    source: c.src.source,
    run: c.run,
    fast: compileFast(c.ast, lexIndex),
    prefilter: pre ? Int32Array.from(pre) : null,
    atoms,
  };
}

// ---------------------------------------------------------------------------------------------
// Stage 6: the matcher

const TRIGGER_KINDS: Array<[PatternKind, (t: TextSettings) => string[]]> = [
  ['pre', (t) => t.negation.pre],
  ['post', (t) => t.negation.post],
  ['uncertain', (t) => t.negation.uncertain],
  ['pseudo', (t) => t.negation.pseudo],
  ['terminator', (t) => t.negation.terminators],
  ['conjunction', (t) => t.negation.conjunctions],
  ['anchor', (t) => t.reporter.anchors],
  ['callerAnchor', (t) => t.reporter.callerAnchors],
  ['verb', (t) => t.reporter.verbs],
];

function matcherStage(m: Merged, diags: RuleDiagnostic[]): FactSources {
  const b = new MatcherBuilder({ abbreviations: m.text.abbreviations, window: m.text.negation.window });
  const codeIndex = new Map<string, number[]>();
  m.lexicons.forEach((entry, idx) => {
    const kinds = [
      ['content', entry.value.terms, ''],
      ['exception', entry.value.except, 'except: '],
    ] as const;
    for (const [kind, terms, where] of kinds) {
      for (const term of terms) {
        try {
          b.add(term, { kind, lex: idx });
        } catch (e) {
          diags.push({
            code: 'ERR_RULES_TERM_SYNTAX',
            file: entry.file,
            line: entry.line,
            ruleId: entry.value.id,
            message: `${where}${(e as Error).message}`,
          });
        }
      }
    }
    for (const code of entry.value.codes) {
      const k = code.trim().toUpperCase();
      const arr = codeIndex.get(k) ?? [];
      if (!arr.includes(idx)) arr.push(idx);
      codeIndex.set(k, arr);
    }
  });
  for (const [kind, get] of TRIGGER_KINDS) {
    for (const term of get(m.text)) {
      try {
        b.add(term, { kind, lex: -1 });
      } catch (e) {
        diags.push({
          code: 'ERR_RULES_TERM_SYNTAX',
          file: m.textLoc?.file ?? '.',
          line: m.textLoc?.line ?? 0,
          message: `text.${kind}: ${(e as Error).message}`,
        });
      }
    }
  }
  return {
    matcher: b.build(),
    codeIndex,
    lexiconCount: m.lexicons.length,
    bystanderRoles: new Set(m.text.bystanderRoles.map((r) => r.toLowerCase())),
  };
}

// ---------------------------------------------------------------------------------------------
// Tests

const TEST_DEFAULTS = {
  eventId: 'rule-test',
  incidentId: 'rule-test',
  revision: 1,
  occurredAt: '2026-01-01T12:00:00Z',
  agency: { id: 'TEST', jurisdiction: 'test' },
};

function testsStage(files: ParsedFile<RuleTestFile>[], ruleIds: Set<string>, categories: Set<string>, diags: RuleDiagnostic[]): PreparedTest[] {
  const out: PreparedTest[] = [];
  for (const f of files) {
    f.value.tests.forEach((t, i) => {
      const line = f.lineAt(['tests', i, 'name']);
      const bad = (message: string, path: PropertyKey[] = []) =>
        diags.push({ code: 'ERR_RULES_TEST_INVALID', file: f.file, line: path.length ? f.lineAt(['tests', i, ...path]) : line, message: `${t.name}: ${message}` });
      const call = CallEventSchema.safeParse({ ...TEST_DEFAULTS, ...t.call });
      if (!call.success) {
        for (const issue of call.error.issues) bad(`call.${issue.path.join('.')}: ${issue.message}`, ['call', ...issue.path]);
        return;
      }
      let ok = true;
      for (const id of [...t.expect.evidence, ...t.expect.notEvidence]) {
        if (!ruleIds.has(id) && !ENGINE_RULE_IDS.has(id)) {
          bad(`expects unknown rule id "${id}"`, ['expect']);
          ok = false;
        }
      }
      for (const c of t.expect.categories ?? []) {
        if (!categories.has(c)) {
          bad(`expects unknown category "${c}"`, ['expect', 'categories']);
          ok = false;
        }
      }
      if (ok) out.push({ file: f.file, line, name: t.name, call: call.data, ...(t.context ? { context: t.context as EvaluationContext } : {}), expect: t.expect });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The pipeline

/** The content hash of the rules files: names and bytes, in name order. */
export function rulesVersion(rules: SourceFile[]): string {
  const h = createHash('sha256');
  for (const f of [...rules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    h.update(f.file).update('\0').update(f.text).update('\0');
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/**
 * Compiles rules and rule test sources into a prepared rule set, or every error found. Pure:
 * reads nothing but its arguments.
 */
export function compileRuleset(
  dir: string,
  rules: SourceFile[],
  tests: SourceFile[],
  options: CompileOptions = {},
): CompileResult {
  const result = compileStages(dir, rules, tests, options);
  // Report in reading order: by file, then line (stages find problems in their own order).
  const order = (a: RuleDiagnostic, b: RuleDiagnostic) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
  if (!result.ok) result.errors.sort(order);
  else result.ruleset.warnings.sort(order);
  return result;
}

function compileStages(dir: string, rules: SourceFile[], tests: SourceFile[], options: CompileOptions): CompileResult {
  const diags: RuleDiagnostic[] = [];
  if (rules.length === 0) {
    diags.push({ code: 'ERR_RULES_MISSING', file: '.', line: 0, message: `no rules files (*.yaml) in ${dir}` });
    return { ok: false, errors: diags };
  }
  const parsed = parseStage(rules, tests, diags);
  // Later stages would only repeat a broken file's problems as unknown names: stop here.
  if (diags.some(isError)) return { ok: false, errors: diags };
  const merged = mergeStage(parsed, diags);

  const lexicons = new Map(merged.lexicons.map((l) => [l.value.id, l]));
  const lexIndex = new Map(merged.lexicons.map((l, i) => [l.value.id, i]));
  const env = createCelEnvironment((name) => lexIndex.get(name) ?? -1);

  const catIndex = new Map(merged.categories.map((c, i) => [c.value.id, i]));
  for (const r of merged.categoryRules) {
    if (!catIndex.has(r.value.category)) {
      diags.push({
        code: 'ERR_RULES_UNKNOWN_CATEGORY',
        file: r.file,
        line: r.line,
        ruleId: r.value.id,
        message: `unknown category "${r.value.category}" (defined: ${[...catIndex.keys()].join(', ') || 'none'})`,
      });
    }
  }

  const conds: Array<{ src: CondSrc; ruleId?: string }> = [];
  for (const r of [...merged.categoryRules, ...merged.gateRules, ...merged.emsRules]) {
    conds.push({ src: r.cond!, ruleId: r.value.id });
  }
  for (const [id, c] of merged.unless) conds.push({ src: c, ruleId: `category ${id}` });
  for (const q of merged.questions) if (q.cond) conds.push({ src: q.cond, ruleId: `question ${q.value.key}` });
  const used = new Set<string>();
  const checked = typeCheckStage(env, conds, lexicons, used, diags);

  // Analyze: unreachable categories, conflicting and duplicate conditions, unused lexicons.
  for (const [id, idx] of catIndex) {
    const c = merged.categories[idx]!;
    const total = merged.categoryRules.filter((r) => r.value.category === id).reduce((s, r) => s + r.value.weight, 0);
    if (total < c.value.threshold) {
      diags.push({
        code: 'ERR_RULES_UNREACHABLE',
        file: c.file,
        line: c.line,
        ruleId: id,
        message: `category "${id}" can never reach its threshold ${c.value.threshold}: its rules weigh ${total} in all`,
      });
    }
  }
  const canonical = (src: CondSrc) => {
    const c = checked.get(src);
    return c ? serialize(c.ast) : undefined;
  };
  const seenCat = new Map<string, string>();
  for (const r of merged.categoryRules) {
    const k = canonical(r.cond!);
    if (k === undefined) continue;
    if (r.value.weight === 0 || k === 'false') {
      diags.push({ code: 'ERR_RULES_UNREACHABLE', file: r.file, line: r.line, ruleId: r.value.id, severity: 'warning', message: 'this rule can never add to a score' });
    }
    const key = `${r.value.category}\0${k}`;
    const prev = seenCat.get(key);
    if (prev) {
      diags.push({
        code: 'ERR_RULES_DUPLICATE_CONDITION',
        file: r.file,
        line: r.line,
        ruleId: r.value.id,
        severity: 'warning',
        message: `same condition as rule "${prev}" of category ${r.value.category}: the call is counted twice`,
      });
    } else seenCat.set(key, r.value.id);
  }
  const seenGate = new Map<string, { id: string; level: GateValue }>();
  for (const r of merged.gateRules) {
    const k = canonical(r.cond!);
    if (k === undefined) continue;
    const prev = seenGate.get(k);
    if (prev && prev.level !== r.value.level) {
      diags.push({
        code: 'ERR_RULES_CONFLICT',
        file: r.file,
        line: r.line,
        ruleId: r.value.id,
        message: `same condition as gate rule "${prev.id}" but level ${r.value.level} instead of ${prev.level}`,
      });
    } else if (!prev) seenGate.set(k, { id: r.value.id, level: r.value.level });
  }
  if (merged.gateRules.length > 0 && !merged.gateRules.some((r) => r.value.level === 'civilian_ok')) {
    diags.push({ code: 'ERR_RULES_UNREACHABLE', file: merged.gateRules[0]!.file, line: 0, severity: 'warning', message: 'no gate rule has level civilian_ok, so civilian_ok is never given' });
  }
  for (const l of merged.lexicons) {
    if (!used.has(l.value.id)) {
      diags.push({ code: 'ERR_RULES_UNUSED_LEXICON', file: l.file, line: l.line, ruleId: l.value.id, severity: 'warning', message: `lexicon "${l.value.id}" is not used by any condition` });
    }
  }

  const facts = matcherStage(merged, diags);
  const calltypes = options.calltypes ?? [];
  const callTypes = compileCrosswalk(
    calltypes,
    {
      text: merged.text,
      categories: new Set(catIndex.keys()),
      ...(options.jurisdictions ? { jurisdictions: new Set(options.jurisdictions) } : {}),
    },
    diags,
  );
  const ruleIds = new Set([...merged.categoryRules, ...merged.gateRules, ...merged.emsRules].map((r) => r.value.id));
  const preparedTests = testsStage(parsed.tests, ruleIds, new Set(catIndex.keys()), diags);

  if (diags.some(isError)) return { ok: false, errors: diags };

  // Prepare: everything below is known to be valid.
  const prep = (src: CondSrc) => prepareCondition(env, checked.get(src)!, lexIndex);
  const ruleset: PreparedRuleset = {
    // The crosswalk is part of the version: a crosswalk change is a rules change.
    version: rulesVersion([...rules, ...calltypes]),
    dir,
    files: [...rules, ...calltypes].map((r) => r.file),
    testFiles: tests.map((t) => t.file),
    categories: merged.categories.map((c) => {
      const unless = merged.unless.get(c.value.id);
      return {
        id: c.value.id,
        ...(c.value.title !== undefined ? { title: c.value.title } : {}),
        ...(c.value.description !== undefined ? { description: c.value.description } : {}),
        threshold: c.value.threshold,
        ...(unless ? { unless: prep(unless) } : {}),
        ...(c.value.unlessReason !== undefined ? { unlessReason: c.value.unlessReason } : {}),
      };
    }),
    categoryRules: merged.categoryRules.map((r) => ({
      id: r.value.id,
      reason: r.value.reason,
      file: r.file,
      line: r.line,
      when: prep(r.cond!),
      category: catIndex.get(r.value.category)!,
      weight: r.value.weight,
    })),
    gateRules: merged.gateRules.map((r) => ({
      id: r.value.id,
      reason: r.value.reason,
      file: r.file,
      line: r.line,
      when: prep(r.cond!),
      level: r.value.level,
      severity: GATE_VALUES.indexOf(r.value.level),
    })),
    emsRules: merged.emsRules.map((r) => ({ id: r.value.id, reason: r.value.reason, file: r.file, line: r.line, when: prep(r.cond!) })),
    questions: merged.questions.map((q) => ({
      key: q.value.key,
      question: q.value.question,
      settles: q.value.settles,
      ...(q.cond ? { when: prep(q.cond) } : {}),
    })),
    requireForCivilian: merged.requireForCivilian,
    lexicons: merged.lexicons.map((l) => ({
      id: l.value.id,
      ...(l.value.description !== undefined ? { description: l.value.description } : {}),
      terms: l.value.terms.length,
      codes: l.value.codes.length,
    })),
    facts,
    tests: preparedTests,
    warnings: diags,
    ruleIds,
    callTypes,
  };
  return { ok: true, ruleset };
}
