/**
 * NENA EIDO and CloudEvents on a real broker: records produced with kcat (a client independent of
 * the service's kafkajs). The EIDO sample and a typed incident are decided; call events with and
 * without CloudEvents headers are decided; malformed EIDOs, an unknown content type and bad
 * CloudEvents headers are dead-lettered with their reasons. Nothing is lost: every record in is
 * either a decision or a dead letter. Every decision record carries the CloudEvents headers.
 */
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { EIDO_MEDIA_TYPE } from '../../src/adapters/eido/index.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { eidoRulesDir, eidoSample, malformedEidos, SAMPLE_JURISDICTION, typedEido } from '../helpers/eido.ts';
import { eventually, headerObject, kcatProduce, kcatReadAll } from '../helpers/kafka.ts';
import { kafkaBrokers, postgres, redisUrl, uniqueName } from '../helpers/services.ts';

const [kafka, pg, redis] = await Promise.all([kafkaBrokers(), postgres(), redisUrl()]);
const skip = kafka.skip || pg.skip || redis.skip;

t.test(
  'kafka: EIDOs and CloudEvents in, decisions with CloudEvents headers out, nothing lost',
  { skip },
  async (t) => {
    if (!kafka.ok || !pg.ok || !redis.ok) return;
    const id = uniqueName('eido');
    const topics = { calls: `${id}.calls`, decisions: `${id}.decisions`, dlq: `${id}.dlq` };
    const config = loadConfig({
      DATABASE_URL: pg.value,
      DATABASE_SCHEMA: id.toLowerCase(),
      REDIS_URL: redis.value,
      REDIS_KEY_PREFIX: `${id}:`,
      PII_HASH_KEY: 'eido-test-key-0123456789',
      KAFKA_BROKERS: kafka.value,
      KAFKA_GROUP_ID: id,
      KAFKA_TOPIC_CALLS: topics.calls,
      KAFKA_TOPIC_DECISIONS: topics.decisions,
      KAFKA_TOPIC_DLQ: topics.dlq,
      KAFKA_TOPIC_PARTITIONS: '3',
      RULES_DIR: eidoRulesDir(t),
    });
    const service = await startService(config, createLogger({ level: 'warn' }), { watchRules: false });
    t.teardown(async () => {
      await service.close();
      const admin = await openPostgres({ url: pg.value, schema: 'public' });
      await admin.exec(`DROP SCHEMA IF EXISTS "${config.DATABASE_SCHEMA}" CASCADE`);
      await admin.close();
    });

    const eidoHeaders = { 'content-type': `${EIDO_MEDIA_TYPE}; version="1"` };
    const ce = (eventId: string) => ({
      'content-type': 'application/json',
      ce_specversion: '1.0',
      ce_id: eventId,
      ce_type: 'org.example.cad.call.v1',
      ce_source: '/cad/psap-1',
      ce_time: '2026-02-11T08:00:00Z',
    });

    // Good records: the sample, a typed incident, a call event with and one without CloudEvents headers.
    const sample = eidoSample();
    const typed = typedEido('SUICTHRT', {
      $id: `urn:emergency:uid:incidentid:${id}:bcf.state.pa.us`,
      lastUpdateTimeStamp: '2026-02-11T02:59:00.000-05:00',
    });
    await kcatProduce(
      kafka.value,
      topics.calls,
      [
        { key: 'EIDO-SAMPLE', value: JSON.stringify(sample) },
        { key: 'EIDO-TYPED', value: JSON.stringify(typed) },
      ],
      eidoHeaders,
    );
    const cases = devCases();
    const withCe = freshCall(cases[0]!.call);
    const plain = freshCall(cases[1]!.call);
    await kcatProduce(
      kafka.value,
      topics.calls,
      [{ key: withCe.incidentId, value: JSON.stringify(withCe) }],
      ce(withCe.eventId),
    );
    await kcatProduce(kafka.value, topics.calls, [{ key: plain.incidentId, value: JSON.stringify(plain) }]);
    const good = 4;

    // Bad records: every other malformed EIDO of the table, and bad content type / CloudEvents headers.
    const malformed = malformedEidos().filter((_, i) => i % 2 === 0);
    const bad: Array<{ key: string; code: string; reason: string | RegExp }> = [];
    await kcatProduce(
      kafka.value,
      topics.calls,
      malformed.map((c, i) => {
        bad.push({
          key: `BAD-EIDO-${i}`,
          code: 'ERR_EIDO_INVALID',
          reason: `${c.pointer || '(document)'}: [${c.code}]`,
        });
        return { key: `BAD-EIDO-${i}`, value: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) };
      }),
      eidoHeaders,
    );
    const odd = [
      {
        key: 'BAD-TYPE',
        headers: { 'content-type': 'text/csv' },
        code: 'ERR_MEDIA_TYPE',
        reason: /content-type/,
      },
      {
        key: 'BAD-SPEC',
        headers: { ...ce('x'), ce_specversion: '0.3' },
        code: 'ERR_CLOUDEVENT_INVALID',
        reason: /ce_specversion/,
      },
      {
        key: 'BAD-LOOP',
        headers: { ...ce('y'), ce_type: 'org.cad-triage.decision.v1' },
        code: 'ERR_CLOUDEVENT_INVALID',
        reason: /not a call/,
      },
    ];
    for (const o of odd) {
      const call = freshCall(cases[2]!.call);
      await kcatProduce(kafka.value, topics.calls, [{ key: o.key, value: JSON.stringify(call) }], o.headers);
      bad.push({ key: o.key, code: o.code, reason: o.reason });
    }
    const produced = good + bad.length;

    let out: ReturnType<typeof kcatReadAll> = [];
    let dlq: ReturnType<typeof kcatReadAll> = [];
    await eventually(() => {
      out = kcatReadAll(kafka.value, topics.decisions);
      dlq = kcatReadAll(kafka.value, topics.dlq);
      return out.length + dlq.length >= produced;
    }, 120_000);
    t.equal(out.length, good, 'every good record decided once');
    t.equal(dlq.length, bad.length, 'every bad record dead-lettered');
    t.equal(out.length + dlq.length, produced, 'nothing lost: in = decided + dead-lettered');

    const decisions = out.map((r) => ({ d: JSON.parse(r.payload!) as Record<string, unknown>, r }));
    const bySubject = (incidentId: string) => decisions.find((x) => x.d.incidentId === incidentId);
    const s = bySubject(sample.$id as string);
    t.ok(s, 'the NENA sample is decided');
    t.equal(s?.d.jurisdiction, SAMPLE_JURISDICTION);
    t.equal(s?.r.key, sample.$id, 'keyed by the incident id');
    const ty = bySubject(typed.$id as string);
    t.ok(ty, 'the typed EIDO is decided');
    const stored = await service.resources.db.query<{ call: { callType: { commonType?: string } } }>(
      'SELECT call FROM decisions WHERE decision_id = $1',
      [ty?.d.decisionId],
    );
    t.equal(stored.rows[0]?.call.callType.commonType, 'SUICTHRT', 'the APCO type reaches the pipeline');
    t.match(ty?.d.commonType, { code: 'SUICTHRT', foundBy: 'call' }, 'and the emitted decision carries it');
    t.ok(bySubject(withCe.incidentId), 'a call event with CloudEvents headers is decided');
    t.ok(bySubject(plain.incidentId), 'a call event without them is decided');

    for (const { d, r } of decisions) {
      const h = headerObject(r.headers);
      t.equal(h.ce_specversion, '1.0', `${String(d.incidentId)}: ce_specversion`);
      t.equal(h.ce_id, d.decisionId, 'ce_id is the decision id');
      t.equal(h.ce_type, 'org.cad-triage.decision.v1', 'ce_type');
      t.equal(h.ce_source, `urn:cad-triage:jurisdiction:${String(d.jurisdiction)}`, 'ce_source');
      t.equal(h.ce_time, d.decidedAt, 'ce_time is when it was decided');
      t.equal(h.ce_subject, d.incidentId, 'ce_subject is the incident');
      t.equal(h['content-type'], 'application/json', 'content-type of the data');
      t.equal(h['x-decision-id'], d.decisionId, 'the service header is kept');
    }

    for (const b of bad) {
      const rec = dlq.find((r) => r.key === b.key);
      const h = headerObject(rec?.headers);
      t.equal(h['x-dlq-error-code'], b.code, `${b.key}: ${b.code}`);
      t.match(h['x-dlq-error-message'] ?? '', b.reason, `${b.key}: the reason names what is wrong`);
      t.notMatch(
        h['x-dlq-error-message'] ?? '',
        /SECRETNOTE|Cellular|8195551212/,
        `${b.key}: quotes no value`,
      );
      t.equal(h['x-dlq-source-topic'], topics.calls, `${b.key}: names its source`);
    }
    const eidoDlq = dlq.filter((r) => r.key?.startsWith('BAD-EIDO-'));
    t.ok(
      eidoDlq.every((r) => headerObject(r.headers)['content-type']?.startsWith(EIDO_MEDIA_TYPE)),
      'a dead letter keeps the original headers',
    );
  },
);
