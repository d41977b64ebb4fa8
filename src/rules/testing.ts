/**
 * Rule tests: sample calls with the categories, gate and evidence they must get. Run by
 * `cad-triage rules test`, by the rules store before it swaps in a new version, and by the unit
 * tests over the default rules.
 */
import type { Classification } from '../domain/classification.ts';
import type { PreparedRuleset, PreparedTest } from './compile.ts';
import { classify } from './evaluate.ts';

export interface RuleTestResult {
  test: PreparedTest;
  pass: boolean;
  /** What differed, one line each. */
  failures: string[];
  classification: Classification;
  ms: number;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** Every rule id that fired in a classification: category evidence, gate reasons, EMS reasons. */
export function firedRuleIds(c: Classification): Set<string> {
  const ids = new Set<string>();
  for (const cat of c.categories) for (const e of cat.evidence) ids.add(e.ruleId);
  for (const r of c.gate.reasons) ids.add(r.ruleId);
  for (const r of c.ems.reasons) ids.add(r.ruleId);
  return ids;
}

export function runRuleTest(rs: PreparedRuleset, t: PreparedTest): RuleTestResult {
  const t0 = performance.now();
  // Evidence is checked against every rule that fired, so a test can pin a rule that only
  // contributes (a category below its threshold, a gate rule below the final level).
  const fired = new Set<string>();
  const c = classify(rs, t.call, t.context, fired);
  const ms = performance.now() - t0;
  const failures: string[] = [];
  const got = c.categories.map((x) => x.category);
  const e = t.expect;
  if (e.categories && !sameSet(e.categories, got)) {
    failures.push(`categories: expected [${e.categories.join(', ')}], got [${got.join(', ')}]`);
  }
  if (e.gate && e.gate !== c.gate.value) {
    failures.push(`gate: expected ${e.gate}, got ${c.gate.value} (${c.gate.reasons.map((r) => r.ruleId).join(', ')})`);
  }
  if (e.commonType !== undefined && e.commonType !== (c.commonType.code ?? 'none')) {
    failures.push(`commonType: expected ${e.commonType}, got ${c.commonType.code ?? 'none'} (${c.commonType.foundBy})`);
  }
  if (e.ems !== undefined && e.ems !== c.ems.needed) failures.push(`ems: expected ${e.ems}, got ${c.ems.needed}`);
  if (e.questions) {
    const keys = c.screeningQuestions.map((q) => q.key);
    if (!sameSet(e.questions, keys)) failures.push(`questions: expected [${e.questions.join(', ')}], got [${keys.join(', ')}]`);
  }
  if (e.evidence.length > 0 || e.notEvidence.length > 0) {
    const missing = e.evidence.filter((id) => !fired.has(id));
    if (missing.length > 0) failures.push(`evidence: rules did not fire: ${missing.join(', ')}`);
    const unwanted = e.notEvidence.filter((id) => fired.has(id));
    if (unwanted.length > 0) failures.push(`evidence: rules fired but should not: ${unwanted.join(', ')}`);
  }
  return { test: t, pass: failures.length === 0, failures, classification: c, ms };
}

export function runRuleTests(rs: PreparedRuleset): RuleTestResult[] {
  return rs.tests.map((t) => runRuleTest(rs, t));
}
