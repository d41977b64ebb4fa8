/**
 * The rules commands as a user runs them: `rules validate`, `rules test`, `classify`, `eval`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'cad-triage.js');
const fixtures = join(import.meta.dirname, 'fixtures');
// A copy of shared/eval/dev.jsonl (307 cases: dev-*, dev3-*), so the test runs where the shared
// folder is not mounted. Refresh it with: cp ../shared/eval/dev.jsonl test/rules/fixtures/dev.jsonl
const DEV = join(fixtures, 'dev.jsonl');

async function run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = promisify(execFile)(process.execPath, [bin, ...args], { cwd: root });
  if (stdin !== undefined) {
    p.child.stdin!.end(stdin);
  }
  try {
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

t.test('rules validate: a one-line summary and exit 0 when valid', async (t) => {
  const r = await run(['rules', 'validate']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok sha256:[0-9a-f]{16}: \d+ files, 5 categories/m);
});

t.test('rules validate: file:line: [code] message per error and exit 1', async (t) => {
  const r = await run(['rules', 'validate', join(fixtures, 'broken')]);
  t.equal(r.code, 1);
  t.match(r.stdout, /^a\.yaml:15: \[ERR_RULES_UNKNOWN_LEXICON\] /m);
  t.match(r.stdout, /^b\.yaml:6: \[ERR_RULES_CEL_SYNTAX\] /m);
});

t.test('rules test: PASS summary, exit 0; a failing case exits 1', async (t) => {
  const ok = await run(['rules', 'test']);
  t.equal(ok.code, 0, ok.stdout);
  t.match(ok.stdout, /PASS: (\d+)\/\1/);
  const bad = await run(['rules', 'test', join(fixtures, 'failing')]);
  t.equal(bad.code, 1);
  t.match(bad.stdout, /FAIL: expects the wrong gate/);
});

t.test('classify: a call on stdin, a classification on stdout', async (t) => {
  const call = {
    eventId: 'e',
    incidentId: 'i',
    revision: 1,
    occurredAt: '2026-01-01T00:00:00Z',
    agency: { id: 'a', jurisdiction: 'j' },
    callType: { code: 'MTLV' },
  };
  const r = await run(['classify'], JSON.stringify(call));
  t.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { gate: { value: string }; categories: Array<{ category: string }> };
  t.equal(c.gate.value, 'police_secure_first');
  t.same(c.categories.map((x) => x.category), ['behavioral_health']);

  const badJson = await run(['classify'], '{nope');
  t.equal(badJson.code, 1);
  t.match(badJson.stderr, /not valid JSON/);
  const badCall = await run(['classify'], JSON.stringify({ ...call, revision: 0, callType: {} }));
  t.equal(badCall.code, 1);
  t.match(badCall.stderr, /revision: /);
  t.match(badCall.stderr, /callType\.code: /);
});

t.test('eval --json on the dev cases meets the targets (issue 10: macro-F1 >= 0.98, gate >= 0.97)', async (t) => {
  const r = await run(['eval', DEV, '--json']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'exactly one JSON object');
  const report = JSON.parse(lines[0]!) as { cases: number; macroF1: number; gateAccuracy: number; unsafeClears: number; categories: Record<string, unknown> };
  t.equal(report.cases, 307);
  t.ok(report.macroF1 >= 0.98, `macro-F1 ${report.macroF1}`);
  t.ok(report.gateAccuracy >= 0.97, `gate accuracy ${report.gateAccuracy}`);
  t.equal(report.unsafeClears, 0);
  t.same(Object.keys(report.categories).slice(0, 5), ['behavioral_health', 'homelessness', 'substance_use', 'elderly', 'juvenile']);
});

t.test('eval: a malformed file names the line and exits non-zero', async (t) => {
  const r = await run(['eval', join(fixtures, 'bad-cases.jsonl')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /bad-cases\.jsonl:2: not valid JSON/);
  t.match(r.stderr, /bad-cases\.jsonl:3: call\.callType/);
});
