/**
 * The evaluator: a prepared rule set and a call event in, a classification out. Pure and
 * deterministic — the same rule set and call always give the same classification — and it never
 * throws for a schema-valid call: a condition that fails at run time counts as false, except a
 * gate rule above civilian_ok, which counts as true (the cautious reading).
 */
import type { CallEvent } from '../domain/call-event.ts';
import { GATE_VALUES, type Classification, type Evidence, type GateReason } from '../domain/classification.ts';
import type { PreparedCondition, PreparedRuleset } from './compile.ts';
import { buildFacts, type EvaluationContext, type Facts, type TraceItem } from './facts.ts';
import { AFFIRMED } from './text.ts';
import { FLOOR_SAYS, resolveCallType } from '../calltypes/resolve.ts';

export type { EvaluationContext };

/** Reasons the engine itself gives (not rules of a file); rule tests may expect them as evidence. */
export const ENGINE_RULE_IDS: ReadonlySet<string> = new Set([
  'engine.no-gate-rule',
  'engine.screening-incomplete',
  'engine.calltype-not-recognised',
]);

interface Outcome {
  fired: boolean;
  /** What the condition's text functions recorded; field evidence is added by {@link addAtomItems}. */
  items: TraceItem[];
  failed: boolean;
}

const NO_ITEMS: TraceItem[] = [];
const NOT_FIRED: Outcome = { fired: false, items: NO_ITEMS, failed: false };

function passesPrefilter(c: PreparedCondition, facts: Facts): boolean {
  const pre = c.prefilter;
  if (!pre) return true;
  for (let i = 0; i < pre.length; i++) if (facts.hits[pre[i]!]) return true;
  return false;
}

/**
 * Where {@link run} lets a condition record: one reused array, copied out only when the condition
 * fires. Most conditions that pass the prefilter do not fire, and their records are discarded.
 */
const recording: TraceItem[] = [];

/** Runs a condition and records what its text functions matched. */
function run(c: PreparedCondition, facts: Facts, onError: boolean): Outcome {
  if (!passesPrefilter(c, facts)) return NOT_FIRED;
  if (recording.length !== 0) recording.length = 0;
  facts.trace.items = recording;
  let fired: boolean;
  let failed = false;
  try {
    fired = c.fast ? c.fast(facts) : c.run(facts) === true;
  } catch {
    fired = onError;
    failed = true;
  } finally {
    facts.trace.items = null;
  }
  if (!fired) return NOT_FIRED;
  // A fresh array: the evaluator appends field evidence to a fired rule's items later.
  return { fired, items: recording.slice(), failed };
}

/** Runs a condition when only whether it fires matters (EMS rules, questions): records nothing. */
function test(c: PreparedCondition, facts: Facts, onError: boolean): boolean {
  if (!passesPrefilter(c, facts)) return false;
  try {
    return c.fast ? c.fast(facts) : c.run(facts) === true;
  } catch {
    return onError;
  }
}

/**
 * Which structured fields made a fired condition true: re-runs the field comparisons on their own
 * and appends them to `items`. Done lazily, only for rules whose evidence is reported.
 */
function addAtomItems(c: PreparedCondition, facts: Facts, items: TraceItem[]): void {
  for (const atom of c.atoms) {
    let ok = false;
    try {
      ok = atom.fast ? atom.fast(facts) : atom.run(facts) === true;
    } catch {
      ok = false;
    }
    if (!ok) continue;
    for (const path of atom.paths) items.push({ field: path, text: atom.literal ?? fieldText(facts, path) });
  }
}

const splitPaths = new Map<string, [string, string | undefined]>();

function fieldText(facts: Facts, path: string): string {
  let v: unknown = facts;
  // Paths are "variable" or "variable.field" (see compile.ts fieldPaths); split once per path.
  let parts = splitPaths.get(path);
  if (!parts) {
    const dot = path.indexOf('.');
    parts = dot < 0 ? [path, undefined] : [path.slice(0, dot), path.slice(dot + 1)];
    splitPaths.set(path, parts);
  }
  const [name, field] = parts;
  if (field === undefined) v = (facts as unknown as Record<string, unknown>)[name];
  else v = ((facts as unknown as Record<string, Record<string, unknown>>)[name] ?? {})[field];
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

const sameItem = (a: TraceItem, b: TraceItem) =>
  a.field === b.field && a.start === b.start && a.end === b.end && a.text === b.text;

function evidenceOf(ruleId: string, reason: string, items: TraceItem[]): Evidence[] {
  if (items.length === 0) return [{ ruleId, field: 'call', reason }];
  const out: Evidence[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    // A condition may match the same words twice (`a || b` over one lexicon): keep one.
    let dup = false;
    for (let j = 0; j < i && !dup; j++) dup = sameItem(items[j]!, it);
    if (dup) continue;
    // Same keys in the same order as spreading the optional ones: the output is unchanged.
    const e: Evidence = { ruleId, field: it.field } as Evidence;
    if (it.text !== undefined) e.text = it.text;
    if (it.start !== undefined) {
      e.start = it.start;
      e.end = it.end!;
    }
    e.reason = reason;
    out.push(e);
  }
  return out;
}

/**
 * Classifies one call event. `context.repeatCalls` carries the recent-call counts the pipeline
 * looked up (0 when not given).
 */
export function evaluate(ruleset: PreparedRuleset, call: CallEvent, context?: EvaluationContext): Classification {
  return classify(ruleset, call, context);
}

/**
 * {@link evaluate}, and when `fired` is given, it also receives the id of every rule that fired,
 * including rules of categories below their threshold and gate rules below the final level.
 */
export function classify(
  ruleset: PreparedRuleset,
  call: CallEvent,
  context?: EvaluationContext,
  fired?: Set<string>,
): Classification {
  const facts = buildFacts(ruleset.facts, call, context);

  // Categories: the sum of the weights of the rules that fire.
  const n = ruleset.categories.length;
  const scores = new Float64Array(n);
  // Evidence is built only for categories that reach their threshold.
  const firedRules: Array<{ r: PreparedRuleset['categoryRules'][number]; items: TraceItem[] }> = [];
  for (const r of ruleset.categoryRules) {
    const o = run(r.when, facts, false);
    if (!o.fired) continue;
    fired?.add(r.id);
    scores[r.category]! += r.weight;
    firedRules.push({ r, items: o.items });
  }
  // The call's APCO common type (calltypes/): each category hint weighs as a rule of weight 1.
  const callType = resolveCallType(ruleset.callTypes, call);
  const hinted = callType.commonType.categories;
  for (let k = 0; k < hinted.length; k++) {
    for (let i = 0; i < n; i++) {
      if (ruleset.categories[i]!.id !== hinted[k]) continue;
      scores[i]! += 1;
      fired?.add(callType.commonType.ref!);
    }
  }
  const categories: Classification['categories'] = [];
  for (let i = 0; i < n; i++) {
    const c = ruleset.categories[i]!;
    const score = Math.round(scores[i]! * 1000) / 1000;
    if (score + 1e-9 < c.threshold) continue;
    if (c.unless && test(c.unless, facts, false)) continue;
    const evidence: Evidence[] = [];
    for (const f of firedRules) {
      if (f.r.category !== i) continue;
      if (f.r.when.atoms.length > 0) addAtomItems(f.r.when, facts, f.items);
      for (const e of evidenceOf(f.r.id, f.r.reason, f.items)) evidence.push(e);
    }
    if (hinted.length > 0 && hinted.includes(c.id)) {
      const ref = callType.commonType.ref!;
      evidence.push({ ruleId: ref, field: callType.field, text: callType.text, reason: callType.says });
    }
    categories.push({ category: c.id, score, evidence });
  }
  // Highest score first; ties keep the order the categories are defined in.
  categories.sort((a, b) => b.score - a.score);

  // Gate: the most cautious level of the gate rules that fire.
  let severity = -1;
  const gateFired: Array<{ r: PreparedRuleset['gateRules'][number]; o: Outcome }> = [];
  for (const r of ruleset.gateRules) {
    const o = run(r.when, facts, r.severity > 0);
    if (!o.fired) continue;
    fired?.add(r.id);
    severity = Math.max(severity, r.severity);
    gateFired.push({ r, o });
  }
  // Reasons only for the rules at the final level; each names its first piece of evidence.
  let reasons: GateReason[] = [];
  for (const { r, o } of gateFired) {
    if (r.severity !== severity) continue;
    let first = o.items[0];
    if (!first && r.when.atoms.length > 0) {
      const atomItems: TraceItem[] = [];
      addAtomItems(r.when, facts, atomItems);
      first = atomItems[0];
    }
    const reason = o.failed ? `${r.reason} (the rule failed to evaluate; treated as true)` : r.reason;
    // Same keys in the same order as the optional spreads would give.
    const gr: GateReason = { ruleId: r.id, reason };
    if (first) {
      gr.field = first.field;
      if (first.text !== undefined) gr.text = first.text;
    }
    reasons.push(gr);
  }
  if (severity < 0) {
    severity = 1;
    reasons = [{ ruleId: 'engine.no-gate-rule', reason: 'No gate rule decided; the cautious default applies' }];
  }
  // A call type that neither a lexicon nor the crosswalk (calltypes/) places, with a narrative that
  // affirms nothing either, gets the cautious default; the decision says why, so an admin can teach
  // the service the town's call type.
  if (
    severity === 1 &&
    !facts.callType.recognised &&
    callType.commonType.foundBy === 'none' &&
    !facts.narrative.mentions.some((m) => m.polarity === AFFIRMED)
  ) {
    fired?.add('engine.calltype-not-recognised');
    reasons.push({
      ruleId: 'engine.calltype-not-recognised',
      reason: 'Call type not recognised and the narrative gives nothing the rules know: the cautious default applies',
      field: 'callType.code',
      text: facts.callType.code,
    });
  }
  // Whatever the rules say, civilian_ok needs every required screening answer to be "no".
  const unanswered = ruleset.requireForCivilian.filter((k) => facts.screening[k] !== 'no');
  if (severity === 0 && unanswered.length > 0) {
    severity = 1;
    reasons = unanswered.map((k) => ({
      ruleId: 'engine.screening-incomplete',
      reason: `Screening for ${k} is not "no"; civilian_ok needs it`,
      field: `screening.${k}`,
      text: facts.screening[k],
    }));
  }

  // The call type's gate floor raises the gate, never lowers it.
  if (callType.severity > 0 && callType.severity >= severity) {
    const floor: GateReason = {
      ruleId: callType.commonType.ref!,
      reason: `${callType.says}: ${FLOOR_SAYS[callType.commonType.floor!]}`,
      field: callType.field,
      text: callType.text,
    };
    fired?.add(floor.ruleId);
    if (callType.severity > severity) reasons = [floor];
    else reasons.push(floor);
    severity = callType.severity;
  }

  // Screening questions for the unknowns that block civilian_ok (or that a rule asks for).
  const screeningQuestions: Classification['screeningQuestions'] = [];
  for (const q of ruleset.questions) {
    const ask = q.when
      ? test(q.when, facts, true)
      : ruleset.requireForCivilian.includes(q.key) && facts.screening[q.key] === 'unknown';
    if (ask) screeningQuestions.push({ key: q.key, question: q.question, settles: q.settles });
  }

  const emsReasons: Classification['ems']['reasons'] = [];
  for (const r of ruleset.emsRules) {
    // An EMS rule that fails is treated as firing: sending EMS needlessly is the safe error.
    if (!test(r.when, facts, true)) continue;
    fired?.add(r.id);
    emsReasons.push({ ruleId: r.id, reason: r.reason });
  }

  return {
    rulesVersion: ruleset.version,
    categories,
    gate: { value: GATE_VALUES[severity]!, reasons },
    screeningQuestions,
    ems: { needed: emsReasons.length > 0, reasons: emsReasons },
    commonType: callType.commonType,
  };
}
