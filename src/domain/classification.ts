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
  })
  .meta({
    id: 'Classification',
    description: 'Categories, safety gate and screening questions for one call',
  });

export type Classification = z.infer<typeof ClassificationSchema>;
