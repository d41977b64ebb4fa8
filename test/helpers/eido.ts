/**
 * NENA EIDOs for tests: NENA's own sample (test/fixtures/eido, an unchanged copy of
 * shared/reference/nena-eido-sample-call-transfer.json), a typed incident made from it, a rules
 * folder whose policies map the sample's agency, and a table of malformed EIDOs.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

export const EIDO_SAMPLE_PATH = fileURLToPath(
  new URL('../fixtures/eido/nena-sample-call-transfer.json', import.meta.url),
);
const RULES = fileURLToPath(new URL('../../rules', import.meta.url));

/** The jurisdiction the test policies give the sample's agency (`state.pa.us`). */
export const SAMPLE_JURISDICTION = 'eido-sample';
export const SAMPLE_AGENCY = 'state.pa.us';

type Json = Record<string, unknown>;

/** NENA's sample call-transfer EIDO, as published (a fresh copy each call). */
export function eidoSample(): Json {
  return JSON.parse(readFileSync(EIDO_SAMPLE_PATH, 'utf8')) as Json;
}

/** Words a test can look for to prove they never reach an error message or a log line. */
export const SECRET_NOTE = 'SECRETNOTE RP ADV SUBJ STATES HE WANTS TO END HIS LIFE, NEG WEAPONS';

/**
 * The sample with what a CAD adds once the call is typed: an incident component (APCO `type`, the
 * agency's own code and text, references to the incident location, the subject and the note), a
 * subject born in 1950 and a call-taker's note.
 */
export function typedEido(type = 'SUICTHRT', overrides: Json = {}): Json {
  const e = eidoSample();
  const at = e.lastUpdateTimeStamp as string;
  const agency = { $ref: SAMPLE_AGENCY };
  e.incidentComponent = {
    $id: 'urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us:incident',
    lastUpdateTimeStamp: at,
    updatedByAgencyReference: agency,
    incidentTypeCommonRegistryText: type,
    incidentTypeInternalCode: '10-56S',
    incidentTypeInternalText: 'SUICIDAL PERSON - THREATS',
    locationReference: [{ $ref: '123e4567-dead-12d3-a456-426614174000' }],
    personReference: [{ $ref: 'person-subject' }],
    notesReference: [{ $ref: 'note-1' }],
  };
  (e.personComponent as Json[]).push({
    $id: 'person-subject',
    lastUpdateTimeStamp: at,
    updatedByAgencyReference: agency,
    personIncidentRoleRegistryText: ['Subject'],
    ncPersonComponent: { birthDate: [{ date: '1950-06-01' }] },
  });
  e.notesComponent = [
    {
      $id: 'note-1',
      lastUpdateTimeStamp: at,
      updatedByAgencyReference: agency,
      notesActionComments: `<p>${SECRET_NOTE}</p>`,
      agentReference: { $ref: 'tjones.atroop@state.pa.us' },
    },
  ];
  return { ...e, ...overrides };
}

/** A copy of the default rules whose policies add a jurisdiction for the sample's agency. */
export function eidoRulesDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'cad-triage-eido-rules-'));
  cpSync(RULES, dir, { recursive: true });
  writeFileSync(
    join(dir, 'policies', 'eido-sample.yaml'),
    [
      'description: The agency of NENA EIDO sample documents (tests)',
      'jurisdictions:',
      `  - id: ${SAMPLE_JURISDICTION}`,
      '    name: EIDO sample agency',
      '    timeZone: America/New_York',
      `    agencies: [${SAMPLE_AGENCY}]`,
      '    pools: []',
      '    fallback: [police]',
      '    followUp:',
      '      pool: ct-211',
      '',
    ].join('\n'),
  );
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface MalformedEido {
  name: string;
  /** The request body / record value: an object is sent as JSON, a string as it is. */
  body: unknown;
  /** The JSON pointer an error must name. */
  pointer: string;
  /** The code that error must have. */
  code: string;
}

const clone = <T>(v: T): T => structuredClone(v);
// Test data is edited freely by path; `any` keeps each case one readable line.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Editable = Record<string, any>;
const edit = (base: Json, fn: (e: Editable) => void): Json => {
  const e = clone(base) as Editable;
  fn(e);
  return e;
};

/**
 * At least 30 EIDOs that must each be refused (400 on REST, a dead letter on Kafka), each with the
 * JSON pointer and code of the error it must produce.
 */
export function malformedEidos(): MalformedEido[] {
  const s = eidoSample();
  const t = typedEido();
  const S = 'ERR_EIDO_SCHEMA';
  const R = 'ERR_EIDO_REFERENCE';
  const cases: MalformedEido[] = [
    // Not an EIDO at all
    { name: 'a JSON array', body: [], pointer: '', code: S },
    { name: 'a JSON string', body: 'just text', pointer: '', code: S },
    { name: 'JSON null', body: null, pointer: '', code: S },
    { name: 'a JSON number', body: 42, pointer: '', code: S },
    { name: 'not JSON', body: '{"$id": "urn:x", ', pointer: '', code: S },
    // The document's prologue
    { name: 'no $id', body: edit(s, (e) => delete e.$id), pointer: '/$id', code: S },
    { name: '$id a number', body: edit(s, (e) => (e.$id = 7)), pointer: '/$id', code: S },
    {
      name: 'no lastUpdateTimeStamp',
      body: edit(s, (e) => delete e.lastUpdateTimeStamp),
      pointer: '/lastUpdateTimeStamp',
      code: S,
    },
    {
      name: 'lastUpdateTimeStamp not a date',
      body: edit(s, (e) => (e.lastUpdateTimeStamp = 'yesterday')),
      pointer: '/lastUpdateTimeStamp',
      code: S,
    },
    {
      name: 'lastUpdateTimeStamp without an offset',
      body: edit(s, (e) => (e.lastUpdateTimeStamp = '2021-04-30T14:43:49')),
      pointer: '/lastUpdateTimeStamp',
      code: S,
    },
    {
      name: 'lastUpdateTimeStamp on 30 February',
      body: edit(s, (e) => (e.lastUpdateTimeStamp = '2021-02-30T14:43:49Z')),
      pointer: '/lastUpdateTimeStamp',
      code: S,
    },
    {
      name: 'lastUpdateTimeStamp before 2000',
      body: edit(s, (e) => (e.lastUpdateTimeStamp = '1999-12-31T23:59:59Z')),
      pointer: '/lastUpdateTimeStamp',
      code: 'ERR_EIDO_TIMESTAMP',
    },
    {
      name: 'lastUpdateTimeStamp years ahead',
      body: edit(s, (e) => (e.lastUpdateTimeStamp = '2060-01-01T00:00:00Z')),
      pointer: '/lastUpdateTimeStamp',
      code: 'ERR_EIDO_TIMESTAMP',
    },
    {
      name: 'eidoVersion 2.0',
      body: edit(s, (e) => (e.eidoVersion = '2.0')),
      pointer: '/eidoVersion',
      code: S,
    },
    { name: 'no eidoVersion', body: edit(s, (e) => delete e.eidoVersion), pointer: '/eidoVersion', code: S },
    // Agencies
    {
      name: 'no agencyComponent',
      body: edit(s, (e) => delete e.agencyComponent),
      pointer: '/agencyComponent',
      code: S,
    },
    {
      name: 'agencyComponent empty',
      body: edit(s, (e) => (e.agencyComponent = [])),
      pointer: '/agencyComponent',
      code: S,
    },
    {
      name: 'agencyComponent an object',
      body: edit(s, (e) => (e.agencyComponent = e.agencyComponent[0])),
      pointer: '/agencyComponent',
      code: S,
    },
    {
      name: 'updatedByAgencyReference dangling',
      body: edit(s, (e) => (e.updatedByAgencyReference = { $ref: 'nowhere.example' })),
      pointer: '/updatedByAgencyReference/$ref',
      code: R,
    },
    {
      name: 'updatedByAgencyReference without $ref',
      body: edit(s, (e) => (e.updatedByAgencyReference = { id: 'state.pa.us' })),
      pointer: '/updatedByAgencyReference/$ref',
      code: S,
    },
    {
      name: 'updatedByAgencyReference naming an agent',
      body: edit(s, (e) => (e.updatedByAgencyReference = { $ref: 'tjones.atroop@state.pa.us' })),
      pointer: '/updatedByAgencyReference/$ref',
      code: R,
    },
    {
      name: 'an agency no policy lists',
      body: JSON.parse(JSON.stringify(s).replaceAll('"state.pa.us"', '"psap.unknown.example"')),
      pointer: '/agencyComponent/0/$id',
      code: 'ERR_EIDO_AGENCY_UNMAPPED',
    },
    {
      name: 'two agencies own the incident',
      body: edit(s, (e) => {
        e.agencyComponent[0].incidentOwningAgencyIndicator = true;
        e.agencyComponent.push({ ...e.agencyComponent[0], $id: 'second.pa.us' });
      }),
      pointer: '/agencyComponent/1/incidentOwningAgencyIndicator',
      code: S,
    },
    {
      name: 'a duplicate $id',
      body: edit(s, (e) => e.agencyComponent.push(clone(e.agencyComponent[0]))),
      pointer: '/agencyComponent/1/$id',
      code: R,
    },
    // The incident
    {
      name: 'incident without a common type',
      body: edit(t, (e) => delete e.incidentComponent.incidentTypeCommonRegistryText),
      pointer: '/incidentComponent/incidentTypeCommonRegistryText',
      code: S,
    },
    {
      name: 'incident (array form) with a numeric common type',
      body: edit(
        t,
        (e) => (e.incidentComponent = [{ ...e.incidentComponent, incidentTypeCommonRegistryText: 12 }]),
      ),
      pointer: '/incidentComponent/0/incidentTypeCommonRegistryText',
      code: S,
    },
    {
      name: 'incident common type not an APCO code',
      body: edit(t, (e) => (e.incidentComponent.incidentTypeCommonRegistryText = 'SUIC THRT!')),
      pointer: '/incidentComponent/incidentTypeCommonRegistryText',
      code: S,
    },
    {
      name: 'incidentComponent empty',
      body: edit(t, (e) => (e.incidentComponent = [])),
      pointer: '/incidentComponent',
      code: S,
    },
    {
      name: 'two incident components',
      body: edit(t, (e) => (e.incidentComponent = [e.incidentComponent, e.incidentComponent])),
      pointer: '/incidentComponent',
      code: S,
    },
    {
      name: 'incident person reference dangling',
      body: edit(t, (e) => (e.incidentComponent.personReference = [{ $ref: 'nobody' }])),
      pointer: '/incidentComponent/personReference/0/$ref',
      code: R,
    },
    {
      name: 'incident location reference naming a person',
      body: edit(t, (e) => (e.incidentComponent.locationReference = [{ $ref: 'person-subject' }])),
      pointer: '/incidentComponent/locationReference/0/$ref',
      code: R,
    },
    // Calls
    {
      name: 'call person reference dangling',
      body: edit(s, (e) => (e.callComponent[0].personReference = [{ $ref: 'ghost' }])),
      pointer: '/callComponent/0/personReference/0/$ref',
      code: R,
    },
    {
      name: 'call additional data reference dangling',
      body: edit(s, (e) => (e.callComponent[0].additionalDataReference[2] = { $ref: 'gone' })),
      pointer: '/callComponent/0/additionalDataReference/2/$ref',
      code: R,
    },
    {
      name: 'call callback reference naming a location',
      body: edit(
        s,
        (e) => (e.callComponent[0].callBackReference = { $ref: '123e4567-dead-12d3-a456-426614174000' }),
      ),
      pointer: '/callComponent/0/callBackReference/$ref',
      code: R,
    },
    // Persons
    {
      name: 'personComponent empty',
      body: edit(s, (e) => (e.personComponent = [])),
      pointer: '/personComponent',
      code: S,
    },
    {
      name: 'person without a role',
      body: edit(s, (e) => delete e.personComponent[0].personIncidentRoleRegistryText),
      pointer: '/personComponent/0/personIncidentRoleRegistryText',
      code: S,
    },
    {
      name: 'person role a string, not a list',
      body: edit(s, (e) => (e.personComponent[0].personIncidentRoleRegistryText = 'Caller')),
      pointer: '/personComponent/0/personIncidentRoleRegistryText',
      code: S,
    },
    {
      name: 'person born after the incident',
      body: edit(t, (e) => (e.personComponent[1].ncPersonComponent.birthDate = [{ date: '2022-01-01' }])),
      pointer: '/personComponent/1/ncPersonComponent/birthDate/0',
      code: S,
    },
    {
      name: 'person birth date in US format',
      body: edit(t, (e) => (e.personComponent[1].ncPersonComponent.birthDate = ['06/01/1950'])),
      pointer: '/personComponent/1/ncPersonComponent/birthDate/0',
      code: S,
    },
    {
      name: 'person 170 years old',
      body: edit(t, (e) => (e.personComponent[1].ncPersonComponent.birthDate = ['1851-01-01'])),
      pointer: '/personComponent/1/ncPersonComponent/birthDate/0',
      code: S,
    },
    // Notes
    {
      name: 'a huge note',
      body: edit(t, (e) => (e.notesComponent[0].notesActionComments = 'RP ADV '.repeat(3000))),
      pointer: '/notesComponent/0/notesActionComments',
      code: S,
    },
    {
      name: 'notes too long together',
      body: edit(t, (e) => {
        const note = e.notesComponent[0];
        e.notesComponent = [0, 1, 2].map((i) => ({
          ...note,
          $id: `note-${i + 1}`,
          notesActionComments: `${SECRET_NOTE} `.repeat(90),
        }));
      }),
      pointer: '/notesComponent',
      code: 'ERR_EIDO_NOTES_TOO_LONG',
    },
    {
      name: 'a note without text',
      body: edit(t, (e) => delete e.notesComponent[0].notesActionComments),
      pointer: '/notesComponent/0/notesActionComments',
      code: S,
    },
    {
      name: 'a note whose text is a list',
      body: edit(t, (e) => (e.notesComponent[0].notesActionComments = [SECRET_NOTE])),
      pointer: '/notesComponent/0/notesActionComments',
      code: S,
    },
    // Locations
    {
      name: 'a location without its type',
      body: edit(s, (e) => delete e.locationComponent[1].locationTypeDescriptionRegistryText),
      pointer: '/locationComponent/1/locationTypeDescriptionRegistryText',
      code: S,
    },
    {
      name: 'a GML position off the Earth',
      body: edit(s, (e) => {
        e.locationComponent[0].locationByValue =
          '<presence xmlns:gml="http://www.opengis.net/gml"><gml:Point><gml:pos>91.5 200.25</gml:pos></gml:Point></presence>';
      }),
      pointer: '/locationComponent/0/locationByValue',
      code: S,
    },
    {
      name: 'nested 40 levels deep',
      body: edit(s, (e) => {
        let deep: unknown = { end: true };
        for (let i = 0; i < 40; i++) deep = { deeper: deep };
        e.extension = deep;
      }),
      pointer: `/extension${'/deeper'.repeat(32)}`,
      code: S,
    },
  ];
  return cases;
}
