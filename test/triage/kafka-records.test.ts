import t from 'tap';
import { EIDO_MEDIA_TYPE, type EidoContext } from '../../src/adapters/eido/index.ts';
import { MAX_EVENT_BYTES } from '../../src/definitions.ts';
import type { Decision } from '../../src/domain/decision.ts';
import { decisionHeaders, decodeCallRecord } from '../../src/triage/kafka-records.ts';
import { eidoSample, SAMPLE_AGENCY, SAMPLE_JURISDICTION } from '../helpers/eido.ts';

const ctx: EidoContext = {
  jurisdictionOfAgency: (id) => (id === SAMPLE_AGENCY ? SAMPLE_JURISDICTION : undefined),
  now: new Date('2026-02-11T08:00:00Z'),
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const call = { eventId: 'e1', incidentId: 'i1' };

t.test('content-type picks the decoder; CloudEvents headers are accepted, not required', async (t) => {
  t.same(decodeCallRecord(undefined, json(call), ctx), { ok: true, format: 'call-event', input: call });
  t.same(decodeCallRecord({ 'content-type': 'application/json; charset=utf-8' }, json(call), ctx), {
    ok: true,
    format: 'call-event',
    input: call,
  });
  const withCe = decodeCallRecord(
    {
      'content-type': Buffer.from('application/json'),
      ce_specversion: Buffer.from('1.0'),
      ce_type: Buffer.from('org.example.cad.call.v1'),
      ce_id: Buffer.from('e1'),
      ce_source: Buffer.from('/cad'),
    },
    json(call),
    ctx,
  );
  t.ok(withCe.ok, 'binary-mode CloudEvents input is a call event');
  const eido = decodeCallRecord(
    { 'Content-Type': `${EIDO_MEDIA_TYPE}; version="1"` },
    json(eidoSample()),
    ctx,
  );
  t.equal(eido.ok && eido.format, 'eido', 'the EIDO media type, any case, with parameters');
  t.equal(
    eido.ok && (eido.input as { agency: { jurisdiction: string } }).agency.jurisdiction,
    SAMPLE_JURISDICTION,
  );
});

t.test('records that can never be triaged get a code and a reason that quotes nothing', async (t) => {
  const reason = (headers: Record<string, string> | undefined, value: Buffer | null) => {
    const r = decodeCallRecord(headers, value, ctx);
    return r.ok ? 'ok' : `${r.code} ${r.message}`;
  };
  t.match(reason({ 'content-type': 'text/plain' }, json(call)), /^ERR_MEDIA_TYPE /);
  t.match(
    reason({ 'content-type': 'application/cloudevents+json' }, json(call)),
    /^ERR_MEDIA_TYPE .*binary mode/,
  );
  t.match(reason({ ce_specversion: '0.3' }, json(call)), /^ERR_CLOUDEVENT_INVALID ce_specversion/);
  t.match(reason({ ce_type: ' ' }, json(call)), /^ERR_CLOUDEVENT_INVALID ce_type is empty/);
  t.match(
    reason({ ce_type: 'org.cad-triage.decision.v1' }, json(call)),
    /^ERR_CLOUDEVENT_INVALID .*not a call/,
  );
  t.match(reason(undefined, null), /^ERR_EVENT_EMPTY /);
  t.match(reason(undefined, Buffer.alloc(MAX_EVENT_BYTES + 1, 32)), /^ERR_EVENT_TOO_LARGE /);
  const notJson = reason(undefined, Buffer.from('{"narrative": "SECRETNOTE'));
  t.equal(
    notJson,
    'ERR_EVENT_NOT_JSON the value is not JSON',
    'the parser message (which quotes input) is dropped',
  );
  t.match(
    reason({ 'content-type': EIDO_MEDIA_TYPE }, Buffer.from('{')),
    /^ERR_EIDO_INVALID \(document\): \[ERR_EIDO_SCHEMA\]/,
  );
  t.match(
    reason({ 'content-type': EIDO_MEDIA_TYPE }, json({ ...eidoSample(), eidoVersion: 2 })),
    /^ERR_EIDO_INVALID \/eidoVersion: \[ERR_EIDO_SCHEMA\]/,
  );
});

t.test('decision headers: CloudEvents binary mode and the service ids', async (t) => {
  const d = {
    decisionId: '0f8fd5a4-3b5e-4d7a-9c1e-2a6b8e4f1c37',
    eventId: 'evt-1',
    incidentId: 'INC-1',
    jurisdiction: 'new-haven',
    decidedAt: '2026-02-11T08:00:00.000Z',
  } as Decision;
  t.same(decisionHeaders(d), {
    'content-type': 'application/json',
    ce_specversion: '1.0',
    ce_id: d.decisionId,
    ce_type: 'org.cad-triage.decision.v1',
    ce_source: 'urn:cad-triage:jurisdiction:new-haven',
    ce_time: d.decidedAt,
    ce_subject: 'INC-1',
    'x-decision-id': d.decisionId,
    'x-event-id': 'evt-1',
  });
});
