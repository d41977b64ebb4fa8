/**
 * One canonical jurisdiction id: "New Haven", "NEW  HAVEN" and "new-haven" are one town for the
 * policy, repeat-call counts, incident order and storage; the migration merges spellings stored by
 * earlier versions, incidents included.
 */
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { migrate, readMigrations } from '../../src/adapters/migrations.ts';
import { DEFAULTS } from '../../src/definitions.ts';
import { jurisdictionId } from '../../src/domain/jurisdiction.ts';
import { triage } from '../../src/triage/pipeline.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { triageDeps } from '../helpers/triage.ts';

const base = devCases().find(
  (c) => c.call.location?.address && c.call.agency.jurisdiction === 'new-haven',
)!.call;

t.test('jurisdictionId: trimmed, lower-case, white space as one hyphen', async (t) => {
  t.equal(jurisdictionId('  New   Haven '), 'new-haven');
  t.equal(jurisdictionId('NEW\tHAVEN'), 'new-haven');
  t.equal(jurisdictionId('new-haven'), 'new-haven');
});

t.test('spellings of one town are one jurisdiction everywhere', async (t) => {
  const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
  t.teardown(() => db.close());
  const deps = await triageDeps(db, createMemoryStore());
  const first = freshCall(base, { agency: { ...base.agency, jurisdiction: 'New Haven' }, revision: 1 });
  const second = {
    ...first,
    eventId: `${first.eventId}-r2`,
    revision: 2,
    agency: { ...base.agency, jurisdiction: ' NEW  HAVEN ' },
  };
  const a = await triage(first, deps);
  const b = await triage(second, deps);
  if (a.kind !== 'decided' || b.kind !== 'decided') throw new Error(`${a.kind} ${b.kind}`);
  t.equal(a.decision.jurisdiction, 'new-haven', 'the decision carries the canonical id');
  t.equal(
    b.decision.supersedes,
    a.decision.decisionId,
    'the second spelling is a revision of the same incident',
  );
  t.equal(b.decision.repeatCalls.byAddress, 1, 'counted as the same incident at the same address');
  const other = freshCall(base, { agency: { ...base.agency, jurisdiction: 'new-haven' } });
  const c = await triage(other, deps);
  if (c.kind !== 'decided') throw new Error(c.kind);
  t.equal(c.decision.repeatCalls.byAddress, 2, 'another incident at that address counts with the first');
  const { rows } = await db.query<{ jurisdiction: string }>('SELECT DISTINCT jurisdiction FROM incidents');
  t.same(rows, [{ jurisdiction: 'new-haven' }], 'stored under one id');
  const blank = await triage(freshCall(base, { agency: { ...base.agency, jurisdiction: '   ' } }), deps);
  t.match(
    blank,
    { kind: 'invalid', errors: [{ path: 'agency.jurisdiction' }] },
    'a blank jurisdiction is invalid',
  );
});

t.test('the migration merges spellings stored by earlier versions', async (t) => {
  const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
  t.teardown(() => db.close());
  const all = readMigrations(DEFAULTS.migrationsDir);
  await migrate(
    db,
    all.filter((m) => m.id < '0007'),
  );
  // One incident recorded under two spellings (revisions 1 and 2), and one under a single odd spelling.
  const rows: Array<[string, string, number, string]> = [
    ['New Haven', 'INC-1', 1, '00000000-0000-4000-8000-000000000001'],
    ['new-haven', 'INC-1', 2, '00000000-0000-4000-8000-000000000002'],
    ['STAMFORD', 'INC-2', 1, '00000000-0000-4000-8000-000000000003'],
  ];
  for (const [j, inc, rev, id] of rows) {
    await db.query(
      `INSERT INTO incidents (jurisdiction, incident_id, latest_revision, latest_decision_id) VALUES ($1, $2, $3, NULL)`,
      [j, inc, rev],
    );
    await db.query(
      `INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, rules_version,
         policy_version, gate, mode, categories, decision, call)
       VALUES ($4::uuid, $4::text, $2, $3, $1, 'r', 'p', 'co_response_only', 'co_response', '{}', '{}', '{}')`,
      [j, inc, rev, id],
    );
    await db.query(
      'UPDATE incidents SET latest_decision_id = $1 WHERE jurisdiction = $2 AND incident_id = $3',
      [id, j, inc],
    );
  }
  await db.query(
    `INSERT INTO referrals (referral_id, decision_id, jurisdiction, incident_id, reasons)
     VALUES (gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'New Haven', 'INC-1', '{}')`,
  );
  await migrate(db, all);
  const incidents = await db.query(
    'SELECT jurisdiction, incident_id, latest_revision, latest_decision_id FROM incidents ORDER BY 1, 2',
  );
  t.same(incidents.rows, [
    {
      jurisdiction: 'new-haven',
      incident_id: 'INC-1',
      latest_revision: 2,
      latest_decision_id: '00000000-0000-4000-8000-000000000002',
    },
    {
      jurisdiction: 'stamford',
      incident_id: 'INC-2',
      latest_revision: 1,
      latest_decision_id: '00000000-0000-4000-8000-000000000003',
    },
  ]);
  const decisions = await db.query<{ jurisdiction: string; n: number }>(
    'SELECT jurisdiction, count(*)::int AS n FROM decisions GROUP BY 1 ORDER BY 1',
  );
  t.same(
    decisions.rows,
    [
      { jurisdiction: 'new-haven', n: 2 },
      { jurisdiction: 'stamford', n: 1 },
    ],
    'every decision kept, under the canonical id',
  );
  const referrals = await db.query('SELECT jurisdiction FROM referrals');
  t.same(referrals.rows, [{ jurisdiction: 'new-haven' }]);
  await t.rejects(db.query(`UPDATE decisions SET gate = 'x'`), /append-only/, 'the audit trigger is back on');
  await t.rejects(
    db.query(`INSERT INTO referrals (referral_id, decision_id, jurisdiction, incident_id, reasons)
      VALUES (gen_random_uuid(), '00000000-0000-4000-8000-000000000002', 'nowhere', 'INC-9', '{}')`),
    /foreign key/,
    'the foreign keys are back',
  );
});
