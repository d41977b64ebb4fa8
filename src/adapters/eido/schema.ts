/**
 * The part of a NENA EIDO (NENA-STA-021, Emergency Incident Data Object, JSON) that the service
 * reads, as zod schemas. Our own schema, not NENA's: strict on every field the mapping reads (type,
 * length, timestamp format, non-empty component lists), loose everywhere else, so the many EIDO
 * components and fields we do not use pass through unchecked. The data model is in
 * shared/reference/nena-eido-openapi.yaml; the sample in nena-eido-sample-call-transfer.json.
 */
import { z } from 'zod';

/** NENA's media type for an EIDO (NENA-STA-010 §4.7.4); it may carry `;version="1"`. */
export const EIDO_MEDIA_TYPE = 'application/emergency.eido+json';

/** The longest note and the longest narrative made of all notes (the call event's own limit). */
export const MAX_NOTES_CHARS = 16_384;

/** An EIDO timestamp: ISO 8601 with a UTC offset, any fraction of a second ("14:42:00.0-04:00"). */
export const EidoTimestampSchema = z.iso.datetime({
  offset: true,
  error: (issue) =>
    issue.input === undefined
      ? 'required'
      : 'expected an ISO 8601 date-time with a UTC offset, e.g. 2021-04-30T14:43:49.439-04:00',
});

/** A reference to another data component of the same EIDO, by its `$id`. */
export const ReferenceSchema = z.object({ $ref: z.string().min(1).max(256) }).loose();

const references = z.array(ReferenceSchema).max(256).optional();

/** The common prologue of every data component: its id and when it last changed. */
const prologue = {
  $id: z.string().min(1).max(256),
  lastUpdateTimeStamp: EidoTimestampSchema,
};

/** APCO ANS 2.103 common incident type codes are upper-case letters and digits (EDP, SUICTHRT, 911H). */
export const CommonIncidentTypeSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,16}$/, 'expected an APCO 2.103 common incident type code, e.g. SUICTHRT')
  .transform((s) => s.toUpperCase());

export const IncidentComponentSchema = z
  .object({
    ...prologue,
    incidentTypeCommonRegistryText: CommonIncidentTypeSchema,
    incidentTypeInternalCode: z.string().trim().min(1).max(64).optional(),
    incidentTypeInternalText: z.string().max(256).optional(),
    locationReference: references,
    personReference: references,
    notesReference: references,
  })
  .loose();

export const CallComponentSchema = z
  .object({
    ...prologue,
    localCallType: z.string().trim().min(1).max(64).optional(),
    callBackReference: ReferenceSchema.optional(),
    locationReference: references,
    personReference: references,
  })
  .loose();

export const CallbackComponentSchema = z
  .object({ ...prologue, callBackInformationUri: z.array(z.string().max(256)).max(16).optional() })
  .loose();

export const AgencyComponentSchema = z
  .object({ ...prologue, incidentOwningAgencyIndicator: z.boolean().optional() })
  .loose();

/** A calendar date (NIEM nc:Date), as EIDO producers write a birth date: "1950-03-07". */
const BirthDateSchema = z.iso.date('expected a date, YYYY-MM-DD');

export const PersonComponentSchema = z
  .object({
    ...prologue,
    personIncidentRoleRegistryText: z.array(z.string().trim().min(1).max(64)).min(1).max(16),
    ncPersonComponent: z
      .object({
        // NIEM nc:PersonBirthDate: a list of nc:DateType, read as { date } or a bare date string.
        birthDate: z
          .array(z.union([BirthDateSchema, z.object({ date: BirthDateSchema }).loose()]))
          .max(4)
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

export const LocationComponentSchema = z
  .object({
    ...prologue,
    locationTypeDescriptionRegistryText: z.string().trim().min(1).max(64),
    // PIDF-LO XML (RFC 4119 / RFC 5139 civic address, GML geodetic shapes).
    locationByValue: z
      .string()
      .max(64 * 1024)
      .optional(),
    locationByReferenceUrl: z.string().max(2048).optional(),
  })
  .loose();

export const NotesComponentSchema = z
  .object({
    ...prologue,
    notesActionComments: z
      .string()
      .max(MAX_NOTES_CHARS, `a note may be at most ${MAX_NOTES_CHARS} characters`),
  })
  .loose();

/** A component list the service reads: absent is fine, present means at least one entry. */
const components = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).min(1, 'an empty component list: leave the key out instead').max(max).optional();

/**
 * The EIDO as the service reads it. `incidentComponent` is a single object in the STA-021.1b data
 * model and an array in earlier drafts: both are accepted (an array must hold exactly one incident)
 * and it is checked separately, see `readIncident`.
 */
export const EidoSchema = z
  .object({
    $id: z.string().min(1).max(128).describe('The incident tracking id (urn:emergency:uid:incidentid:...)'),
    lastUpdateTimeStamp: EidoTimestampSchema.describe('When the EIDO last changed: orders revisions'),
    updatedByAgencyReference: ReferenceSchema,
    eidoVersion: z.string().regex(/^1(\.\d+)*$/, 'expected EIDO version 1.x'),
    incidentComponent: z.unknown().optional(),
    callComponent: components(CallComponentSchema, 64),
    callbackComponent: components(CallbackComponentSchema, 64),
    agencyComponent: z.array(AgencyComponentSchema).min(1, 'an EIDO names at least one agency').max(64),
    personComponent: components(PersonComponentSchema, 64),
    locationComponent: components(LocationComponentSchema, 64),
    notesComponent: components(NotesComponentSchema, 1000),
  })
  .loose()
  .meta({
    id: 'NenaEido',
    description:
      'A NENA EIDO (NENA-STA-021), media type application/emergency.eido+json: the fields the service reads; every other EIDO field is accepted and ignored',
  });

export type Eido = z.infer<typeof EidoSchema>;
export type IncidentComponent = z.infer<typeof IncidentComponentSchema>;
export type PersonComponent = z.infer<typeof PersonComponentSchema>;
export type LocationComponent = z.infer<typeof LocationComponentSchema>;
