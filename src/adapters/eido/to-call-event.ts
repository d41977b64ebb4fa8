/**
 * NENA EIDO → call event: the one mapping, shared by REST (`application/emergency.eido+json`) and
 * Kafka (a record whose `content-type` says EIDO). Pure: the jurisdiction lookup and the clock come
 * in as arguments. Every problem comes back as an error naming the JSON pointer (RFC 6901) of the
 * failing field in the EIDO, never the field's value, so errors and dead letters carry no
 * narrative, address or phone number.
 *
 * The rules, in the order of the call event (docs in README "NENA EIDO intake"):
 * - incidentId = the EIDO's `$id` (the incident tracking id, stable across updates);
 *   revision = whole seconds of `lastUpdateTimeStamp` since 2000-01-01Z, plus one: later updates
 *   supersede earlier ones and fit PostgreSQL's integer until 2068; two updates less than a second
 *   apart share a revision, so the later one is recorded as stale. eventId = a hash of the incident
 *   id and that instant, so a re-sent EIDO is the same event (idempotent).
 * - occurredAt = `lastUpdateTimeStamp` as sent.
 * - agency = the agency component marked `incidentOwningAgencyIndicator`, else the one the EIDO's
 *   `updatedByAgencyReference` names; its jurisdiction is the routing policy that lists its `$id`
 *   under `agencies` (400 ERR_EIDO_AGENCY_UNMAPPED when none does).
 * - callType: code = the incident's `incidentTypeInternalCode` (the agency's own), else its common
 *   type; description = `incidentTypeInternalText`; commonType = `incidentTypeCommonRegistryText`
 *   (APCO 2.103, upper-cased). An EIDO without an incident component (a call transfer, like NENA's
 *   sample) has no incident type yet: code = the call's `localCallType`, else `UNTYPED`, and no
 *   commonType — the service does not invent one.
 * - narrative = every notes component, oldest first, HTML tags removed, one per line; a note or the
 *   whole over 16,384 characters is refused (400), never cut: a cut could drop the words that gate
 *   the scene.
 * - subjects = person components: role from `personIncidentRoleRegistryText` (snake_case; a person
 *   who is both caller and something else keeps the other role), age in whole years from the first
 *   birth date to the incident's date (400 if born after it or older than 130).
 * - location = the first location the incident references (else the call, else any), preferring
 *   one of type "Incident": address from its PIDF-LO civic address, lat/lon from its GML position.
 *   Locations by reference URL are not fetched.
 * - caller.phone = the first `tel:` URI of the call's callback component.
 * Every `$ref` anywhere must name a component `$id` of the same EIDO, and the references read here
 * must name a component of the expected kind.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { CallEvent } from '../../domain/call-event.ts';
import type { ErrorCode } from '../../errors.ts';
import { readPidfLo } from './pidf-lo.ts';
import {
  EidoSchema,
  IncidentComponentSchema,
  MAX_NOTES_CHARS,
  type Eido,
  type IncidentComponent,
  type LocationComponent,
  type PersonComponent,
} from './schema.ts';

export interface EidoError {
  /** RFC 6901 JSON pointer into the EIDO: '' is the whole document. */
  pointer: string;
  code: Extract<ErrorCode, `ERR_EIDO_${string}`>;
  message: string;
}

export interface EidoContext {
  /** The jurisdiction (routing policy id) of an agency id, or undefined when no policy lists it. */
  jurisdictionOfAgency(agencyId: string): string | undefined;
  /** Now, to refuse timestamps in the future. */
  now: Date;
}

export type EidoResult = { ok: true; call: CallEvent } | { ok: false; errors: EidoError[] };

/** Revisions count seconds from here (PostgreSQL integer: 2^31 - 1 seconds ends in January 2068). */
const REVISION_EPOCH_MS = Date.UTC(2000, 0, 1);
const MAX_REVISION = 2_147_483_647;
/** A clock ahead by more than this is a bad timestamp: it would outrank every real update to come. */
const MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000;
/** Deeper than this is not an EIDO (and would make the reference walk costly). */
const MAX_DEPTH = 32;
const BYSTANDER_ROLES = new Set(['caller', 'reporting_party', 'witness', 'complainant']);

/** An RFC 6901 pointer from a path of keys and indexes. */
export function jsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

const schemaErrors = (issues: readonly z.core.$ZodIssue[], base: PropertyKey[] = []): EidoError[] =>
  issues.map((i) => ({
    pointer: jsonPointer([...base, ...i.path]),
    code: 'ERR_EIDO_SCHEMA',
    message: i.message,
  }));

/** The component lists whose entries may be referenced by `$id`, and the kind each holds. */
type Kind = `${string}Component`;
interface Indexed {
  kind: Kind;
  index: number;
}

/**
 * Walks the document once (iteratively, so a deep document cannot overflow the stack): indexes every
 * component `$id` of the top-level component lists, then checks that every `$ref` anywhere names
 * one. Duplicate ids are errors too, since a reference to one would be ambiguous.
 */
function checkReferences(doc: Record<string, unknown>, errors: EidoError[]): Map<string, Indexed> {
  const ids = new Map<string, Indexed>();
  for (const [key, list] of Object.entries(doc)) {
    if (!key.endsWith('Component')) continue;
    const items = Array.isArray(list) ? list : list && typeof list === 'object' ? [list] : [];
    items.forEach((item, index) => {
      const id = (item as { $id?: unknown } | null)?.$id;
      if (typeof id !== 'string') return;
      const path = Array.isArray(list) ? [key, index, '$id'] : [key, '$id'];
      const first = ids.get(id);
      if (first) {
        errors.push({
          pointer: jsonPointer(path),
          code: 'ERR_EIDO_REFERENCE',
          message: `this $id is already used by ${jsonPointer([first.kind, first.index])}: references to it would be ambiguous`,
        });
      } else ids.set(id, { kind: key as Kind, index });
    });
  }
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: doc, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (!value || typeof value !== 'object') continue;
    if (path.length > MAX_DEPTH) {
      errors.push({
        pointer: jsonPointer(path),
        code: 'ERR_EIDO_SCHEMA',
        message: `nested more than ${MAX_DEPTH} levels deep`,
      });
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && !ids.has(v)) {
        errors.push({
          pointer: jsonPointer([...path, k]),
          code: 'ERR_EIDO_REFERENCE',
          message: 'names no component of this EIDO (no data component has this $id)',
        });
      } else stack.push({ value: v, path: [...path, k] });
    }
  }
  return ids;
}

/** The incident component, from an object (STA-021.1b) or a one-element array (earlier drafts). */
function readIncident(
  raw: unknown,
  errors: EidoError[],
): { incident?: IncidentComponent; path: PropertyKey[] } {
  if (raw === undefined) return { path: [] };
  if (Array.isArray(raw)) {
    if (raw.length !== 1) {
      errors.push({
        pointer: '/incidentComponent',
        code: 'ERR_EIDO_SCHEMA',
        message: `an EIDO describes one incident: expected one incident component, found ${raw.length}`,
      });
      return { path: [] };
    }
    const r = IncidentComponentSchema.safeParse(raw[0]);
    if (!r.success) errors.push(...schemaErrors(r.error.issues, ['incidentComponent', 0]));
    return r.success ? { incident: r.data, path: ['incidentComponent', 0] } : { path: [] };
  }
  const r = IncidentComponentSchema.safeParse(raw);
  if (!r.success) errors.push(...schemaErrors(r.error.issues, ['incidentComponent']));
  return r.success ? { incident: r.data, path: ['incidentComponent'] } : { path: [] };
}

/** `ReportingParty`, `Reporting Party` → `reporting_party`. */
const snake = (s: string) =>
  s
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();

/** Whole years from a birth date to a day, both YYYY-MM-DD. */
function yearsBetween(birth: string, on: string): number {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** Notes are HTML5: tags out, the usual entities decoded, spaces collapsed. */
function noteText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/p>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Maps an untrusted, parsed EIDO to a call event. Never throws: any problem is an error with the
 * pointer of the failing field. Every schema and dangling-reference problem is reported at once;
 * the mapping's own checks (kinds of references, agency, timestamps, notes, ages, positions) run on
 * a well-formed document only, and also report all they find.
 */
export function eidoToCallEvent(input: unknown, ctx: EidoContext): EidoResult {
  const parsed = EidoSchema.safeParse(input);
  const errors: EidoError[] = parsed.success ? [] : schemaErrors(parsed.error.issues);
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { ok: false, errors };
  const ids = checkReferences(input as Record<string, unknown>, errors);
  const { incident, path: incidentPath } = readIncident(
    (input as { incidentComponent?: unknown }).incidentComponent,
    errors,
  );
  if (!parsed.success) return { ok: false, errors };
  const eido: Eido = parsed.data;
  if (errors.length > 0) return { ok: false, errors };

  /** The component a reference names, if it is of the expected kind (else an error at `path`). */
  const resolve = (ref: string, kind: Kind, path: PropertyKey[]): number | undefined => {
    const hit = ids.get(ref);
    if (!hit) return undefined; // reported by checkReferences
    if (hit.kind !== kind) {
      errors.push({
        pointer: jsonPointer([...path, '$ref']),
        code: 'ERR_EIDO_REFERENCE',
        message: `names a ${hit.kind} entry, expected a ${kind} entry`,
      });
      return undefined;
    }
    return hit.index;
  };

  // --- ids and revision
  const updatedAt = Date.parse(eido.lastUpdateTimeStamp);
  const revision = Math.floor((updatedAt - REVISION_EPOCH_MS) / 1000) + 1;
  if (revision < 1 || revision > MAX_REVISION) {
    errors.push({
      pointer: '/lastUpdateTimeStamp',
      code: 'ERR_EIDO_TIMESTAMP',
      message: 'must be between 2000-01-01 and 2068-01-19 (it orders the revisions of the incident)',
    });
  } else if (updatedAt - ctx.now.getTime() > MAX_CLOCK_SKEW_MS) {
    errors.push({
      pointer: '/lastUpdateTimeStamp',
      code: 'ERR_EIDO_TIMESTAMP',
      message: 'is more than a day in the future: a wrong clock would make every later update look stale',
    });
  }
  const eventId = `eido:${createHash('sha256').update(`${eido.$id}\n${updatedAt}`).digest('hex').slice(0, 40)}`;
  const incidentDay = eido.lastUpdateTimeStamp.slice(0, 10);

  // --- agency and jurisdiction
  const owners = eido.agencyComponent.flatMap((a, i) => (a.incidentOwningAgencyIndicator ? [i] : []));
  if (owners.length > 1) {
    errors.push({
      pointer: `/agencyComponent/${owners[1]}/incidentOwningAgencyIndicator`,
      code: 'ERR_EIDO_SCHEMA',
      message: 'more than one agency claims to own the incident',
    });
  }
  const agencyIndex =
    owners[0] ?? resolve(eido.updatedByAgencyReference.$ref, 'agencyComponent', ['updatedByAgencyReference']);
  let agency: CallEvent['agency'] | undefined;
  if (agencyIndex !== undefined) {
    const id = eido.agencyComponent[agencyIndex]!.$id;
    const pointer = `/agencyComponent/${agencyIndex}/$id`;
    const jurisdiction = id.length <= 64 ? ctx.jurisdictionOfAgency(id) : undefined;
    if (id.length > 64) {
      errors.push({ pointer, code: 'ERR_EIDO_SCHEMA', message: 'an agency id may be at most 64 characters' });
    } else if (jurisdiction === undefined) {
      errors.push({
        pointer,
        code: 'ERR_EIDO_AGENCY_UNMAPPED',
        message:
          'no routing policy lists this agency: add its $id to the agencies of its jurisdiction (rules/policies)',
      });
    } else agency = { id, jurisdiction };
  }

  // --- call type
  const call = eido.callComponent?.[0];
  const callType: CallEvent['callType'] = incident
    ? {
        code: incident.incidentTypeInternalCode ?? incident.incidentTypeCommonRegistryText,
        ...(incident.incidentTypeInternalText ? { description: incident.incidentTypeInternalText } : {}),
        commonType: incident.incidentTypeCommonRegistryText,
      }
    : {
        code: call?.localCallType ?? 'UNTYPED',
        description: 'No incident type yet (NENA EIDO without an incident component)',
      };

  // --- narrative: every note, oldest first (stable for equal times)
  const notes = (eido.notesComponent ?? [])
    .map((n, i) => ({ at: Date.parse(n.lastUpdateTimeStamp), i, text: noteText(n.notesActionComments) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((n) => n.text)
    .filter(Boolean);
  const narrative = notes.join('\n');
  if (narrative.length > MAX_NOTES_CHARS) {
    errors.push({
      pointer: '/notesComponent',
      code: 'ERR_EIDO_NOTES_TOO_LONG',
      message: `the notes come to ${narrative.length} characters; at most ${MAX_NOTES_CHARS} are read, and notes are never cut`,
    });
  }

  // --- references the incident and call make (checked for kind even when not used further)
  const refs = (list: Array<{ $ref: string }> | undefined, kind: Kind, base: PropertyKey[]) =>
    (list ?? []).flatMap((r, i) => {
      const index = resolve(r.$ref, kind, [...base, i]);
      return index === undefined ? [] : [index];
    });
  const incidentLocations = incident
    ? refs(incident.locationReference, 'locationComponent', [...incidentPath, 'locationReference'])
    : [];
  if (incident) refs(incident.personReference, 'personComponent', [...incidentPath, 'personReference']);
  if (incident) refs(incident.notesReference, 'notesComponent', [...incidentPath, 'notesReference']);
  const callLocations: number[] = [];
  let phone: string | undefined;
  (eido.callComponent ?? []).forEach((c, i) => {
    callLocations.push(
      ...refs(c.locationReference, 'locationComponent', ['callComponent', i, 'locationReference']),
    );
    refs(c.personReference, 'personComponent', ['callComponent', i, 'personReference']);
    if (c.callBackReference && phone === undefined) {
      const cb = resolve(c.callBackReference.$ref, 'callbackComponent', [
        'callComponent',
        i,
        'callBackReference',
      ]);
      const uri =
        cb === undefined
          ? undefined
          : eido.callbackComponent?.[cb]?.callBackInformationUri?.find((u) => /^tel:/i.test(u));
      if (uri) phone = uri.slice(4).slice(0, 64);
    }
  });

  // --- subjects: every person component (the references to them were checked above)
  const subjects = (eido.personComponent ?? []).flatMap((p: PersonComponent, i) => {
    const roles = p.personIncidentRoleRegistryText.map(snake).filter(Boolean);
    const role = roles.find((r) => !BYSTANDER_ROLES.has(r)) ?? roles[0];
    const first = p.ncPersonComponent?.birthDate?.[0];
    const born = typeof first === 'string' ? first : first?.date;
    let age: number | undefined;
    if (born !== undefined) {
      age = yearsBetween(born, incidentDay);
      const pointer = jsonPointer(['personComponent', i, 'ncPersonComponent', 'birthDate', 0]);
      if (born > incidentDay) {
        errors.push({ pointer, code: 'ERR_EIDO_SCHEMA', message: 'the birth date is after the incident' });
        age = undefined;
      } else if (age > 130) {
        errors.push({
          pointer,
          code: 'ERR_EIDO_SCHEMA',
          message: 'the birth date makes the person older than 130',
        });
        age = undefined;
      }
    }
    return [{ ...(role ? { role: role.slice(0, 64) } : {}), ...(age !== undefined ? { age } : {}) }];
  });

  // --- location
  const locations = eido.locationComponent ?? [];
  const candidates = [...new Set([...incidentLocations, ...callLocations])];
  const pool = candidates.length > 0 ? candidates : locations.map((_, i) => i);
  const isIncident = (l: LocationComponent) =>
    l.locationTypeDescriptionRegistryText.toLowerCase() === 'incident';
  const ordered = [
    ...pool.filter((i) => isIncident(locations[i]!)),
    ...pool.filter((i) => !isIncident(locations[i]!)),
  ];
  let location: CallEvent['location'];
  for (const i of ordered) {
    const xml = locations[i]!.locationByValue;
    if (!xml) continue;
    const read = readPidfLo(xml);
    if (!read.ok) {
      errors.push({
        pointer: `/locationComponent/${i}/locationByValue`,
        code: 'ERR_EIDO_SCHEMA',
        message: read.message,
      });
      break;
    }
    const { address, position } = read.location;
    if (address || position) {
      location = {
        ...(address ? { address } : {}),
        ...(position ? { lat: position.lat, lon: position.lon } : {}),
      };
      break;
    }
  }

  if (errors.length > 0 || !agency) return { ok: false, errors };
  return {
    ok: true,
    call: {
      eventId,
      incidentId: eido.$id,
      revision,
      occurredAt: eido.lastUpdateTimeStamp,
      agency,
      callType,
      ...(location ? { location } : {}),
      ...(narrative ? { narrative } : {}),
      ...(phone ? { caller: { phone } } : {}),
      ...(subjects.length > 0 ? { subjects } : {}),
    },
  };
}
