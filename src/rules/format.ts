import { z } from 'zod';
import { GateValueSchema } from '../domain/classification.ts';
import { SCREENING_KEYS } from '../domain/call-event.ts';

/**
 * The rules file format: the admin's interface. Every top-level `*.yaml` file in a rules folder
 * may hold any of these sections; the loader merges them and reports duplicates. Rule test files
 * live in `tests/` and use {@link RuleTestFileSchema}. The JSON Schema under `rules/schema/` is
 * generated from these zod schemas (`cad-triage rules schema`), so editors can check files as typed.
 */

const Id = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits, "_", "." or "-", starting with a letter')
  .max(80);

/** A CEL condition. Integers are CEL ints (`65`), strings use single or double quotes. */
const Condition = z.string().min(1).max(4000).describe('A CEL expression that evaluates to bool');

const OneOrMany = z.union([Id, z.array(Id).min(1)]);

/**
 * A term is a phrase of words, matched on normalized tokens (case, spacing and abbreviations do
 * not matter). Syntax: `word*` matches any word starting with "word"; `(a|b c)` is one of the
 * alternatives; `(a|b)?` is optional; `~` or `~N` skips up to 3 (or N) words of the same clause.
 */
// YAML reads `5150` as a number; a term or code is always text.
const Term = z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(1000));

export const LexiconSchema = z
  .object({
    id: Id,
    description: z.string().max(500).optional(),
    terms: z.array(Term).default([]).describe('Words and phrases, with CAD abbreviations'),
    codes: z
      .array(z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(64)))
      .default([])
      .describe('Call-type codes that mean this, compared without case (for mentions(callType, ...))'),
    except: z
      .array(Term)
      .default([])
      .describe('Phrases that cancel a term they overlap: "fell and hit her head" is not "hit her"'),
  })
  .strict()
  .refine((l) => l.terms.length + l.codes.length > 0, { message: 'a lexicon needs terms or codes' });

export const CategorySchema = z
  .object({
    id: Id,
    title: z.string().max(120).optional(),
    description: z.string().max(1000).optional(),
    threshold: z.number().positive().default(1).describe('Sum of rule weights a call needs to get it'),
    unless: Condition.optional().describe('When true, the category is withheld whatever its score'),
    unlessReason: z.string().max(300).optional(),
  })
  .strict();

const MatchSchema = z
  .object({
    narrative: OneOrMany.optional(),
    callType: OneOrMany.optional(),
  })
  .strict()
  .describe('Shorthand: true when any listed lexicon is mentioned (AND-ed with `when`)');

const ConditionFields = {
  when: Condition.optional(),
  match: MatchSchema.optional(),
};

const needsCondition = (r: { when?: string | undefined; match?: object | undefined }) =>
  r.when !== undefined || r.match !== undefined;

export const CategoryRuleSchema = z
  .object({
    id: Id,
    category: Id,
    weight: z.number().min(0).max(10).default(1),
    reason: z.string().min(1).max(300),
    ...ConditionFields,
  })
  .strict()
  .refine(needsCondition, { message: 'a rule needs `when` or `match`' });

export const GateRuleSchema = z
  .object({
    id: Id,
    level: GateValueSchema,
    reason: z.string().min(1).max(300),
    ...ConditionFields,
  })
  .strict()
  .refine(needsCondition, { message: 'a gate rule needs `when` or `match`' });

export const EmsRuleSchema = z
  .object({
    id: Id,
    reason: z.string().min(1).max(300),
    ...ConditionFields,
  })
  .strict()
  .refine(needsCondition, { message: 'an EMS rule needs `when` or `match`' });

const ScreeningKey = z.enum(SCREENING_KEYS);

export const QuestionSchema = z
  .object({
    key: ScreeningKey,
    question: z.string().min(1).max(300),
    settles: z.string().min(1).max(300),
    when: Condition.optional().describe(
      'When to ask; by default, when the key is required for civilian_ok and not answered',
    ),
  })
  .strict();

export const GateSchema = z
  .object({
    requireForCivilian: z
      .array(ScreeningKey)
      .refine((keys) => keys.includes('weapons') && keys.includes('violence'), {
        message: 'must include weapons and violence: unknown weapons or violence is never civilian_ok',
      })
      .optional()
      .describe('Screening keys that must be answered "no" before civilian_ok is possible'),
    rules: z.array(GateRuleSchema).default([]),
  })
  .strict();

const Phrases = z.array(z.string().min(1).max(100));

export const TextSettingsSchema = z
  .object({
    abbreviations: z
      .record(z.string().min(1).max(20), z.string().min(1).max(100))
      .default({})
      .describe('CAD abbreviation -> expansion, applied to narratives and terms alike'),
    negation: z
      .object({
        window: z.number().int().min(1).max(12).default(5).describe('Words a negation reaches'),
        pre: Phrases.default([]).describe('Negation before the term: "no", "denies", "neg"'),
        post: Phrases.default([]).describe('Negation after the term: "denied", "ruled out"'),
        uncertain: Phrases.default([]).describe('Unknowns before the term: "unk", "unsure if"'),
        pseudo: Phrases.default([]).describe('Look like negations but are not: "not only", "no change"'),
        terminators: Phrases.default([]).describe('End a negation scope: "but", "however"'),
        conjunctions: Phrases.default([]).describe('Carry a negation to the next listed term: "or", "and"'),
      })
      .strict()
      .default({ window: 5, pre: [], post: [], uncertain: [], pseudo: [], terminators: [], conjunctions: [] }),
    reporter: z
      .object({
        anchors: Phrases.default([]).describe('Words that start a clause about the reporting party: "rp"'),
        callerAnchors: Phrases.default([]).describe('Anchors only when the caller is not the subject'),
        verbs: Phrases.default([]).describe('Reporting verbs that end that clause: "adv", "states"'),
      })
      .strict()
      .default({ anchors: [], callerAnchors: [], verbs: [] }),
    bystanderRoles: z
      .array(z.string().min(1).max(64))
      .default(['caller', 'rp', 'reporting_party', 'witness', 'complainant'])
      .describe('subjects[].role values that are not the subject of the call'),
  })
  .strict();

/** One rules file. Every section is optional; the merged rule set must be complete. */
export const RulesFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    text: TextSettingsSchema.optional(),
    categories: z.array(CategorySchema).optional(),
    lexicons: z.array(LexiconSchema).optional(),
    rules: z.array(CategoryRuleSchema).optional(),
    gate: GateSchema.optional(),
    ems: z.array(EmsRuleSchema).optional(),
    questions: z.array(QuestionSchema).optional(),
  })
  .strict()
  .meta({ id: 'CadTriageRulesFile', title: 'cad-triage rules file' });

export type RulesFile = z.infer<typeof RulesFileSchema>;
export type Lexicon = z.infer<typeof LexiconSchema>;
export type Category = z.infer<typeof CategorySchema>;
export type CategoryRule = z.infer<typeof CategoryRuleSchema>;
export type GateRule = z.infer<typeof GateRuleSchema>;
export type EmsRule = z.infer<typeof EmsRuleSchema>;
export type Question = z.infer<typeof QuestionSchema>;
export type TextSettings = z.infer<typeof TextSettingsSchema>;

/** What a rule test expects. Categories and gate are compared exactly when given. */
export const RuleTestExpectSchema = z
  .object({
    categories: z.array(Id).optional().describe('Exactly these categories (any order)'),
    gate: GateValueSchema.optional(),
    evidence: z
      .array(Id)
      .default([])
      .describe('Rule ids that must fire (category evidence, gate reason or EMS reason)'),
    notEvidence: z.array(Id).default([]).describe('Rule ids that must not fire'),
    ems: z.boolean().optional(),
    questions: z.array(ScreeningKey).optional().describe('Exactly these screening question keys'),
    commonType: z
      .string()
      .optional()
      .describe("The APCO 2.103 type the call type resolves to (calltypes/); 'none' when it is not placed"),
  })
  .strict();

/**
 * A rule test case. `call` is a call event where the ids, time and agency may be left out (the
 * runner fills them in), so a case stays as short as the behaviour it pins down.
 */
export const RuleTestCaseSchema = z
  .object({
    name: z.string().min(1).max(200),
    call: z.record(z.string(), z.unknown()),
    context: z
      .object({ repeatCalls: z.object({ byAddress: z.number().int(), byCaller: z.number().int() }) })
      .partial()
      .optional(),
    expect: RuleTestExpectSchema,
  })
  .strict();

export const RuleTestFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    tests: z.array(RuleTestCaseSchema).min(1),
  })
  .strict()
  .meta({ id: 'CadTriageRuleTests', title: 'cad-triage rule tests file' });

export type RuleTestCase = z.infer<typeof RuleTestCaseSchema>;
export type RuleTestFile = z.infer<typeof RuleTestFileSchema>;
