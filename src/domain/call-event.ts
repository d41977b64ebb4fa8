import { z } from 'zod';

/**
 * The v1 CAD call event (see shared/eval/README.md). One schema is the single source for
 * validation, TypeScript types, OpenAPI and AsyncAPI. Unknown fields are accepted and kept
 * (CADs send more than we read), but every field we read is checked.
 */

/** The longest id accepted (event, incident, agency, jurisdiction): one limit everywhere. */
export const MAX_ID_LENGTH = 128;
/** The largest revision: PostgreSQL's integer. */
export const MAX_REVISION = 2_147_483_647;
/** How deep the event's JSON may nest (unknown fields are kept, and must stay storable). */
export const MAX_DEPTH = 16;
/** How many values (strings, numbers, objects, ...) the event's JSON may hold in all. */
export const MAX_VALUES = 5000;

/** Control, format, private-use, unassigned characters and unpaired surrogates: none belong in an id. */
const NOT_PRINTABLE = /\p{C}/u;

/** An identifier: printable characters only, at most MAX_ID_LENGTH. */
const id = (description: string) =>
  z
    .string()
    .min(1)
    .max(MAX_ID_LENGTH)
    .refine((v) => !NOT_PRINTABLE.test(v), { error: 'printable characters only (no control characters)' })
    .describe(`${description}; printable characters only`);

/**
 * Everything storage would refuse, refused here instead (so it is a 400 or a validation dead letter on
 * the first try, never a database error): strings — values and keys, known or unknown fields — must be
 * well-formed UTF-16 (no unpaired surrogate: PostgreSQL's jsonb refuses them), and the JSON must not
 * nest deeper than MAX_DEPTH nor hold more than MAX_VALUES values.
 */
function storable(value: unknown, ctx: z.RefinementCtx) {
  let count = 0;
  let reported = false;
  const report = (path: PropertyKey[], message: string) => {
    if (reported) return;
    reported = true;
    ctx.addIssue({ code: 'custom', path, message });
  };
  const walk = (v: unknown, path: PropertyKey[], depth: number) => {
    if (reported) return;
    if (++count > MAX_VALUES) return report([], `at most ${MAX_VALUES} values in all`);
    if (typeof v === 'string') {
      if (!v.isWellFormed()) report(path, 'contains an unpaired UTF-16 surrogate');
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (depth >= MAX_DEPTH) return report(path, `nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i], depth + 1));
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      if (!key.isWellFormed()) return report(path, 'a field name contains an unpaired UTF-16 surrogate');
      walk(item, [...path, key], depth + 1);
    }
  };
  walk(value, [], 0);
}

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
  id: id("The agency's ORI or PSAP id"),
  jurisdiction: id('Picks the routing policy'),
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
    eventId: id('Unique per event; the idempotency key'),
    incidentId: id('The CAD incident number; revisions share it'),
    revision: z
      .number()
      .int()
      .min(1)
      .max(MAX_REVISION)
      .describe('Grows with each update of the same incident'),
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
  .superRefine(storable)
  .meta({
    id: 'CallEvent',
    description: `A CAD call event, version 1. Every string well-formed UTF-16; at most ${MAX_DEPTH} levels of nesting and ${MAX_VALUES} values in all.`,
  });

export type CallEvent = z.infer<typeof CallEventSchema>;
