/**
 * Facts: what the rule conditions see of a call. Built once per call (the narrative is matched
 * once here) and then read by every condition. The classes are registered as CEL types in
 * `cel-env.ts`; their fields are the names a rule author writes (`screening.weapons`,
 * `location.premiseFlags`, `subjects.anyAgeAtLeast(65)`).
 */
import type { CallEvent, ScreeningAnswer } from '../domain/call-event.ts';
import { SCREENING_KEYS } from '../domain/call-event.ts';
import { AFFIRMED, analyze, type AnalyzedText, type Matcher, type Mention } from './text.ts';

/** One piece of evidence a fact function records while a condition is evaluated. */
export interface TraceItem {
  field: string;
  text?: string;
  start?: number;
  end?: number;
}

/**
 * Where fact functions write what they matched. The evaluator sets `items` to a fresh array
 * before a rule and reads it after; `null` turns recording off.
 */
export interface Trace {
  items: TraceItem[] | null;
}

export class TextFacts {
  readonly field: string;
  readonly text: string;
  readonly mentions: Mention[];
  readonly trace: Trace;
  constructor(field: string, text: string, mentions: Mention[], trace: Trace) {
    this.field = field;
    this.text = text;
    this.mentions = mentions;
    this.trace = trace;
  }
  record(m: Mention): void {
    this.trace.items?.push({ field: this.field, text: this.text.slice(m.start, m.end), start: m.start, end: m.end });
  }
}

export class CallTypeFacts {
  readonly code: string;
  readonly description: string;
  /** Lexicons whose `codes` list this call's code. */
  readonly codeLex: ReadonlySet<number>;
  readonly codeText: TextFacts;
  readonly descriptionText: TextFacts;
  readonly trace: Trace;
  /** Some lexicon lists the code or has a term in the code or description (negated or not). */
  readonly recognised: boolean;
  constructor(
    code: string,
    description: string,
    codeLex: ReadonlySet<number>,
    codeText: TextFacts,
    descriptionText: TextFacts,
    trace: Trace,
  ) {
    this.code = code;
    this.description = description;
    this.codeLex = codeLex;
    this.codeText = codeText;
    this.descriptionText = descriptionText;
    this.trace = trace;
    this.recognised = codeLex.size > 0 || codeText.mentions.length > 0 || descriptionText.mentions.length > 0;
  }
}

export interface AgeFact {
  age: number;
  field: string;
  text: string;
  start?: number;
  end?: number;
}

export class SubjectsFacts {
  readonly ages: AgeFact[];
  readonly trace: Trace;
  constructor(ages: AgeFact[], trace: Trace) {
    this.ages = ages;
    this.trace = trace;
  }
}

export class ScreeningFacts {
  weapons: ScreeningAnswer = 'unknown';
  violence: ScreeningAnswer = 'unknown';
  threatsToOthers: ScreeningAnswer = 'unknown';
  injuries: ScreeningAnswer = 'unknown';
  crimeInProgress: ScreeningAnswer = 'unknown';
  medicalEmergency: ScreeningAnswer = 'unknown';
  substanceInvolved: ScreeningAnswer = 'unknown';
}

export class LocationFacts {
  readonly placeType: string;
  readonly premiseFlags: string[];
  constructor(placeType: string, premiseFlags: string[]) {
    this.placeType = placeType;
    this.premiseFlags = premiseFlags;
  }
}

export class CallerFacts {
  readonly relationship: string;
  constructor(relationship: string) {
    this.relationship = relationship;
  }
}

export class RepeatCallsFacts {
  readonly byAddress: bigint;
  readonly byCaller: bigint;
  constructor(byAddress: bigint, byCaller: bigint) {
    this.byAddress = byAddress;
    this.byCaller = byCaller;
  }
}

/** The CEL evaluation context of one call. */
export interface Facts {
  narrative: TextFacts;
  callType: CallTypeFacts;
  subjects: SubjectsFacts;
  screening: ScreeningFacts;
  location: LocationFacts;
  caller: CallerFacts;
  source: string;
  priority: bigint;
  repeatCalls: RepeatCallsFacts;
  /** Lexicons with an affirmed mention anywhere (narrative or call type): the rule prefilter. */
  hits: Uint8Array;
  trace: Trace;
}

export interface EvaluationContext {
  repeatCalls?: { byAddress: number; byCaller: number };
}

export interface FactSources {
  matcher: Matcher;
  /** Upper-cased call-type code -> lexicon indexes that list it. */
  codeIndex: ReadonlyMap<string, readonly number[]>;
  lexiconCount: number;
  bystanderRoles: ReadonlySet<string>;
}

// Ages written in a narrative: "79 YO", "M 81", "F 30S", "IN THEIR 80S", "AGE 15", ", 91,".
const AGE_PATTERNS: Array<[RegExp, number]> = [
  [/\b(\d{1,3})\s?(?:yo|y\/o|yoa|yrs?\.? old|years? old|-?year-old)\b/gi, 1],
  [/\b(?:m|f|male|female|man|woman|boy|girl|son|daughter)\s*,?\s*(?:approx\.?\s*|apx\s*|about\s*)?(\d{1,3})(s?)\b/gi, 1],
  [/\bin\s+(?:his|her|their)\s+(\d)0'?s\b/gi, 10],
  [/\bage[d]?\s*:?\s*(\d{1,3})\b/gi, 1],
  [/[a-z]\s*[,(]\s*(\d{1,3})\s*[,)]/gi, 1],
];

function narrativeAges(text: string, reporterSpans: Array<[number, number]>): AgeFact[] {
  const out: AgeFact[] = [];
  const seen = new Set<number>();
  for (const [re, mult] of AGE_PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const age = Number(m[1]) * mult;
      const start = m.index + m[0].indexOf(m[1]!);
      if (age > 120 || seen.has(start)) continue;
      // An age inside a clause about the reporting party is the RP's ("RP, 72, A RETIRED NURSE").
      if (reporterSpans.some(([s, e]) => start >= s && start < e)) continue;
      seen.add(start);
      out.push({ age, field: 'narrative', text: m[0].trim(), start: m.index, end: m.index + m[0].length });
    }
  }
  return out;
}

function screeningOf(call: CallEvent): ScreeningFacts {
  const s = new ScreeningFacts();
  const given = call.screening as Record<string, ScreeningAnswer | undefined> | undefined;
  if (given) {
    for (const k of SCREENING_KEYS) {
      const v = given[k];
      if (v === 'yes' || v === 'no' || v === 'unknown') s[k] = v;
    }
  }
  return s;
}

/**
 * Call-type codes and descriptions come from a short list per agency, so their analysis is cached
 * per rule set (keyed by text; the analysis is a pure function of it, so results never change).
 */
const callTypeCache = new WeakMap<FactSources, Map<string, AnalyzedText>>();

function analyzeCached(src: FactSources, text: string): AnalyzedText {
  let cache = callTypeCache.get(src);
  if (!cache) callTypeCache.set(src, (cache = new Map()));
  let hit = cache.get(text);
  if (!hit) {
    hit = analyze(src.matcher, text, true);
    if (cache.size > 10_000) cache.clear();
    cache.set(text, hit);
  }
  return hit;
}

/** Lexicons that list a call-type code, cached per rule set and code as written. */
const codeLexCache = new WeakMap<FactSources, Map<string, ReadonlySet<number>>>();

function codeLexicons(src: FactSources, code: string): ReadonlySet<number> {
  let cache = codeLexCache.get(src);
  if (!cache) codeLexCache.set(src, (cache = new Map()));
  let hit = cache.get(code);
  if (!hit) {
    hit = new Set(src.codeIndex.get(code.toUpperCase()) ?? []);
    if (cache.size > 10_000) cache.clear();
    cache.set(code, hit);
  }
  return hit;
}

/** Builds the facts of one call; runs the matcher once over the narrative and the call type. */
export function buildFacts(src: FactSources, call: CallEvent, context?: EvaluationContext): Facts {
  const trace: Trace = { items: null };
  const hits = new Uint8Array(src.lexiconCount);
  const relationship = (call.caller?.relationship ?? '').toLowerCase();
  const callerIsSubject = relationship === 'self';

  const narrativeText = call.narrative ?? '';
  const analyzed = analyze(src.matcher, narrativeText, callerIsSubject);
  for (const m of analyzed.mentions) if (m.polarity === AFFIRMED) hits[m.lex] = 1;
  const narrative = new TextFacts('narrative', narrativeText, analyzed.mentions, trace);

  const code = call.callType.code.trim();
  const description = call.callType.description ?? '';
  const codeLex = codeLexicons(src, code);
  for (const l of codeLex) hits[l] = 1;
  const codeAnalyzed = analyzeCached(src, code);
  const descAnalyzed = analyzeCached(src, description);
  for (const m of codeAnalyzed.mentions) if (m.polarity === AFFIRMED) hits[m.lex] = 1;
  for (const m of descAnalyzed.mentions) if (m.polarity === AFFIRMED) hits[m.lex] = 1;
  const callType = new CallTypeFacts(
    code,
    description,
    codeLex,
    new TextFacts('callType.code', code, codeAnalyzed.mentions, trace),
    new TextFacts('callType.description', description, descAnalyzed.mentions, trace),
    trace,
  );

  // Structured ages are authoritative; narrative ages are used only when no subject has one.
  const ages: AgeFact[] = [];
  (call.subjects ?? []).forEach((s, i) => {
    const role = (s.role ?? '').toLowerCase();
    if (s.age === undefined || src.bystanderRoles.has(role)) return;
    ages.push({ age: s.age, field: `subjects[${i}].age`, text: String(s.age) });
  });
  if (ages.length === 0) ages.push(...narrativeAges(narrativeText, analyzed.reporterSpans));

  const loc = call.location;
  const rc = context?.repeatCalls;
  return {
    narrative,
    callType,
    subjects: new SubjectsFacts(ages, trace),
    screening: screeningOf(call),
    location: new LocationFacts(
      (loc?.placeType ?? '').trim().toLowerCase(),
      (loc?.premiseFlags ?? []).map((f) => f.trim().toLowerCase()),
    ),
    caller: new CallerFacts(relationship),
    source: call.source ?? '',
    priority: BigInt(call.priority ?? 0),
    repeatCalls: new RepeatCallsFacts(BigInt(rc?.byAddress ?? 0), BigInt(rc?.byCaller ?? 0)),
    hits,
    trace,
  };
}
