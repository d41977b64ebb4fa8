/**
 * The outcome report on a hand-built history whose right answers are worked out by hand below, on
 * the embedded database and on PostgreSQL; then the REST route's scoping (a key sees only its
 * jurisdictions), its CSV, and `cad-triage report`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import type { Database, Queryable } from '../../src/adapters/database.ts';
import { migrate, readMigrations } from '../../src/adapters/migrations.ts';
import { DEFAULTS } from '../../src/definitions.ts';
import type { Report } from '../../src/domain/report.ts';
import { buildReport, periodBounds } from '../../src/reports/summary.ts';
import { postgres, uniqueName } from '../helpers/services.ts';
import { assertProblem, testService } from '../http/fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const ZONE = 'America/New_York';
let seq = 0;

interface D {
  at: string;
  jurisdiction?: string;
  categories?: string[];
  gate?: string;
  mode?: string;
  rules?: string[];
  gateRules?: string[];
  offDuty?: boolean;
  phone?: string;
  address?: string;
  rulesVersion?: string;
}

async function decision(db: Queryable, d: D): Promise<string> {
  seq += 1;
  const id = `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  const jurisdiction = d.jurisdiction ?? 'stamford';
  await db.query('INSERT INTO incidents (jurisdiction, incident_id) VALUES ($1, $2)', [
    jurisdiction,
    `INC-${seq}`,
  ]);
  const json = {
    categories: (d.categories ?? []).map((category) => ({
      category,
      evidence: (d.rules ?? []).map((ruleId) => ({ ruleId })),
    })),
    gate: { reasons: (d.gateRules ?? []).map((ruleId) => ({ ruleId })) },
    routing: { passedOver: d.offDuty ? [{ poolId: 'sw', reason: 'off_duty', detail: 'off' }] : [] },
  };
  const call = {
    ...(d.phone ? { caller: { phoneHash: d.phone } } : {}),
    ...(d.address ? { location: { addressHash: d.address } } : {}),
  };
  await db.query(
    `INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, rules_version, policy_version,
       gate, mode, categories, decision, call, decided_at)
     VALUES ($1::uuid, $1::text, $2, 1, $3, $4, 'p1', $5, $6, $7, $8, $9, $10)`,
    [
      id,
      `INC-${seq}`,
      jurisdiction,
      d.rulesVersion ?? 'r1',
      d.gate ?? 'co_response_only',
      d.mode ?? 'police_only',
      d.categories ?? [],
      json,
      call,
      d.at,
    ],
  );
  return id;
}

async function feedback(db: Queryable, decisionId: string, action: string, at: string) {
  await db.query(
    `INSERT INTO feedback (feedback_id, decision_id, action, created_at) VALUES (gen_random_uuid(), $1, $2, $3)`,
    [decisionId, action, at],
  );
}

async function referral(
  db: Queryable,
  decisionId: string,
  r: {
    created: string;
    due: string;
    status: string;
    assigned?: string;
    contacted?: string;
    closed?: string;
    outcome?: string;
  },
) {
  await db.query(
    `INSERT INTO referrals (referral_id, decision_id, jurisdiction, incident_id, status, reasons, due_by, outcome,
       created_at, assigned_at, contacted_at, closed_at)
     SELECT gen_random_uuid(), d.decision_id, d.jurisdiction, d.incident_id, $2, '{}', $3, $4, $5, $6, $7, $8
     FROM decisions d WHERE d.decision_id = $1`,
    [
      decisionId,
      r.status,
      r.due,
      r.outcome ?? null,
      r.created,
      r.assigned ?? null,
      r.contacted ?? null,
      r.closed ?? null,
    ],
  );
}

/** The history: one person (phone p1, address a1) before and after a first referral, and three more calls. */
async function history(db: Database) {
  await migrate(db, readMigrations(DEFAULTS.migrationsDir));
  // Before March: person p1 three times; only Feb 8 and 15 fall in the 4 weeks before Mar 1 17:00Z.
  await decision(db, { at: '2026-02-01T15:00:00Z', phone: 'p1', address: 'a1' });
  await decision(db, { at: '2026-02-08T17:00:00Z', phone: 'p1', address: 'a1' });
  await decision(db, { at: '2026-02-15T17:00:00Z', phone: 'p1', address: 'a1' });
  // March (EST until the 8th, EDT after).
  const d1 = await decision(db, {
    at: '2026-03-01T17:00:00Z', // Sunday 12:00 EST
    categories: ['behavioral_health'],
    gate: 'co_response_only',
    mode: 'co_response',
    rules: ['bh.suicidal'],
    gateRules: ['gate.unknown-screening'],
    phone: 'p1',
    address: 'a1',
  });
  const d2 = await decision(db, {
    at: '2026-03-10T16:00:00Z', // Tuesday 12:00 EDT
    categories: ['behavioral_health'],
    gate: 'civilian_ok',
    mode: 'civilian_only',
    rules: ['bh.suicidal'],
    gateRules: ['gate.all-no'],
    phone: 'p1',
    address: 'a1',
  });
  const d3 = await decision(db, {
    at: '2026-03-14T06:00:00Z', // Saturday 02:00 EDT
    categories: ['homelessness'],
    gate: 'co_response_only',
    mode: 'police_only',
    rules: ['hl.doorway'],
    gateRules: ['gate.unknown-screening'],
    offDuty: true,
    phone: 'p2',
    address: 'a2',
  });
  const d4 = await decision(db, {
    at: '2026-03-20T16:00:00Z', // Friday 12:00 EDT
    gate: 'police_secure_first',
    mode: 'police_only',
    address: 'a3',
    rulesVersion: 'r2',
  });
  await decision(db, {
    at: '2026-03-05T17:00:00Z',
    jurisdiction: 'norwalk',
    phone: 'p9',
    mode: 'co_response',
  });
  // After the window: not counted in the trend.
  await decision(db, { at: '2026-05-01T16:00:00Z', phone: 'p1', address: 'a1' });

  await feedback(db, d1, 'accepted', '2026-03-01T18:00:00Z');
  await feedback(db, d2, 'accepted', '2026-03-10T17:00:00Z');
  await feedback(db, d2, 'overridden', '2026-03-10T18:00:00Z'); // the latest word counts
  await feedback(db, d3, 'accepted', '2026-03-14T07:00:00Z');

  await referral(db, d1, {
    created: '2026-03-01T17:00:00Z',
    due: '2026-03-03T17:00:00Z',
    status: 'closed',
    assigned: '2026-03-02T09:00:00Z',
    contacted: '2026-03-02T17:00:00Z', // 24 h, on time
    closed: '2026-03-05T17:00:00Z',
    outcome: 'connected to services',
  });
  await referral(db, d3, {
    created: '2026-03-14T07:00:00Z',
    due: '2026-03-15T07:00:00Z',
    status: 'contacted',
    assigned: '2026-03-14T12:00:00Z',
    contacted: '2026-03-16T07:00:00Z', // 48 h, late
  });
  await referral(db, d4, { created: '2026-03-20T16:00:00Z', due: '2026-03-21T16:00:00Z', status: 'open' });
}

const NOW = new Date('2026-06-01T00:00:00Z');

async function report(db: Database, jurisdictions: string[] | null): Promise<Report> {
  const bounds = await periodBounds(db, '2026-03-01', '2026-03-31', ZONE);
  return buildReport(db, { jurisdictions, ...bounds, timeZone: ZONE, trendWeeks: 4, now: NOW });
}

function check(t: Test, r: Report) {
  t.equal(r.from, '2026-03-01T05:00:00.000Z', 'the period starts at local midnight');
  t.equal(r.to, '2026-04-01T04:00:00.000Z', 'and ends after the last day (EDT by then)');
  t.equal(r.calls.total, 4);
  t.same(r.calls.byCategory, { behavioral_health: 2, homelessness: 1 });
  t.same(r.calls.byGate, { co_response_only: 2, civilian_ok: 1, police_secure_first: 1 });
  t.same(r.calls.byMode, { co_response: 1, civilian_only: 1, police_only: 2 });
  t.same(r.calls.perWeek, [
    { week: '2026-02-23', calls: 1 },
    { week: '2026-03-09', calls: 2 },
    { week: '2026-03-16', calls: 1 },
  ]);
  t.same(r.calls.perHourOfWeek, [
    { day: 2, hour: 12, calls: 1 },
    { day: 5, hour: 12, calls: 1 },
    { day: 6, hour: 2, calls: 1 },
    { day: 7, hour: 12, calls: 1 },
  ]);
  t.same(r.feedback.overall, { withFeedback: 3, accepted: 2, overridden: 1, overrideRate: 0.333 });
  t.same(r.feedback.byMode, {
    co_response: { withFeedback: 1, accepted: 1, overridden: 0, overrideRate: 0 },
    civilian_only: { withFeedback: 1, accepted: 0, overridden: 1, overrideRate: 1 },
    police_only: { withFeedback: 1, accepted: 1, overridden: 0, overrideRate: 0 },
  });
  t.same(r.feedback.byGate, {
    co_response_only: { withFeedback: 2, accepted: 2, overridden: 0, overrideRate: 0 },
    civilian_ok: { withFeedback: 1, accepted: 0, overridden: 1, overrideRate: 1 },
  });
  t.same(
    r.feedback.byRule.map((x) => [x.ruleId, x.accepted, x.overridden]),
    [
      ['bh.suicidal', 1, 1],
      ['gate.all-no', 0, 1],
      ['gate.unknown-screening', 2, 0],
      ['hl.doorway', 1, 0],
    ],
    'per rule, most overridden first',
  );
  t.same(r.noSocialWorkerOnDuty, { calls: 1, perHourOfWeek: [{ day: 6, hour: 2, calls: 1 }] });
  t.same(r.referrals, {
    opened: 3,
    assigned: 2,
    contacted: 2,
    closed: 1,
    hoursToFirstContact: { median: 36, mean: 36 },
    contactedByDue: 1,
    contactedLate: 1,
    overdueOpen: 1,
    outcomes: { 'connected to services': 1 },
  });
  t.equal(r.people.unduplicatedCallers, 2);
  t.equal(
    r.people.interventions,
    4,
    'two civilian recommendations and two follow-ups that reached the person',
  );
  t.same(r.people.repeatCallTrend, {
    weeks: 4,
    people: { subjects: 2, callsBefore: 2, callsAfter: 1, change: -0.5 },
    addresses: { subjects: 3, callsBefore: 2, callsAfter: 1, change: -0.5 },
  });
  t.same(
    r.versions.map((v) => [v.rulesVersion, v.policyVersion, v.calls]),
    [
      ['r1', 'p1', 3],
      ['r2', 'p1', 1],
    ],
  );
}

function suite(name: string, open: () => Promise<Database>, skip: string | false) {
  t.test(`${name}: the report of a hand-built history`, { skip }, async (t) => {
    const db = await open();
    t.teardown(() => db.close());
    await history(db);
    check(t, await report(db, ['stamford']));
    const all = await report(db, null);
    t.equal(all.calls.total, 5, 'every jurisdiction');
    t.equal((await report(db, ['norwalk'])).calls.total, 1, 'another town sees only its own');
  });
}

suite('pglite', () => openPglite({ dataDir: 'memory://', schema: 'public' }), false);
const pg = await postgres();
suite('postgres', () => openPostgres({ url: pg.ok ? pg.value : '', schema: uniqueName('report') }), pg.skip);

t.test('GET /v1/reports/summary: scoped by the key, JSON or CSV', async (t) => {
  const ts = await testService(t, {}, { now: () => NOW });
  const db = ts.service.resources.db;
  await history(db);
  const app = ts.service.app;
  const get = (key: string, query: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'GET',
      url: `/v1/reports/summary?from=2026-03-01&to=2026-03-31&trendWeeks=4${query}`,
      headers: { authorization: `Bearer ${key}`, ...headers },
    });
  const stamford = await ts.key('dispatch', ['stamford']);
  const own = await get(stamford, '');
  t.equal(own.statusCode, 200, own.body);
  check(t, own.json() as Report);
  assertProblem(t, await get(stamford, '&jurisdictions=norwalk'), 403, 'ERR_FORBIDDEN');
  assertProblem(t, await get(stamford, '&jurisdictions=stamford,norwalk'), 403, 'ERR_FORBIDDEN');
  assertProblem(t, await get(await ts.key('vendor', ['stamford']), ''), 403, 'ERR_FORBIDDEN');
  const admin = await ts.key('admin', ['*']);
  t.equal(((await get(admin, '')).json() as Report).calls.total, 5);
  t.equal(((await get(admin, '&jurisdictions=Norwalk')).json() as Report).calls.total, 1);
  const csv = await get(stamford, '&format=csv');
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /^text\/csv/);
  t.match(csv.body, /^section,item,measure,value\r\n/);
  t.match(csv.body, /\r\ncalls,all,calls,4\r\n/);
  t.match(csv.body, /\r\nreferral outcomes,connected to services,closed,1\r\n/);
  t.match((await get(stamford, '', { accept: 'text/csv' })).body, /^section,/, 'Accept: text/csv too');
  assertProblem(t, await get(stamford, '&to=2026-02-01'.replace('&to', '&to2')), 400, 'ERR_VALIDATION');
  const backwards = await app.inject({
    method: 'GET',
    url: '/v1/reports/summary?from=2026-03-31&to=2026-03-01',
    headers: { authorization: `Bearer ${stamford}` },
  });
  assertProblem(t, backwards, 400, 'ERR_VALIDATION');
});

t.test('cad-triage report: json and csv from the embedded database', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'pglite-report-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true }));
  const db = await openPglite({ dataDir: data, schema: 'public' });
  await history(db);
  await db.close();
  const { REDIS_URL: _r, KAFKA_BROKERS: _k, DATABASE_URL: _d, ...inherited } = process.env;
  const run = async (...args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(root, 'bin', 'cad-triage.js'), 'report', ...args],
        { cwd: root, env: { ...inherited, PGLITE_DATA_DIR: data } },
      );
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout + err.stderr };
    }
  };
  const json = await run('--jurisdiction', 'stamford', '--from', '2026-03-01', '--to', '2026-03-31');
  t.equal(json.code, 0, json.stdout);
  const r = JSON.parse(json.stdout) as Report;
  t.equal(r.calls.total, 4);
  t.same(r.calls.byCategory, { behavioral_health: 2, homelessness: 1 });
  const csv = await run('--from', '2026-03-01', '--to', '2026-03-31', '--format', 'csv');
  t.match(csv.stdout, /\r\ncalls,all,calls,5\r\n/);
  t.equal((await run('--from', '2026-03-31', '--to', '2026-03-01')).code, 2, 'backwards period');
  t.equal((await run('--from', '2026-03-01', '--to', '2026-03-31', '--format', 'pdf')).code, 2);
});
