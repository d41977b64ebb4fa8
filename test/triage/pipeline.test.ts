import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { openRedisStore } from '../../src/adapters/redis-store.ts';
import type { Database } from '../../src/adapters/database.ts';
import type { KeyValueStore } from '../../src/adapters/store.ts';
import type { Decision } from '../../src/domain/decision.ts';
import { triage, type TriageDeps } from '../../src/triage/pipeline.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { postgres, redisUrl, uniqueName } from '../helpers/services.ts';
import { triageDeps } from '../helpers/triage.ts';

const cases = devCases();
const base =
  cases.find((c) => c.expect.categories.includes('behavioral_health') && c.call.location?.address)?.call ??
  cases[0]!.call;

function suite(
  name: string,
  open: () => Promise<{ db: Database; store: KeyValueStore }>,
  skip: string | false = false,
) {
  t.test(`${name}: triage pipeline`, { skip }, async (t) => {
    const { db, store } = await open();
    t.teardown(async () => {
      await store.close();
      await db.close();
    });
    const emitted: Decision[] = [];
    const deps = await triageDeps(db, store, { emit: async (d) => void emitted.push(d) });
    const count = async (table: string, where = 'true', params: unknown[] = []) =>
      Number(
        (await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE ${where}`, params))
          .rows[0]!.n,
      );

    t.test('a call event becomes one persisted, emitted decision', async (t) => {
      const call = freshCall(base);
      const out = await triage(call, deps);
      t.equal(out.kind, 'decided');
      if (out.kind !== 'decided') return;
      const d = out.decision;
      t.match(d, {
        eventId: call.eventId,
        incidentId: call.incidentId,
        revision: call.revision,
        supersedes: null,
      });
      t.ok(d.summary.length >= 1 && d.summary.length <= 3, 'one to three summary lines');
      t.ok(d.rulesVersion && d.policyVersion, 'versions recorded');
      t.equal(await count('decisions', 'event_id = $1', [call.eventId]), 1);
      t.same(emitted.at(-1)?.decisionId, d.decisionId, 'emitted');
      t.ok(d.commonType, 'the decision carries the APCO common type');
      t.same(emitted.at(-1)?.commonType, d.commonType, 'on Kafka too');
      const stored = await db.query<{ ct: unknown }>(
        `SELECT decision->'commonType' AS ct FROM decisions WHERE event_id = $1`,
        [call.eventId],
      );
      t.same(stored.rows[0]?.ct, d.commonType, 'and in the stored decision');
    });

    t.test('a code-only weapon call type is placed and gated police_secure_first', async (t) => {
      const { narrative: _narrative, screening: _screening, ...rest } = base;
      const call = freshCall({ ...rest, callType: { code: 'Q77', commonType: 'WEAPON' } });
      const out = await triage(call, deps);
      t.equal(out.kind, 'decided');
      if (out.kind !== 'decided') return;
      t.match(out.decision.commonType, { code: 'WEAPON', name: 'Weapon Violation', foundBy: 'call' });
      t.equal(out.decision.gate.value, 'police_secure_first');
      t.match(out.decision.gate.reasons[0], { ruleId: 'apco:WEAPON', field: 'callType.commonType' });
      t.match(out.decision.summary, [/./, /Police secure first: Call type Q77 is APCO WEAPON/]);
    });

    t.test('a replayed event returns the stored decision and stores nothing new', async (t) => {
      const call = freshCall(base);
      const first = await triage(call, deps);
      const again = await triage(structuredClone(call), deps);
      t.equal(again.kind, 'duplicate');
      if (first.kind !== 'decided' || again.kind !== 'duplicate') return;
      t.equal(again.decision.decisionId, first.decision.decisionId);
      t.equal(await count('decisions', 'event_id = $1', [call.eventId]), 1);
      t.equal(emitted.at(-1)?.decisionId, first.decision.decisionId, 'emitted again (at-least-once)');
    });

    t.test('a newer revision supersedes; an older one arriving late changes nothing', async (t) => {
      const r1 = freshCall(base);
      const r2 = { ...r1, eventId: `${r1.eventId}-r2`, revision: 2 };
      const late = { ...r1, eventId: `${r1.eventId}-late`, revision: 1 };
      const d1 = await triage(r1, deps);
      const d2 = await triage(r2, deps);
      if (d1.kind !== 'decided' || d2.kind !== 'decided') return t.fail('both revisions decided');
      t.equal(d2.decision.supersedes, d1.decision.decisionId, 'r2 names the decision it supersedes');
      const emittedBefore = emitted.length;
      const stale = await triage(late, deps);
      t.match(stale, { kind: 'stale', currentDecisionId: d2.decision.decisionId });
      t.equal(emitted.length, emittedBefore, 'nothing emitted for a stale revision');
      t.equal(await count('stale_events', 'event_id = $1', [late.eventId]), 1, 'the late event is recorded');
      const inc = await db.query<{ latest_revision: number }>(
        'SELECT latest_revision FROM incidents WHERE incident_id = $1',
        [r1.incidentId],
      );
      t.equal(inc.rows[0]?.latest_revision, 2);
    });

    t.test(
      'the same incident number in two towns is two incidents: neither call is lost as stale',
      async (t) => {
        const a = freshCall(base, { agency: { id: 'CT0011000', jurisdiction: 'stamford' } });
        const b = { ...a, eventId: `${a.eventId}-b`, agency: { id: 'CT0013000', jurisdiction: 'branford' } };
        const da = await triage(a, deps);
        const db2 = await triage(b, deps);
        t.equal(da.kind, 'decided');
        t.equal(db2.kind, 'decided', 'the second town’s call is decided, not dropped as a stale revision');
        if (db2.kind === 'decided')
          t.equal(db2.decision.supersedes, null, 'and supersedes nothing of the first town');
      },
    );

    t.test('invalid input is refused with every bad field, and nothing is stored', async (t) => {
      const call = freshCall(base);
      const out = await triage({ ...call, revision: 0, agency: { id: 'X' }, occurredAt: 'yesterday' }, deps);
      t.equal(out.kind, 'invalid');
      if (out.kind !== 'invalid') return;
      t.same(out.errors.map((e) => e.path).sort(), ['agency.jurisdiction', 'occurredAt', 'revision']);
      t.equal(await count('decisions', 'event_id = $1', [call.eventId]), 0);
      t.equal(await count('incidents', 'incident_id = $1', [call.incidentId]), 0);
      for (const junk of [null, 42, 'text', [], {}]) t.equal((await triage(junk, deps)).kind, 'invalid');
    });

    t.test('the stored call keeps no phone number in clear; decisions are append-only', async (t) => {
      const call = freshCall(base, { caller: { relationship: 'family', phone: '203-555-0199' } });
      const out = await triage(call, deps);
      if (out.kind !== 'decided') return t.fail('decided');
      const row = await db.query<{ call: { caller: { phone?: string; phoneHash: string } } }>(
        'SELECT call FROM decisions WHERE event_id = $1',
        [call.eventId],
      );
      t.match(row.rows[0]?.call.caller.phoneHash, /^[0-9a-f]{32}$/, 'a keyed hash');
      t.notOk(row.rows[0]?.call.caller.phone, 'no phone in clear');
      await t.rejects(
        db.query('UPDATE decisions SET gate = $1 WHERE event_id = $2', ['civilian_ok', call.eventId]),
        /append-only/,
      );
      await t.rejects(db.query('DELETE FROM decisions WHERE event_id = $1', [call.eventId]), /append-only/);
    });

    t.test('a third call from the same address inside the window opens a follow-up referral', async (t) => {
      const address = `${uniqueName('addr')} MAIN ST`;
      const outs = [];
      for (let i = 0; i < 3; i++) {
        outs.push(await triage(freshCall(base, { location: { ...base.location, address } }), deps));
      }
      const decisions = outs.map((o) => (o.kind === 'decided' ? o.decision : undefined));
      t.same(
        decisions.map((d) => d?.repeatCalls.byAddress),
        [1, 2, 3],
        'counted per incident at the same address',
      );
      const third = decisions[2]!;
      t.equal(third.referral.created, true, 'the third call opens a referral');
      t.match(third.routing.followUp.reasons.join(' '), /repeat|address/i);
      t.equal(await count('referrals', 'decision_id = $1', [third.decisionId]), 1);
    });

    t.test('the CAD priority reaches routing: an urgent call never gets a referral line alone', async (t) => {
      // An elderly call the gate clears, in Coventry (211 and mobile crisis only) at 5 a.m.
      const elderly = cases.find((c) => c.id === 'dev-029')!.call;
      const night: TriageDeps = { ...deps, now: () => new Date('2026-03-11T05:00:00-04:00') };
      const at = (priority: number) =>
        triage(
          freshCall(elderly, { priority, agency: { ...elderly.agency, jurisdiction: 'coventry' } }),
          night,
        );
      const routine = await at(4);
      const urgent = await at(1);
      t.match(routine, {
        kind: 'decided',
        decision: { gate: { value: 'civilian_ok' }, routing: { mode: 'referral' } },
      });
      t.match(urgent, { kind: 'decided', decision: { routing: { mode: 'police_only' } } });
      if (urgent.kind === 'decided') {
        t.match(urgent.decision.routing.passedOver.at(-1), { poolId: 'ct-211', reason: 'urgent' });
      }
    });

    t.test('concurrent revisions of one incident end in order, one decision each', async (t) => {
      const r1 = freshCall(base);
      const revs = [1, 2, 3, 4, 5].map((r) => ({ ...r1, eventId: `${r1.eventId}-r${r}`, revision: r }));
      const outs = await Promise.all(revs.map((c) => triage(c, deps)));
      const decided = outs.filter((o) => o.kind === 'decided').length;
      const stale = outs.filter((o) => o.kind === 'stale').length;
      t.equal(decided + stale, 5, 'every event decided or recorded as stale');
      const inc = await db.query<{ latest_revision: number }>(
        'SELECT latest_revision FROM incidents WHERE incident_id = $1',
        [r1.incidentId],
      );
      t.equal(inc.rows[0]?.latest_revision, 5, 'the newest revision wins');
    });
  });
}

suite('pglite + memory', async () => ({
  db: await openPglite({ dataDir: 'memory://', schema: 'public' }),
  store: createMemoryStore(),
}));

const pg = await postgres();
const redis = await redisUrl();
const schema = uniqueName('pipe');
suite(
  'postgres + redis',
  async () => ({
    db: await openPostgres({ url: pg.ok ? pg.value : '', schema }),
    store: await openRedisStore({ url: redis.ok ? redis.value : '', prefix: `${uniqueName('pipe')}:` }),
  }),
  pg.skip || redis.skip,
);
t.teardown(async () => {
  if (!pg.ok) return;
  const admin = await openPostgres({ url: pg.value, schema: 'public' });
  await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.close();
});
