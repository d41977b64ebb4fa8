import { z } from 'zod';
import { GateValueSchema } from '../domain/classification.ts';

/**
 * The call-type crosswalk format: YAML files in `rules/calltypes/`, beside the triage rules and part
 * of the rules version. One file (by convention `national.yaml`) lists the APCO ANS 2.103 common
 * incident types with their gate floor, category hints and description patterns (the default
 * vocabulary); every other file maps one or more jurisdictions' CAD codes and descriptions to those
 * types. The JSON Schema under `rules/schema/` is generated from these zod schemas.
 */

/** The folder of the crosswalk files, under the rules folder. */
export const CROSSWALK_SUBDIR = 'calltypes';

const CategoryId = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits, "_", "." or "-", starting with a letter')
  .max(80);

/** An APCO 2.103 code as written in the standard: upper-case letters and digits ("EDP", "911H"). */
export const ApcoCodeSchema = z
  .string()
  .regex(/^[A-Z0-9]{1,16}$/, 'an APCO 2.103 code: upper-case letters and digits, e.g. EDP, WEAPON, 911H')
  .describe('An APCO ANS 2.103 common incident type code');

// YAML reads `415` and `10-56` as numbers or strings: a code or a pattern is always text.
const Text = (max: number) =>
  z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1).max(max));

const Floor = GateValueSchema.describe(
  'The least cautious gate a call of this type may get: police_secure_first for violent, weapon, domestic ' +
    'violence, abduction, hostage, robbery, shooting and stabbing types; co_response_only when risk is ' +
    'moderate or unknown by nature; civilian_ok when the call type itself raises no risk',
);

/** One APCO common incident type, as the national file defines it. */
export const CommonTypeDefSchema = z
  .object({
    code: ApcoCodeSchema,
    name: z.string().min(1).max(200).describe('The name of the type in APCO ANS 2.103'),
    floor: Floor,
    categories: z
      .array(CategoryId)
      .default([])
      .describe('Category hints: a call of this type gets each, as evidence from its call type'),
    patterns: z
      .array(Text(1000))
      .default([])
      .describe(
        'Description patterns in the lexicon term syntax (case, spacing and abbreviations do not matter; ' +
          'negated mentions do not count): the default vocabulary that places a call type no crosswalk row names',
      ),
    except: z
      .array(Text(1000))
      .default([])
      .describe('Phrases that cancel a pattern they overlap ("non violent" is not "violent")'),
  })
  .strict();

/** One row of a jurisdiction's crosswalk: its CAD's code and/or description -> an APCO type. */
export const CrosswalkRowSchema = z
  .object({
    code: Text(64).optional().describe("The CAD's own call-type code, compared without case"),
    description: Text(256)
      .optional()
      .describe('The CAD description; used when no row has the code (compared without case or spacing)'),
    apco: ApcoCodeSchema.describe('The APCO 2.103 common incident type this call type is'),
    categories: z
      .array(CategoryId)
      .optional()
      .describe("Category hints; replace the APCO type's when given ([] for none)"),
    floor: Floor.optional().describe(
      "A floor more cautious than the APCO type's (never less cautious); the type's floor when left out",
    ),
    note: z
      .string()
      .max(500)
      .optional()
      .describe('Why this mapping (the import command writes its reason here)'),
  })
  .strict()
  .refine((r) => r.code !== undefined || r.description !== undefined, {
    message: 'a crosswalk row needs a code or a description',
  });

/** A call type the import command could not map: listed for a person to decide, never used. */
export const ReviewRowSchema = z
  .object({
    code: Text(64).optional(),
    description: Text(256).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();

/** One crosswalk file. The national file has `commonTypes`; a jurisdiction file `jurisdictions` and `callTypes`. */
export const CrosswalkFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    commonTypes: z
      .array(CommonTypeDefSchema)
      .optional()
      .describe('The APCO 2.103 common incident types (the national default; one file defines them)'),
    jurisdictions: z
      .array(z.string().min(1).max(64))
      .min(1)
      .optional()
      .describe('The jurisdictions (routing policy ids) whose CAD this file maps; several may share it'),
    callTypes: z.array(CrosswalkRowSchema).optional().describe("The CAD's call types mapped to APCO types"),
    review: z
      .array(ReviewRowSchema)
      .optional()
      .describe('Call types still to be mapped by a person; not used until moved to callTypes'),
  })
  .strict()
  .meta({ id: 'CadTriageCallTypeCrosswalk', title: 'cad-triage call-type crosswalk file' });

export type CommonTypeDef = z.infer<typeof CommonTypeDefSchema>;
export type CrosswalkRow = z.infer<typeof CrosswalkRowSchema>;
export type CrosswalkFile = z.infer<typeof CrosswalkFileSchema>;
