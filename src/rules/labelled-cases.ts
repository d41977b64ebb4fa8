/**
 * Labelled-case evaluation (`cad-triage eval FILE`): reads cases in the format of
 * shared/eval/README.md (one JSON object per line: id, call, expect {categories, gate?}, note?)
 * and scores a rule set on them: per-category precision/recall/F1, macro-F1 over the five
 * required categories, gate accuracy and unsafe clears.
 */
import { z } from 'zod';
import { CallEventSchema, type CallEvent } from '../domain/call-event.ts';
import { GateValueSchema, type GateValue } from '../domain/classification.ts';
import type { PreparedRuleset } from './compile.ts';
import { evaluate } from './evaluate.ts';

/** The five categories the guide defines; macro-F1 is over these. */
export const REQUIRED_CATEGORIES = ['behavioral_health', 'homelessness', 'substance_use', 'elderly', 'juvenile'] as const;

export const LabelledCaseSchema = z.object({
  id: z.string().min(1),
  call: CallEventSchema,
  expect: z.object({
    categories: z.array(z.string()),
    gate: GateValueSchema.optional(),
  }),
  note: z.string().optional(),
  /** A label group for a per-group breakdown (e.g. "violent", "property"); not in the guide's format. */
  group: z.string().min(1).optional(),
});

export interface LabelledCase {
  id: string;
  line: number;
  call: CallEvent;
  expect: { categories: string[]; gate?: GateValue };
  group?: string;
}

/** A malformed line: which one and why. */
export interface CaseFileError {
  line: number;
  message: string;
}

/** Parses a JSONL file of labelled cases; every bad line is reported with its number. */
export function parseLabelledCases(text: string): { cases: LabelledCase[]; errors: CaseFileError[] } {
  const cases: LabelledCase[] = [];
  const errors: CaseFileError[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      errors.push({ line, message: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    const r = LabelledCaseSchema.safeParse(json);
    if (!r.success) {
      const paths = r.error.issues.map((is) => `${is.path.join('.') || '(root)'}: ${is.message}`);
      errors.push({ line, message: paths.join('; ') });
      return;
    }
    if (seen.has(r.data.id)) errors.push({ line, message: `duplicate id "${r.data.id}"` });
    seen.add(r.data.id);
    const c: LabelledCase = { id: r.data.id, line, call: r.data.call, expect: r.data.expect as LabelledCase['expect'] };
    if (r.data.group !== undefined) c.group = r.data.group;
    cases.push(c);
  });
  return { cases, errors };
}

export interface CategoryScore {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The figures of one label group (cases that carry `group`). */
export interface GroupScore {
  cases: number;
  /** Cases with an expected gate, and the share of them whose gate is right. */
  gated: number;
  gateAccuracy: number;
  /** Decisions of civilian_ok in the group. */
  civilianOk: number;
  /** Share of cases given a category they are not expected to have. */
  falseCategoryRate: number;
  /** Share of expected categories found (1 when the group expects none). */
  categoryRecall: number;
}

export interface EvalReport {
  cases: number;
  categories: Record<string, CategoryScore>;
  macroF1: number;
  gateAccuracy: number;
  unsafeClears: number;
  /** Per label group, when the cases carry one (sorted by group name). */
  groups?: Record<string, GroupScore>;
  errors: Array<{
    id: string;
    expected: { categories: string[]; gate?: GateValue };
    got: { categories: string[]; gate: GateValue };
  }>;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Scores a rule set on labelled cases. A case is an error when its categories or its gate differ. */
export function scoreCases(rs: PreparedRuleset, cases: LabelledCase[]): EvalReport {
  const names = [...new Set([...REQUIRED_CATEGORIES, ...rs.categories.map((c) => c.id)])];
  const tp = new Map(names.map((n) => [n, 0]));
  const fp = new Map(names.map((n) => [n, 0]));
  const fn = new Map(names.map((n) => [n, 0]));
  let gated = 0;
  let gateRight = 0;
  let unsafe = 0;
  const errors: EvalReport['errors'] = [];
  const groups = new Map<string, { cases: number; gated: number; gateRight: number; civ: number; falseCat: number; expected: number; found: number }>();
  for (const c of cases) {
    const got = evaluate(rs, c.call);
    const gotCats = got.categories.map((x) => x.category);
    const exp = new Set(c.expect.categories);
    for (const n of names) {
      const e = exp.has(n);
      const g = gotCats.includes(n);
      if (e && g) tp.set(n, tp.get(n)! + 1);
      else if (g) fp.set(n, fp.get(n)! + 1);
      else if (e) fn.set(n, fn.get(n)! + 1);
    }
    let wrong = exp.size !== gotCats.length || gotCats.some((g) => !exp.has(g));
    if (c.expect.gate) {
      gated++;
      if (c.expect.gate === got.gate.value) gateRight++;
      else wrong = true;
      if (got.gate.value === 'civilian_ok' && c.expect.gate !== 'civilian_ok') unsafe++;
    }
    if (c.group !== undefined) {
      let g = groups.get(c.group);
      if (!g) groups.set(c.group, (g = { cases: 0, gated: 0, gateRight: 0, civ: 0, falseCat: 0, expected: 0, found: 0 }));
      g.cases++;
      if (c.expect.gate) {
        g.gated++;
        if (c.expect.gate === got.gate.value) g.gateRight++;
      }
      if (got.gate.value === 'civilian_ok') g.civ++;
      if (gotCats.some((x) => !exp.has(x))) g.falseCat++;
      g.expected += exp.size;
      for (const x of exp) if (gotCats.includes(x)) g.found++;
    }
    if (wrong) {
      errors.push({
        id: c.id,
        expected: { categories: [...c.expect.categories].sort(), ...(c.expect.gate ? { gate: c.expect.gate } : {}) },
        got: { categories: [...gotCats].sort(), gate: got.gate.value },
      });
    }
  }
  const categories: Record<string, CategoryScore> = {};
  for (const n of names) {
    const t = tp.get(n)!;
    const p = t + fp.get(n)! === 0 ? 1 : t / (t + fp.get(n)!);
    const r = t + fn.get(n)! === 0 ? 1 : t / (t + fn.get(n)!);
    const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
    categories[n] = { precision: round(p), recall: round(r), f1: round(f1), support: t + fn.get(n)! };
  }
  const macro = REQUIRED_CATEGORIES.reduce((s, n) => s + categories[n]!.f1, 0) / REQUIRED_CATEGORIES.length;
  const report: EvalReport = {
    cases: cases.length,
    categories,
    macroF1: round(macro),
    gateAccuracy: round(gated === 0 ? 1 : gateRight / gated),
    unsafeClears: unsafe,
    errors,
  };
  if (groups.size > 0) {
    report.groups = {};
    for (const name of [...groups.keys()].sort()) {
      const g = groups.get(name)!;
      report.groups[name] = {
        cases: g.cases,
        gated: g.gated,
        gateAccuracy: round(g.gated === 0 ? 1 : g.gateRight / g.gated),
        civilianOk: g.civ,
        falseCategoryRate: round(g.falseCat / g.cases),
        categoryRecall: round(g.expected === 0 ? 1 : g.found / g.expected),
      };
    }
  }
  return report;
}
