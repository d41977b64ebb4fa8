import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import type { Database } from '../../src/adapters/database.ts';
import type { CallEvent } from '../../src/domain/call-event.ts';
import { isOutage, triage, type TriageDeps } from '../../src/triage/pipeline.ts';
import { createRecorder, storable, type TriageRecord } from '../../src/triage/recorder.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { postgres, uniqueName } from '../helpers/services.ts';
import { triageDeps } from '../helpers/triage.ts';

const cases = devCases();
const base = cases[0]!.call;

/** The database with every call of record_triage counted. */
function counted(db: Database) {
  const counter = { calls: 0 };
  const wrapped: Database = {
    ...db,
    query: (text, params) => {
      if (text.includes('record_triage')) counter.calls += 1;
      return db.query(text, params);
    },
  };
  return { db: wrapped, counter };
}

t.test('storable: NUL escapes become U+FFFD, an escaped backslash before "u0000" stays', async (t) => {
  for (const s of ['a\u0000b', 'a\\u0000b', 'a\\\u0000', '\u0000\u0000', 'plain']) {
    const back = JSON.parse(storable(JSON.stringify({ s }))) as { s: string };
    t.equal(back.s, s.replaceAll('\u0000', '\ufffd'), JSON.stringify(s));
  }
});

function suite(name: string, open: () => Promise<Database>, skip: string | false = false) {
  t.test(`${name}: recorder (group commit)`, { skip }, async (t) => {
    const raw = await open();
    t.teardown(() => raw.close());
    const { db, counter } = counted(raw);
    const deps: TriageDeps = {
      ...(await triageDeps(raw, createMemoryStore())),
      recorder: createRecorder(db, { maxInFlight: 2 }),
    };
    const rows = async (sql: string, params: unknown[] = []) => (await raw.query(sql, params)).rows;

    t.test('events triaged at once are recorded in fewer round trips than events', async (t) => {
      const calls = cases.slice(0, 40).map((c) => freshCall(c.call));
      const before = counter.calls;
      const outs = await Promise.all(calls.map((c) => triage(c, deps)));
      t.same(
        outs.map((o) => o.kind),
        calls.map(() => 'decided'),
      );
      const stored = await rows('SELECT count(*)::int AS n FROM decisions WHERE event_id = ANY($1)', [
        calls.map((c) => c.eventId),
      ]);
      t.equal(stored[0]!.n, 40, 'every decision stored');
      const trips = counter.calls - before;
      t.ok(trips < 40, `40 events in ${trips} calls of record_triage`);
    });

    t.test('revisions of one incident sent at once are recorded in arrival order', async (t) => {
      const first = freshCall(base);
      const revs = [1, 2, 3, 4].map((r) => ({ ...first, eventId: `${first.eventId}-r${r}`, revision: r }));
      const outs = await Promise.all(revs.map((c) => triage(c, deps)));
      t.same(
        outs.map((o) => o.kind),
        ['decided', 'decided', 'decided', 'decided'],
      );
      const ids = outs.map((o) => (o.kind === 'decided' ? o.decision.decisionId : ''));
      const chain = outs.map((o) => (o.kind === 'decided' ? o.decision.supersedes : 'none'));
      t.same(chain, [null, ids[0], ids[1], ids[2]], 'each supersedes the one before');
      const stored = await rows(
        `SELECT supersedes, decision->>'supersedes' AS in_json FROM decisions WHERE incident_id = $1 ORDER BY revision`,
        [first.incidentId],
      );
      t.same(
        stored.map((r) => r.supersedes),
        chain,
        'the stored column agrees',
      );
      t.same(
        stored.map((r) => r.in_json),
        chain,
        'and so does the stored decision',
      );
    });

    t.test('a late revision sent after a newer one is stale; a repeat is a duplicate', async (t) => {
      const first = freshCall(base);
      const r3 = { ...first, eventId: `${first.eventId}-r3`, revision: 3 };
      const r1 = { ...first, eventId: `${first.eventId}-r1`, revision: 1 };
      const [a, b, c] = await Promise.all([triage(r3, deps), triage(r1, deps), triage(r3, deps)]);
      t.equal(a?.kind, 'decided');
      t.match(b, { kind: 'stale', currentDecisionId: a?.kind === 'decided' ? a.decision.decisionId : '' });
      t.equal(c?.kind, 'duplicate');
      if (a?.kind === 'decided' && c?.kind === 'duplicate') {
        t.equal(c.decision.decisionId, a.decision.decisionId, 'the stored decision comes back');
      }
      const staleRows = await rows('SELECT event_id FROM stale_events WHERE incident_id = $1', [
        first.incidentId,
      ]);
      t.same(
        staleRows.map((r) => r.event_id),
        [r1.eventId],
      );
    });

    t.test('one event the database refuses fails alone; the rest of its batch is recorded', async (t) => {
      // Capture real records from the pipeline, then spoil one.
      const captured: TriageRecord[] = [];
      const capture: TriageDeps = {
        ...deps,
        recorder: {
          record: async (item) => {
            captured.push(item);
            return { kind: 'decided', supersedes: null };
          },
        },
      };
      for (const c of cases.slice(0, 8)) await triage(freshCall(c.call), capture);
      const bad = captured[3]!;
      captured[3] = { ...bad, decision: { ...bad.decision, decisionId: 'not-a-uuid' } };
      const recorder = createRecorder(db, { maxInFlight: 1 });
      const before = counter.calls;
      const results = await Promise.allSettled(captured.map((item) => recorder.record(item)));
      t.same(
        results.map((r) => r.status),
        captured.map((_, i) => (i === 3 ? 'rejected' : 'fulfilled')),
      );
      t.ok(counter.calls - before > 2, 'the failed batch was retried event by event');
      const stored = await rows('SELECT count(*)::int AS n FROM decisions WHERE event_id = ANY($1)', [
        captured.map((c) => c.decision.eventId),
      ]);
      t.equal(stored[0]!.n, 7, 'seven of eight stored, nothing of the refused one');
    });

    t.test('beyond maxQueue waiting events, new ones are refused as an outage, not queued', async (t) => {
      const recorder = createRecorder(db, { maxInFlight: 1, maxQueue: 3 });
      const calls = cases.slice(0, 10).map((c) => freshCall(c.call));
      const outs = await Promise.allSettled(calls.map((c) => triage(c, { ...deps, recorder })));
      const refused = outs.flatMap((o, i) =>
        o.status === 'rejected' ? [{ i, err: o.reason as unknown }] : [],
      );
      t.ok(refused.length > 0 && refused.length < 10, `${refused.length} of 10 refused`);
      for (const { err } of refused) {
        t.match(err, { code: 'ERR_DEPENDENCY_UNAVAILABLE' }, 'refused as an outage (503 / pause)');
        t.ok(isOutage(err), 'the Kafka loop pauses on it');
      }
      const stored = await rows('SELECT event_id FROM decisions WHERE event_id = ANY($1)', [
        calls.map((c) => c.eventId),
      ]);
      t.same(
        stored.map((r) => r.event_id).sort(),
        calls
          .filter((_, i) => !refused.some((r) => r.i === i))
          .map((c) => c.eventId)
          .sort(),
        'exactly the accepted ones are stored',
      );
    });

    t.test('a NUL character in a call does not lose it: stored as U+FFFD', async (t) => {
      const call: CallEvent = freshCall(base, { narrative: 'caller says \u0000 man at the door' });
      const out = await triage(call, deps);
      t.equal(out.kind, 'decided');
      const stored = await rows(`SELECT call->>'narrative' AS n FROM decisions WHERE event_id = $1`, [
        call.eventId,
      ]);
      t.equal(stored[0]?.n, 'caller says \ufffd man at the door');
    });
  });
}

suite('pglite', () => openPglite({ dataDir: 'memory://', schema: 'public' }));

const pg = await postgres();
const schemas: string[] = [];
const openPg = () => {
  const schema = uniqueName('rec');
  schemas.push(schema);
  return openPostgres({ url: pg.ok ? pg.value : '', schema });
};
suite('postgres', openPg, pg.skip);

t.test(
  'postgres: two replicas recording the same incidents in opposite orders do not deadlock',
  { skip: pg.skip },
  async (t) => {
    const schema = uniqueName('rec');
    schemas.push(schema);
    const url = pg.ok ? pg.value : '';
    const one = await openPostgres({ url, schema, poolSize: 4 });
    const two = await openPostgres({ url, schema, poolSize: 4 });
    t.teardown(async () => {
      await one.close();
      await two.close();
    });
    const depsOne: TriageDeps = {
      ...(await triageDeps(one, createMemoryStore())),
      recorder: createRecorder(one, { maxInFlight: 4 }),
    };
    const depsTwo: TriageDeps = {
      ...depsOne,
      db: two,
      recorder: createRecorder(two, { maxInFlight: 4 }),
    };
    // 30 incidents, each with revisions 1 and 2; replica one sends them in order, replica two in reverse.
    const incidents = cases.slice(0, 30).map((c) => freshCall(c.call));
    const events = incidents.flatMap((c) =>
      [1, 2].map((r) => ({ ...c, eventId: `${c.eventId}-r${r}`, revision: r })),
    );
    const [a, b] = await Promise.all([
      Promise.all(events.map((e) => triage(e, depsOne))),
      Promise.all([...events].reverse().map((e) => triage(e, depsTwo))),
    ]);
    const outcomes = [...a, ...b];
    t.equal(outcomes.length, 120, 'every event got an answer (no deadlock, no error)');
    const decided = await two.query<{ n: number }>(
      'SELECT count(DISTINCT event_id)::int AS n FROM decisions WHERE incident_id = ANY($1)',
      [incidents.map((c) => c.incidentId)],
    );
    const stale = await two.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM stale_events WHERE incident_id = ANY($1)',
      [incidents.map((c) => c.incidentId)],
    );
    t.equal(decided.rows[0]!.n + stale.rows[0]!.n, 60, 'each event decided or recorded stale, once');
    const latest = await two.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM incidents WHERE incident_id = ANY($1) AND latest_revision = 2',
      [incidents.map((c) => c.incidentId)],
    );
    t.equal(latest.rows[0]!.n, 30, 'every incident ends on its newest revision');
  },
);

t.teardown(async () => {
  if (!pg.ok || schemas.length === 0) return;
  const admin = await openPostgres({ url: pg.value, schema: 'public' });
  for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
});
