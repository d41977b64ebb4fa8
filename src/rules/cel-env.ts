/**
 * The CEL environment rule conditions are written in: the variables a condition may read and the
 * text functions it may call. One environment is built per rule set (the functions close over
 * its lexicon ids), and every condition is parsed and type-checked against it once.
 */
import { Environment } from '@marcbachmann/cel-js';
import {
  CallerFacts,
  CallTypeFacts,
  LocationFacts,
  RepeatCallsFacts,
  ScreeningFacts,
  SubjectsFacts,
  TextFacts,
} from './facts.ts';
import { AFFIRMED, NEGATED, UNCERTAIN, type Mention } from './text.ts';
import { SCREENING_KEYS } from '../domain/call-event.ts';

/** Functions whose second argument must be a quoted lexicon id (checked by the compiler). */
export const LEXICON_FUNCTIONS = new Set(['mentions', 'mentionsAnyone', 'denies', 'uncertain', 'count']);

/** Evidence is recorded for at most this many mentions per function call: enough to read why. */
const MAX_RECORDED = 3;

function affirmedSubject(t: TextFacts, lex: number, record: boolean): boolean {
  let found = 0;
  for (const m of t.mentions) {
    if (m.lex !== lex || m.polarity !== AFFIRMED || !m.subject || m.superseded) continue;
    if (!record) return true;
    if (found++ < MAX_RECORDED) t.record(m);
  }
  return found > 0;
}

function lastOf(ms: Mention[], lex: number, pred: (m: Mention) => boolean): Mention | undefined {
  let last: Mention | undefined;
  for (const m of ms) if (m.lex === lex && pred(m)) last = m;
  return last;
}

/** The implementations of the text and subject functions, shared by CEL and the fast path. */
export interface FactFunctions {
  mentionsText(t: TextFacts, lex: number): boolean;
  mentionsCallType(c: CallTypeFacts, lex: number): boolean;
  mentionsAnyone(t: TextFacts, lex: number): boolean;
  denies(t: TextFacts, lex: number): boolean;
  uncertain(t: TextFacts, lex: number): boolean;
  count(t: TextFacts, lex: number): bigint;
  anyAgeAtLeast(s: SubjectsFacts, min: number): boolean;
  anyAgeUnder(s: SubjectsFacts, max: number): boolean;
}

export const FACT_FUNCTIONS: FactFunctions = {
  mentionsText: (t, lex) => affirmedSubject(t, lex, true),
  mentionsCallType(c, lex) {
    if (c.codeLex.has(lex)) {
      c.trace.items?.push({ field: 'callType.code', text: c.code });
      return true;
    }
    return affirmedSubject(c.codeText, lex, true) || affirmedSubject(c.descriptionText, lex, true);
  },
  mentionsAnyone(t, lex) {
    let found = 0;
    for (const m of t.mentions) {
      if (m.lex !== lex || m.polarity !== AFFIRMED) continue;
      if (found++ < MAX_RECORDED) t.record(m);
    }
    return found > 0;
  },
  denies(t, lex) {
    const neg = lastOf(t.mentions, lex, (m) => m.polarity === NEGATED);
    if (!neg) return false;
    const aff = lastOf(t.mentions, lex, (m) => m.polarity === AFFIRMED && !m.superseded);
    if (aff && aff.start > neg.start) return false;
    t.record(neg);
    return true;
  },
  uncertain(t, lex) {
    const unk = lastOf(t.mentions, lex, (m) => m.polarity === UNCERTAIN);
    if (!unk || lastOf(t.mentions, lex, (m) => m.polarity === AFFIRMED)) return false;
    t.record(unk);
    return true;
  },
  count(t, lex) {
    const keys = new Set<string>();
    for (const m of t.mentions) {
      if (m.lex !== lex || m.polarity !== AFFIRMED || !m.subject || m.superseded || keys.has(m.key)) continue;
      keys.add(m.key);
      t.record(m);
    }
    return BigInt(keys.size);
  },
  anyAgeAtLeast(s, min) {
    let found = false;
    for (const a of s.ages) {
      if (a.age < min) continue;
      found = true;
      s.trace.items?.push({ field: a.field, text: a.text, start: a.start, end: a.end });
    }
    return found;
  },
  anyAgeUnder(s, max) {
    let found = false;
    for (const a of s.ages) {
      if (a.age >= max) continue;
      found = true;
      s.trace.items?.push({ field: a.field, text: a.text, start: a.start, end: a.end });
    }
    return found;
  },
};

/**
 * Builds the environment. `lexicon(name)` returns the lexicon's index, or -1 (never at run time:
 * the compiler rejects unknown lexicon names before a rule set can be used).
 */
export function createCelEnvironment(lexicon: (name: string) => number): Environment {
  const screeningFields = Object.fromEntries(SCREENING_KEYS.map((k) => [k, 'string']));
  return (
    new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64 } })
      .registerType('Text', { ctor: TextFacts, fields: {} })
      .registerType('CallType', { ctor: CallTypeFacts, fields: { code: 'string', description: 'string' } })
      .registerType('Subjects', { ctor: SubjectsFacts, fields: {} })
      .registerType('Screening', { ctor: ScreeningFacts, fields: screeningFields })
      .registerType('Location', { ctor: LocationFacts, fields: { placeType: 'string', premiseFlags: 'list<string>' } })
      .registerType('Caller', { ctor: CallerFacts, fields: { relationship: 'string' } })
      .registerType('RepeatCalls', { ctor: RepeatCallsFacts, fields: { byAddress: 'int', byCaller: 'int' } })
      .registerVariable('narrative', 'Text', { description: "The call-taker's comments" })
      .registerVariable('callType', 'CallType', { description: 'The CAD call type: code and description' })
      .registerVariable('subjects', 'Subjects', { description: 'The people the call is about' })
      .registerVariable('screening', 'Screening', {
        description: 'Screening answers: "yes", "no" or "unknown" (a missing answer is "unknown")',
      })
      .registerVariable('location', 'Location', { description: 'placeType and premiseFlags, lower case' })
      .registerVariable('caller', 'Caller', { description: 'relationship of the caller, lower case' })
      .registerVariable('source', 'string', { description: '"911", "10-digit", "text", "988-transfer", ...' })
      .registerVariable('priority', 'int', { description: 'CAD priority 1..9; 0 when not given' })
      .registerVariable('repeatCalls', 'RepeatCalls', { description: 'Recent calls from this address/caller' })
      .registerFunction(
        'mentions(Text, string): bool',
        (t: TextFacts, name: string) => FACT_FUNCTIONS.mentionsText(t, lexicon(name)),
        {
          description:
            'The text affirms a term of the lexicon about the subject: not negated ("denies SI"), not unknown ("UNK weapons"), not about the reporting party, not corrected later',
        },
      )
      .registerFunction(
        'mentions(CallType, string): bool',
        (c: CallTypeFacts, name: string) => FACT_FUNCTIONS.mentionsCallType(c, lexicon(name)),
        { description: "The call type's code is listed in the lexicon's codes, or its code or description has a term" },
      )
      .registerFunction(
        'mentionsAnyone(Text, string): bool',
        (t: TextFacts, name: string) => FACT_FUNCTIONS.mentionsAnyone(t, lexicon(name)),
        {
          description:
            'The text affirms a term of the lexicon about anyone, corrections included: the cautious reading for safety rules',
        },
      )
      .registerFunction(
        'denies(Text, string): bool',
        (t: TextFacts, name: string) => FACT_FUNCTIONS.denies(t, lexicon(name)),
        { description: 'The last word of the text on the lexicon is a negation ("NO ETOH", "NOT HOMELESS")' },
      )
      .registerFunction(
        'uncertain(Text, string): bool',
        (t: TextFacts, name: string) => FACT_FUNCTIONS.uncertain(t, lexicon(name)),
        { description: 'The text says a term of the lexicon is unknown ("UNK WEAPONS") and never affirms it' },
      )
      .registerFunction(
        'count(Text, string): int',
        (t: TextFacts, name: string) => FACT_FUNCTIONS.count(t, lexicon(name)),
        { description: 'How many different terms of the lexicon the text affirms about the subject' },
      )
      .registerFunction(
        'Subjects.anyAgeAtLeast(int): bool',
        (s: SubjectsFacts, n: bigint) => FACT_FUNCTIONS.anyAgeAtLeast(s, Number(n)),
        { description: 'Some subject is at least this old (subjects[].age, else an age in the narrative)' },
      )
      .registerFunction(
        'Subjects.anyAgeUnder(int): bool',
        (s: SubjectsFacts, n: bigint) => FACT_FUNCTIONS.anyAgeUnder(s, Number(n)),
        { description: 'Some subject is younger than this' },
      )
      .registerFunction('Subjects.ageKnown(): bool', (s: SubjectsFacts) => s.ages.length > 0, {
        description: 'Some subject has a known age',
      })
  );
}
