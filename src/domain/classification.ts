import { z } from 'zod';

/**
 * The rules engine's output for one call event: categories with evidence, the scene-safety gate
 * with its reasons, the screening questions that would settle an unknown, and whether EMS is needed.
 * The triage pipeline consumes it as is; every name here is part of the decision contract.
 */

export const GATE_VALUES = ['civilian_ok', 'co_response_only', 'police_secure_first'] as const;

/** Ordered from least to most cautious; the gate is the most cautious level any gate rule reaches. */
export const GateValueSchema = z
  .enum(GATE_VALUES)
  .describe(
    'civilian_ok: a civilian may attend alone; co_response_only: only with police; police_secure_first',
  );
export type GateValue = z.infer<typeof GateValueSchema>;

export const EvidenceSchema = z.object({
  ruleId: z.string().describe('The rule that produced this evidence'),
  field: z.string().describe("Where it was found: 'narrative', 'callType.code', 'subjects[0].age', ..."),
  text: z.string().optional().describe('The words or value that matched'),
  start: z.number().int().min(0).optional().describe('Offset of the match in the field (UTF-16 units)'),
  end: z.number().int().min(0).optional(),
  reason: z.string().describe("The rule's human reason"),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const CategoryResultSchema = z.object({
  category: z.string(),
  score: z.number(),
  evidence: z.array(EvidenceSchema),
});
export type CategoryResult = z.infer<typeof CategoryResultSchema>;

export const GateReasonSchema = z.object({
  ruleId: z.string(),
  reason: z.string(),
  field: z.string().optional(),
  text: z.string().optional(),
});
export type GateReason = z.infer<typeof GateReasonSchema>;

export const ScreeningQuestionSchema = z.object({
  key: z.string().describe('The screening key the answer is recorded under, e.g. weapons'),
  question: z.string().describe('What the call-taker should ask'),
  settles: z.string().describe('What the answer settles'),
});
export type ScreeningQuestion = z.infer<typeof ScreeningQuestionSchema>;

/**
 * The APCO ANS 2.103 common incident type of a call, and how the service found it. Part of every
 * classification and decision, so two towns' reports can be compared type by type.
 */

export const COMMON_TYPE_SOURCES = ['crosswalk', 'call', 'code', 'vocabulary', 'none'] as const;

export const CommonTypeSourceSchema = z
  .enum(COMMON_TYPE_SOURCES)
  .describe(
    "crosswalk: the jurisdiction's crosswalk row for the call's code or description; call: the " +
      "callType.commonType the CAD sent; code: the call's code is itself an APCO code; vocabulary: the " +
      'national default vocabulary matched the description or code; none: not placed',
  );
export type CommonTypeSource = z.infer<typeof CommonTypeSourceSchema>;

export const CommonTypeSchema = z
  .object({
    code: z.string().nullable().describe('The APCO 2.103 code, e.g. WEAPON; null when not placed'),
    name: z.string().nullable().describe('Its APCO name, e.g. "Weapon Violation"'),
    foundBy: CommonTypeSourceSchema,
    ref: z
      .string()
      .optional()
      .describe(
        "The crosswalk row ('crosswalk:<file>:<code>') or APCO type ('apco:<code>') that placed it: the " +
          'ruleId of its evidence and gate reason',
      ),
    file: z
      .string()
      .optional()
      .describe('The crosswalk file of that row or type, relative to the rules folder'),
    line: z.number().int().min(1).optional(),
    matched: z.string().optional().describe('The words of the call type the vocabulary matched'),
    floor: GateValueSchema.nullable().describe(
      'The least cautious gate this call type allows; null when not placed',
    ),
    categories: z.array(z.string()).describe('The category hints of the type (or row)'),
  })
  .meta({
    id: 'CommonType',
    description: 'The APCO 2.103 common incident type of a call and how it was found',
  });

export type CommonType = z.infer<typeof CommonTypeSchema>;

export const NO_COMMON_TYPE: CommonType = Object.freeze({
  code: null,
  name: null,
  foundBy: 'none',
  floor: null,
  categories: [],
}) as CommonType;

export const ClassificationSchema = z
  .object({
    rulesVersion: z.string().describe('Content hash of the rules files that made this classification'),
    categories: z
      .array(CategoryResultSchema)
      .describe('Categories that met their threshold, highest score first'),
    gate: z.object({ value: GateValueSchema, reasons: z.array(GateReasonSchema) }),
    screeningQuestions: z.array(ScreeningQuestionSchema),
    ems: z.object({
      needed: z.boolean(),
      reasons: z.array(z.object({ ruleId: z.string(), reason: z.string() })),
    }),
    commonType: CommonTypeSchema,
  })
  .meta({
    id: 'Classification',
    description: 'Categories, safety gate and screening questions for one call',
  });

export type Classification = z.infer<typeof ClassificationSchema>;
