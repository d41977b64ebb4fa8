/**
 * The routing policy file format, as zod schemas. A policies folder holds YAML files; each may
 * define responder pools, jurisdictions, or both. Pool ids are global, so a pool defined once (in
 * `shared-pools.yaml`, say) can be listed by several jurisdictions: a regional social worker, the
 * statewide 211 line, the DMHAS mobile crisis teams.
 *
 * These schemas check shape only; the compile stages check what needs the whole folder (references,
 * duplicates, time zones, schedule windows) and report each problem with its file and line.
 */
import { z } from 'zod';
import { PrioritySchema } from '../domain/call-event.ts';
import { PoolModelSchema } from '../domain/routing.ts';

const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id: letters, digits, - and _')
  .max(64);

export const RepeatThresholdSchema = z.strictObject({
  count: z
    .number()
    .int()
    .min(1)
    .describe('Open a follow-up referral from this many calls (this one included)'),
  windowDays: z.number().int().min(1).max(365).describe('Counting window, in days'),
});

export const PoolSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1).describe('What the dispatcher sees'),
  model: PoolModelSchema,
  description: z.string().optional(),
  categories: z
    .array(z.string())
    .min(1)
    .describe("Categories the pool handles; '*' for any. A call is handled only if every category is"),
  mayAttendAlone: z.boolean().describe('May go to a call without police (never for interns)'),
  ages: z
    .strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
    .optional()
    .describe('Ages served, inclusive (youth mobile crisis: max 17)'),
  schedule: z
    .union([z.string(), z.array(z.string()).min(1)])
    .describe("Weekly windows: 'always', 'mon-fri 08:00-16:00', 'daily 08:00-03:00' (ends next day)"),
  timeZone: z.string().optional().describe("IANA zone of the schedule; defaults to the jurisdiction's"),
  onCall: z.boolean().optional().describe('Called in as needed rather than on patrol'),
  contact: z.string().optional().describe('How dispatch reaches them'),
});
export type PoolSpec = z.infer<typeof PoolSchema>;

export const JurisdictionSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1),
  description: z.string().optional(),
  timeZone: z.string().describe('IANA time zone, e.g. America/New_York'),
  agencies: z
    .array(z.string().min(1).max(128))
    .optional()
    .describe(
      "Ids of the agencies whose incidents belong here (a NENA EIDO agency's $id such as psap.example.ct.us, an ORI): how an EIDO's agency picks this policy",
    ),
  urgentPriority: PrioritySchema.optional().describe(
    'CAD priorities from 1 up to this one are urgent: a referral line alone is never enough (default 2)',
  ),
  pools: z.array(z.string()).describe('Pool ids in order of preference'),
  fallback: z
    .array(z.string())
    .describe(
      "When none of the pools is suitable, tried in order: a pool id, 'police', or 'referral:<pool id>'",
    ),
  // Optional here so that a missing follow-up gets its own diagnostic code rather than a schema error.
  followUp: z
    .strictObject({
      pool: z.string().optional(),
      always: z.boolean().optional().describe('Open a follow-up after every call with a category'),
      repeatCalls: z
        .strictObject({
          byAddress: RepeatThresholdSchema.optional(),
          byCaller: RepeatThresholdSchema.optional(),
        })
        .optional(),
    })
    .optional(),
});
export type JurisdictionSpec = z.infer<typeof JurisdictionSchema>;

export const PolicyFileSchema = z.strictObject({
  description: z.string().optional(),
  // Items are validated one by one (see compile.ts), so one bad pool does not hide the others.
  pools: z.array(z.unknown()).optional(),
  jurisdictions: z.array(z.unknown()).optional(),
});

/** The fallback entry that sends police. */
export const POLICE = 'police';
/** Prefix of a fallback entry that gives a referral line, e.g. `referral:ct-211`. */
export const REFERRAL_PREFIX = 'referral:';
/** The jurisdiction whose policy serves calls from towns without one. */
export const DEFAULT_JURISDICTION = 'default';
/** A pool category that matches any category. */
export const ANY_CATEGORY = '*';
