/**
 * The backtest: the pure comparison, and `cad-triage rules backtest` against a real stored history
 * (an embedded PGlite folder filled by the pipeline).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { backtest, type BacktestReport, type StoredDecision } from '../../src/rules/backtest.ts';
import { DEFAULT_RULES_DIR, evaluate, loadRuleset } from '../../src/rules/index.ts';
import { triage } from '../../src/triage/pipeline.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { triageDeps } from '../helpers/triage.ts';

const root = join(import.meta.dirname, '..', '..');
const cases = devCases();

async function shipped() {
  const r = await loadRuleset(DEFAULT_RULES_DIR);
  if (!r.ok) throw new Error('the shipped rules do not load');
  return r.ruleset;
}

/** A copy of the shipped rules with behavioral_health's threshold raised to 8 (all its rules at once). */
function candidateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  cpSync(DEFAULT_RULES_DIR, dir, { recursive: true });
  const file = join(dir, 'categories.yaml');
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(/(- id: behavioral_health[\s\S]*?threshold: )1\b/, '$18');
  if (changed === text) throw new Error('categories.yaml no longer has the expected shape');
  writeFileSync(file, changed);
  // Its rule tests would now fail; the backtest does not run them.
  return dir;
}

t.test('backtest: the same rules change nothing; a stricter threshold loses exactly that category', async (t) => {
  const rules = await shipped();
  const stored: StoredDecision[] = cases.map((c, i) => {
    const r = evaluate(rules, c.call);
    return {
      decisionId: `d-${i}`,
      incidentId: c.call.incidentId,
      jurisdiction: c.call.agency.jurisdiction,
      rulesVersion: rules.version,
      call: c.call,
      categories: r.categories.map((x) => x.category),
      gate: r.gate.value,
      commonType: r.commonType.code,
    };
  });
  const same = backtest(rules, stored);
  t.same(same.commonTypeMoves, {}, 'no APCO type moves under the rules that decided');

  // A crosswalk change: the first call's code becomes APCO WEAPON in its town.
  const cw = mkdtempSync(join(tmpdir(), 'rules-'));
  t.teardown(() => rmSync(cw, { recursive: true, force: true }));
  cpSync(DEFAULT_RULES_DIR, cw, { recursive: true });
  const first = cases[0]!.call;
  writeFileSync(
    join(cw, 'calltypes', 'town.yaml'),
    `jurisdictions: [${first.agency.jurisdiction}]\ncallTypes:\n  - { code: ${JSON.stringify(first.callType.code)}, apco: WEAPON }\n`,
  );
  const withCrosswalk = await loadRuleset(cw);
  if (!withCrosswalk.ok) throw new Error('the crosswalk candidate does not load');
  const moved = backtest(withCrosswalk.ruleset, stored);
  const sameType = cases.filter(
    (c) => c.call.agency.jurisdiction === first.agency.jurisdiction && c.call.callType.code === first.callType.code,
  );
  const was = evaluate(rules, first).commonType.code ?? 'none';
  t.not(was, 'WEAPON');
  t.same(moved.commonTypeMoves, { [`${was} -> WEAPON`]: sameType.length }, 'what the crosswalk change moves');
  t.same(
    [...moved.changed, ...moved.loosened].map((c) => [c.after.commonType, c.after.gate]),
    sameType.map(() => ['WEAPON', 'police_secure_first']),
    'each of those calls, now gated police_secure_first',
  );
  t.same(moved.loosened, []);
  t.equal(same.calls, cases.length);
  t.equal(same.unchanged, cases.length, 'nothing changes under the rules that decided');
  t.same(same.loosened, []);

  const dir = candidateDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const candidate = await loadRuleset(dir);
  if (!candidate.ok) throw new Error('candidate rules do not load');
  const report = backtest(candidate.ruleset, stored);
  const losing = stored.filter(
    (s, i) =>
      s.categories.includes('behavioral_health') &&
      !evaluate(candidate.ruleset, cases[i]!.call).categories.some((c) => c.category === 'behavioral_health'),
  ).length;
  t.ok(losing > 10, `${losing} stored calls would lose behavioral_health`);
  t.equal(report.categories.behavioral_health?.lost, losing, 'the report counts exactly those');
  t.equal(report.categories.behavioral_health?.gained ?? 0, 0);
  t.equal(report.unchanged + report.changed.length + report.loosened.length, cases.length);
});

t.test('backtest: a call the candidate rules would gate less cautiously is listed as loosened', async (t) => {
  const rules = await shipped();
  const clear = cases.find((c) => evaluate(rules, c.call).gate.value === 'civilian_ok')!;
  const secure = cases.find((c) => evaluate(rules, c.call).gate.value === 'police_secure_first')!;
  const stored = (c: typeof clear, gate: StoredDecision['gate'], id: string): StoredDecision => ({
    decisionId: id,
    incidentId: c.call.incidentId,
    jurisdiction: c.call.agency.jurisdiction,
    rulesVersion: 'sha256:older',
    call: c.call,
    categories: evaluate(rules, c.call).categories.map((x) => x.category),
    gate,
  });
  const report = backtest(rules, [
    stored(clear, 'police_secure_first', 'was-secure'),
    stored(secure, 'civilian_ok', 'was-clear'),
    { ...stored(clear, 'civilian_ok', 'broken'), call: { not: 'a call' } },
    {
      ...stored(clear, 'police_secure_first', 'purged'),
      call: { ...clear.call, narrative: undefined, narrativeOmitted: 'purged' },
    },
  ]);
  t.equal(report.withoutNarrative, 1, 'a call whose narrative was purged is counted, not replayed');
  t.same(
    report.loosened.map((c) => [c.decisionId, c.before.gate, c.after.gate]),
    [['was-secure', 'police_secure_first', 'civilian_ok']],
  );
  t.same(
    report.changed.map((c) => c.decisionId),
    ['was-clear'],
    'a more cautious gate is a change, not a loosening',
  );
  t.same(report.gateMoves, { 'police_secure_first -> civilian_ok': 1, 'civilian_ok -> police_secure_first': 1 });
  t.equal(report.unreadable.length, 1, 'an unreadable stored call is reported, not replayed');
});

t.test('cad-triage rules backtest: reads the stored decisions, reports in text or JSON, exit 1 on loosened with --fail-on-loosened', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'pglite-'));
  const dir = candidateDir();
  t.teardown(() => {
    rmSync(data, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  // A history made by the pipeline itself.
  const db = await openPglite({ dataDir: data, schema: 'cad_triage' });
  const deps = await triageDeps(db, createMemoryStore());
  const calls = cases.slice(0, 30).map((c) => freshCall(c.call));
  for (const call of calls) t.equal((await triage(call, deps)).kind, 'decided');
  // One decision made by older, more cautious rules: the shipped rules would now clear it.
  const rules = await shipped();
  const clear = cases.find((c) => evaluate(rules, c.call).gate.value === 'civilian_ok')!.call;
  const old = freshCall(clear);
  await db.query('INSERT INTO incidents (jurisdiction, incident_id) VALUES ($1, $2)', [
    old.agency.jurisdiction,
    old.incidentId,
  ]);
  await db.query(
    `INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, rules_version,
       policy_version, gate, mode, categories, decision, call)
     VALUES (gen_random_uuid(), $1, $2, 1, $3, 'sha256:older', 'p', 'police_secure_first', 'police_only', $4, '{}', $5)`,
    [
      old.eventId,
      old.incidentId,
      old.agency.jurisdiction,
      evaluate(rules, clear).categories.map((c) => c.category),
      old,
    ],
  );
  await db.close();

  // The embedded database only: no Redis or Kafka from the test environment (they need more settings).
  const { REDIS_URL: _redis, KAFKA_BROKERS: _kafka, DATABASE_URL: _pg, ...inherited } = process.env;
  const cliEnv = { ...inherited, PGLITE_DATA_DIR: data, DATABASE_SCHEMA: 'cad_triage' };
  const run = async (args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(root, 'bin', 'cad-triage.js'), 'rules', 'backtest', ...args],
        { cwd: root, env: cliEnv },
      );
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout + err.stderr };
    }
  };

  const json = await run(['--json']);
  t.equal(json.code, 0, json.stdout);
  const report = JSON.parse(json.stdout) as BacktestReport;
  t.equal(report.calls, 31);
  t.equal(report.unchanged, 30, 'the pipeline’s own decisions replay unchanged');
  t.same(
    report.loosened.map((c) => c.incidentId),
    [old.incidentId],
  );

  const text = await run([]);
  t.equal(text.code, 0);
  t.match(text.stdout, /on 31 stored calls: 30 unchanged, 1 changed/);
  t.match(text.stdout, /LOOSENED GATE on 1 call/);
  t.equal((await run(['--fail-on-loosened'])).code, 1, '--fail-on-loosened fails the run');

  const candidate = JSON.parse((await run(['--json', '--rules', dir])).stdout) as BacktestReport;
  const candidateRules = await loadRuleset(dir);
  if (!candidateRules.ok) throw new Error('candidate rules do not load');
  const has = (r: typeof rules, c: (typeof calls)[number]) =>
    evaluate(r, c).categories.some((x) => x.category === 'behavioral_health');
  const losing = [...calls, old].filter((c) => has(rules, c) && !has(candidateRules.ruleset, c)).length;
  t.ok(losing > 0);
  t.equal(candidate.categories.behavioral_health?.lost, losing, 'the candidate rules lose behavioral_health');

  const filtered = JSON.parse((await run(['--json', '--jurisdiction', 'no-such-town'])).stdout) as BacktestReport;
  t.equal(filtered.calls, 0, '--jurisdiction filters');
  t.equal((await run(['--since', 'yesterday-ish'])).code, 2, 'a bad --since is a usage error');
});
