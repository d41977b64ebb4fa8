import { z } from 'zod';

/**
 * The v1 CAD call event (see shared/eval/README.md). One schema is the single source for
 * validation, TypeScript types, OpenAPI and AsyncAPI. Unknown fields are accepted and kept
 * (CADs send more than we read), but every field we read is checked.
 */

/** A CAD priority: 1 is the most urgent. */
export const PrioritySchema = z.number().int().min(1).max(9);

export const ScreeningAnswerSchema = z.enum(['yes', 'no', 'unknown']);
export type ScreeningAnswer = z.infer<typeof ScreeningAnswerSchema>;

/** The screening keys the guide defines; a missing key means unknown. */
export const SCREENING_KEYS = [
  'weapons',
  'violence',
  'threatsToOthers',
  'injuries',
  'crimeInProgress',
  'medicalEmergency',
  'substanceInvolved',
] as const;
export type ScreeningKey = (typeof SCREENING_KEYS)[number];

export const ScreeningSchema = z
  .object(Object.fromEntries(SCREENING_KEYS.map((k) => [k, ScreeningAnswerSchema.optional()])))
  .partial()
  .loose()
  .describe('Screening answers of the call-taker; a missing key means unknown');

export const CallSourceSchema = z.enum([
  '911',
  '10-digit',
  'text',
  '988-transfer',
  'officer',
  'alarm',
  'walk-in',
]);

export const AgencySchema = z.object({
  id: z.string().min(1).max(64).describe("The agency's ORI or PSAP id"),
  jurisdiction: z.string().min(1).max(64).describe('Picks the routing policy'),
});

export const CallTypeSchema = z.object({
  code: z.string().min(1).max(64).describe("The CAD's own call-type code"),
  description: z.string().max(256).optional(),
  commonType: z
    .string()
    .min(1)
    .max(16)
    .optional()
    .describe('The APCO 2.103 common incident type code, when the CAD sends one (e.g. from a NENA EIDO)'),
});

export const LocationSchema = z
  .object({
    address: z.string().max(512).optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    placeType: z.string().max(64).optional().describe('residence, school, shelter, encampment, street, ...'),
    premiseFlags: z
      .array(z.string().min(1).max(64))
      .max(64)
      .optional()
      .describe('e.g. prior_violence, officer_safety, weapons_on_file'),
  })
  .loose();

export const CallerSchema = z
  .object({
    relationship: z.string().max(64).optional().describe('self, family, neighbor, staff, passerby, ...'),
    phone: z.string().max(64).optional(),
  })
  .loose();

export const SubjectSchema = z
  .object({
    age: z.number().int().min(0).max(130).optional(),
    role: z.string().max(64).optional(),
  })
  .loose();

export const CallEventSchema = z
  .object({
    eventId: z.string().min(1).max(128).describe('Unique per event; the idempotency key'),
    incidentId: z.string().min(1).max(128).describe('The CAD incident number; revisions share it'),
    revision: z.number().int().min(1).describe('Grows with each update of the same incident'),
    occurredAt: z.iso.datetime({ offset: true }).describe('When CAD recorded this revision'),
    agency: AgencySchema,
    callType: CallTypeSchema,
    priority: PrioritySchema.optional().describe('1 is the most urgent'),
    source: CallSourceSchema.optional(),
    location: LocationSchema.optional(),
    narrative: z.string().max(16_384).optional().describe("The call-taker's free-text comments"),
    caller: CallerSchema.optional(),
    subjects: z.array(SubjectSchema).max(64).optional(),
    screening: ScreeningSchema.optional(),
  })
  .loose()
  .meta({ id: 'CallEvent', description: 'A CAD call event, version 1' });

export type CallEvent = z.infer<typeof CallEventSchema>;
