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
});

export interface LabelledCase {
  id: string;
  line: number;
  call: CallEvent;
  expect: { categories: string[]; gate?: GateValue };
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
    cases.push({ id: r.data.id, line, call: r.data.call, expect: r.data.expect as LabelledCase['expect'] });
  });
  return { cases, errors };
}

export interface CategoryScore {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalReport {
  cases: number;
  categories: Record<string, CategoryScore>;
  macroF1: number;
  gateAccuracy: number;
  unsafeClears: number;
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
  return {
    cases: cases.length,
    categories,
    macroF1: round(macro),
    gateAccuracy: round(gated === 0 ? 1 : gateRight / gated),
    unsafeClears: unsafe,
    errors,
  };
}
