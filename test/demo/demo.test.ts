/**
 * Demo data: a seeded year through the real pipeline, worked like a town would, marked as demo
 * everywhere the report shows it; the command refuses a real PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { fillDemo } from '../../src/demo/generate.ts';
import { buildReport, periodBounds, reportCsv } from '../../src/reports/summary.ts';
import { triageDeps } from '../helpers/triage.ts';

const root = join(import.meta.dirname, '..', '..');

async function demo(seed: number) {
  const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
  const deps = await triageDeps(db, createMemoryStore());
  const made = await fillDemo(deps, { towns: ['stamford', 'norwalk'], year: 2026, callsPerTown: 120, seed });
  return { db, made };
}

t.test('a demo year: triaged, worked, marked', async (t) => {
  const { db, made } = await demo(7);
  t.teardown(() => db.close());
  const { rows } = await db.query<{ n: number; demo: number; agencies: string[] }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE event_id LIKE 'demo-%')::int AS demo,
            array_agg(DISTINCT decision->>'agencyId') AS agencies FROM decisions`,
  );
  t.equal(rows[0]!.n, made.calls, 'every call decided by the pipeline');
  t.ok(made.calls >= 2 * 120, 'the year and the weeks before it');
  t.equal(rows[0]!.demo, made.calls, 'every event id says demo');
  t.same(rows[0]!.agencies, ['DEMO']);
  t.ok(made.referrals > 0 && made.feedback > 0);
  const worked = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM referrals GROUP BY 1`,
  );
  t.ok(
    worked.rows.some((r) => r.status === 'closed' && r.n > 0),
    'referrals closed with outcomes',
  );
  const bounds = await periodBounds(db, '2026-01-01', '2026-12-31', 'America/New_York');
  const report = await buildReport(db, {
    jurisdictions: ['stamford'],
    ...bounds,
    timeZone: 'America/New_York',
    trendWeeks: 12,
    now: new Date('2027-06-01T00:00:00Z'),
  });
  t.ok(report.calls.total > 0);
  t.equal(report.demoCalls, report.calls.total, 'the report says the calls are demo data');
  t.match(
    reportCsv(report),
    /\r\nDEMO DATA,calls made by cad-triage demo,calls,\d+\r\n/,
    'and so does the CSV',
  );
  t.ok(report.feedback.overall.overridden > 0, 'some recommendations overridden');
  t.ok(report.referrals.contacted > 0 && report.referrals.hoursToFirstContact.median !== null);
});

t.test('the same seed makes the same year', async (t) => {
  const a = await demo(11);
  const b = await demo(11);
  t.teardown(async () => {
    await a.db.close();
    await b.db.close();
  });
  t.same(a.made, b.made);
});

t.test('cad-triage demo refuses a real PostgreSQL', async (t) => {
  const run = await promisify(execFile)(process.execPath, [join(root, 'bin', 'cad-triage.js'), 'demo'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  }).catch((e: { code: number; stderr: string }) => e);
  t.equal((run as { code: number }).code, 2);
  t.match((run as { stderr: string }).stderr, /embedded database only/);
});
