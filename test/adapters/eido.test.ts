import t from 'tap';
import { eidoToCallEvent, jsonPointer, type EidoContext } from '../../src/adapters/eido/index.ts';
import { CallEventSchema } from '../../src/domain/call-event.ts';
import {
  eidoSample,
  malformedEidos,
  SAMPLE_AGENCY,
  SAMPLE_JURISDICTION,
  SECRET_NOTE,
  typedEido,
} from '../helpers/eido.ts';

const ctx: EidoContext = {
  jurisdictionOfAgency: (id) => (id === SAMPLE_AGENCY ? SAMPLE_JURISDICTION : undefined),
  now: new Date('2026-02-11T08:00:00Z'),
};

t.test("NENA's sample call-transfer EIDO maps to a valid call event", async (t) => {
  const r = eidoToCallEvent(eidoSample(), ctx);
  if (!r.ok) return t.fail(JSON.stringify(r.errors));
  const call = r.call;
  t.ok(CallEventSchema.safeParse(call).success, 'a valid call event');
  t.equal(call.incidentId, 'urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us');
  t.equal(call.occurredAt, '2021-04-30T14:43:49.439-04:00');
  t.same(call.agency, { id: SAMPLE_AGENCY, jurisdiction: SAMPLE_JURISDICTION });
  t.same(
    call.callType,
    { code: 'UNTYPED', description: 'No incident type yet (NENA EIDO without an incident component)' },
    'no incident component: no incident type, and no invented APCO type',
  );
  t.equal(call.location?.address, '42 W Cellular Street, Wilmington, DE', 'from the PIDF-LO civic address');
  t.equal(call.caller?.phone, '8195551212', "the call's callback tel: URI");
  t.same(call.subjects, [{ role: 'caller' }]);
  t.notOk(call.narrative, 'no notes, no narrative');
  // Whole seconds since 2000-01-01Z, plus one.
  t.equal(
    call.revision,
    Math.floor((Date.parse('2021-04-30T18:43:49.439Z') - Date.UTC(2000, 0, 1)) / 1000) + 1,
  );
  t.ok(call.revision <= 2_147_483_647, 'fits a PostgreSQL integer');
  t.match(call.eventId, /^eido:[0-9a-f]{40}$/);
});

t.test('a typed EIDO carries the APCO type, the subject, the note and the incident location', async (t) => {
  const r = eidoToCallEvent(typedEido('suicthrt'), ctx);
  if (!r.ok) return t.fail(JSON.stringify(r.errors));
  t.same(r.call.callType, {
    code: '10-56S',
    description: 'SUICIDAL PERSON - THREATS',
    commonType: 'SUICTHRT',
  });
  t.equal(r.call.narrative, SECRET_NOTE, 'HTML tags removed');
  t.same(r.call.subjects, [{ role: 'caller' }, { role: 'subject', age: 70 }], 'age on the incident date');
  t.equal(r.call.location?.address, '42 W Cellular Street, Wilmington, DE');
  const e = typedEido('EDP');
  delete (e.incidentComponent as Record<string, unknown>).incidentTypeInternalCode;
  const r2 = eidoToCallEvent(e, ctx);
  t.equal(r2.ok && r2.call.callType.code, 'EDP', 'no internal code: the common type is the code');
});

t.test('ids: a re-sent EIDO is the same event; a later update is a later revision', async (t) => {
  const a = eidoToCallEvent(eidoSample(), ctx);
  const again = eidoToCallEvent(eidoSample(), ctx);
  // The same instant written in another offset is the same update.
  const utc = eidoToCallEvent({ ...eidoSample(), lastUpdateTimeStamp: '2021-04-30T18:43:49.439Z' }, ctx);
  const later = eidoToCallEvent(
    { ...eidoSample(), lastUpdateTimeStamp: '2021-04-30T14:45:02.000-04:00' },
    ctx,
  );
  if (!a.ok || !again.ok || !utc.ok || !later.ok) return t.fail('all map');
  t.equal(again.call.eventId, a.call.eventId);
  t.equal(utc.call.eventId, a.call.eventId);
  t.equal(utc.call.revision, a.call.revision);
  t.not(later.call.eventId, a.call.eventId);
  t.ok(later.call.revision > a.call.revision, 'later update, higher revision');
  t.equal(later.call.incidentId, a.call.incidentId, 'same incident');
  const last = eidoToCallEvent(
    { ...eidoSample(), lastUpdateTimeStamp: '2068-01-19T03:14:06Z' },
    {
      ...ctx,
      now: new Date('2068-01-19T00:00:00Z'),
    },
  );
  t.equal(last.ok && last.call.revision, 2_147_483_647, 'the last representable second');
});

t.test('GML positions become lat/lon; an incident location is preferred', async (t) => {
  const e = typedEido();
  (e.locationComponent as Array<Record<string, unknown>>).push({
    $id: 'loc-incident',
    lastUpdateTimeStamp: e.lastUpdateTimeStamp,
    updatedByAgencyReference: { $ref: SAMPLE_AGENCY },
    locationTypeDescriptionRegistryText: 'Incident',
    locationByValue:
      '<presence><gp:geopriv><gp:location-info><gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>41.3083 -72.9279</gml:pos></gs:Circle></gp:location-info></gp:geopriv></presence>',
  });
  (e.incidentComponent as Record<string, unknown>).locationReference = [
    { $ref: '123e4567-dead-12d3-a456-426614174000' },
    { $ref: 'loc-incident' },
  ];
  const r = eidoToCallEvent(e, ctx);
  if (!r.ok) return t.fail(JSON.stringify(r.errors));
  t.same(r.call.location, { lat: 41.3083, lon: -72.9279 });
});

t.test('JSON pointers escape ~ and /', async (t) => {
  t.equal(jsonPointer(['a/b', 'c~d', 0, '$ref']), '/a~1b/c~0d/0/$ref');
  t.equal(jsonPointer([]), '');
});

const cases = malformedEidos();
t.test(
  `${cases.length} malformed EIDOs: each refused with the pointer and code of what is wrong`,
  async (t) => {
    t.ok(cases.length >= 30, 'at least 30');
    t.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'names are unique');
    for (const c of cases) {
      if (typeof c.body === 'string' && c.name === 'not JSON') continue; // a parse error: REST and Kafka test it
      const r = eidoToCallEvent(c.body, ctx);
      if (r.ok) {
        t.fail(`${c.name}: accepted`);
        continue;
      }
      const hit = r.errors.find((e) => e.pointer === c.pointer);
      t.ok(
        hit,
        `${c.name}: an error at ${JSON.stringify(c.pointer)} (got ${r.errors.map((e) => e.pointer).join(', ')})`,
      );
      t.equal(hit?.code, c.code, `${c.name}: ${c.code}`);
      const text = JSON.stringify(r.errors);
      t.notMatch(text, /SECRETNOTE|Cellular|8195551212|RP ADV/, `${c.name}: no input value quoted`);
    }
  },
);
