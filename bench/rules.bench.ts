/**
 * Rules engine throughput: classify the dev cases (cycled) with the default rules, beside a
 * json-rules-engine baseline of the same categories, gate levels and vocabulary, in the same run.
 * The baseline matches each lexicon's phrases as plain substrings of the lower-cased narrative
 * (no negation, no attribution), so it does less work per call than the real engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from 'json-rules-engine';
import { opsPerSecond, type Bench } from './harness.ts';
import { DEFAULT_RULES_DIR, evaluate, loadRuleset, readRulesDir } from '../src/rules/index.ts';
import { parseLabelledCases } from '../src/rules/labelled-cases.ts';
import { parseTerm } from '../src/rules/text.ts';
import { parse as parseYaml } from 'yaml';
import type { CallEvent } from '../src/domain/call-event.ts';

const DEV = join(import.meta.dirname, '..', 'test', 'rules', 'fixtures', 'dev.jsonl');

/** lexicon id -> plain phrases (first spelling of each term) and codes, from the rules files. */
async function vocabulary(): Promise<Map<string, { phrases: string[]; codes: string[] }>> {
  const { rules } = await readRulesDir(DEFAULT_RULES_DIR);
  const out = new Map<string, { phrases: string[]; codes: string[] }>();
  for (const f of rules) {
    const doc = parseYaml(f.text) as {
      lexicons?: Array<{ id: string; terms?: unknown[]; codes?: unknown[] }>;
    };
    for (const l of doc.lexicons ?? []) {
      const phrases = (l.terms ?? []).flatMap((t) => {
        const v = parseTerm(String(t), (w) => [w.toLowerCase()])[0]!;
        return [v.flatMap((e) => (e.k === 'g' ? [] : [e.t])).join(' ')];
      });
      out.set(l.id, { phrases, codes: (l.codes ?? []).map((c) => String(c).toUpperCase()) });
    }
  }
  return out;
}

/** The same categories and gate levels as json-rules-engine rules over the same vocabulary. */
async function baselineEngine(): Promise<Engine> {
  const vocab = await vocabulary();
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator(
    'mentionsAny',
    (text: unknown, phrases: unknown) =>
      typeof text === 'string' && (phrases as string[]).some((p) => text.includes(p)),
  );
  const lex = (id: string) => vocab.get(id) ?? { phrases: [], codes: [] };
  const anyOf = (ids: string[]) => ({
    any: ids.flatMap((id) => [
      { fact: 'narrative', operator: 'mentionsAny', value: lex(id).phrases },
      { fact: 'code', operator: 'in', value: lex(id).codes },
    ]),
  });
  const categories: Record<string, string[]> = {
    behavioral_health: [
      'mental_health_calltype',
      'suicidal_statement',
      'psychosis',
      'emotional_distress',
      'erratic_behavior',
      'off_medication',
      'mental_health_history',
      'crisis_services',
    ],
    homelessness: [
      'homeless_calltype',
      'shelter_calltype',
      'homeless_person',
      'sleeping_rough',
      'belongings',
    ],
    substance_use: ['substance_calltype', 'intoxication', 'overdose_signs', 'paraphernalia', 'withdrawal'],
    elderly: ['elder_calltype', 'older_subject', 'elder_need', 'welfare_calltype'],
    juvenile: ['juvenile_calltype', 'minor_subject', 'children', 'juvenile_need'],
  };
  for (const [cat, ids] of Object.entries(categories)) {
    for (const id of ids)
      engine.addRule({ conditions: anyOf([id]), event: { type: 'category', params: { cat, id } } });
  }
  engine.addRule({
    conditions: { any: [{ fact: 'maxAge', operator: 'greaterThanInclusive', value: 65 }] },
    event: { type: 'category', params: { cat: 'elderly' } },
  });
  engine.addRule({
    conditions: { any: [{ fact: 'minAge', operator: 'lessThan', value: 18 }] },
    event: { type: 'category', params: { cat: 'juvenile' } },
  });
  const police = [
    'weapon',
    'weapon_calltype',
    'violence',
    'violence_calltype',
    'threats_to_others',
    'domestic',
    'domestic_calltype',
    'barricaded',
    'crime_in_progress',
    'crime_calltype',
    'violence_history',
    'suicide_attempt',
  ];
  for (const id of police)
    engine.addRule({ conditions: anyOf([id]), event: { type: 'gate', params: { level: 2 } } });
  for (const k of ['weapons', 'violence', 'threatsToOthers', 'crimeInProgress']) {
    engine.addRule({
      conditions: { all: [{ fact: 'screening', path: `$.${k}`, operator: 'equal', value: 'yes' }] },
      event: { type: 'gate', params: { level: 2 } },
    });
    engine.addRule({
      conditions: { all: [{ fact: 'screening', path: `$.${k}`, operator: 'notEqual', value: 'no' }] },
      event: { type: 'gate', params: { level: 1 } },
    });
  }
  engine.addRule({
    conditions: {
      any: [
        { fact: 'premiseFlags', operator: 'contains', value: 'prior_violence' },
        { fact: 'premiseFlags', operator: 'contains', value: 'officer_safety' },
        { fact: 'premiseFlags', operator: 'contains', value: 'weapons_on_file' },
      ],
    },
    event: { type: 'gate', params: { level: 2 } },
  });
  for (const id of ['aggression', 'property_destruction', 'suicidal_statement', 'self_harm']) {
    engine.addRule({ conditions: anyOf([id]), event: { type: 'gate', params: { level: 1 } } });
  }
  return engine;
}

function baselineFacts(c: CallEvent): Record<string, unknown> {
  const ages = (c.subjects ?? []).flatMap((s) => (s.age === undefined ? [] : [s.age]));
  return {
    narrative: (c.narrative ?? '').toLowerCase(),
    code: c.callType.code.toUpperCase(),
    maxAge: ages.length ? Math.max(...ages) : -1,
    minAge: ages.length ? Math.min(...ages) : 999,
    screening: {
      weapons: 'unknown',
      violence: 'unknown',
      threatsToOthers: 'unknown',
      crimeInProgress: 'unknown',
      ...c.screening,
    },
    premiseFlags: c.location?.premiseFlags ?? [],
  };
}

async function asyncOpsPerSecond(fn: (i: number) => Promise<unknown>, ms = 2000): Promise<number> {
  const warmEnd = performance.now() + 300;
  let i = 0;
  while (performance.now() < warmEnd) await fn(i++);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 20; k++) await fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const bench: Bench = {
  name: 'rules',
  async run() {
    const loaded = await loadRuleset(DEFAULT_RULES_DIR);
    if (!loaded.ok) throw new Error('default rules do not compile');
    const rs = loaded.ruleset;
    const calls = parseLabelledCases(readFileSync(DEV, 'utf8')).cases.map((c) => c.call);
    const n = calls.length;
    const ours = opsPerSecond((i) => evaluate(rs, calls[i % n]!), 3000);
    const engine = await baselineEngine();
    const facts = calls.map(baselineFacts);
    const theirs = await asyncOpsPerSecond((i) => engine.run(facts[i % n]), 3000);
    const avgChars = Math.round(calls.reduce((s, c) => s + (c.narrative?.length ?? 0), 0) / n);
    return [
      {
        name: `classify, ${n} dev cases cycled (${rs.categoryRules.length + rs.gateRules.length + rs.emsRules.length} rules, ${avgChars} chars/narrative)`,
        value: ours,
        unit: 'calls/s',
        higherIsBetter: true,
        baseline: { name: 'json-rules-engine, same categories and vocabulary', value: theirs },
        targetRatio: 10,
        notes: 'one core; target >= 50,000 calls/s',
      },
    ];
  },
};

export default bench;
