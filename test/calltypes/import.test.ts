/**
 * `calltypes import` on real call-type lists (../shared/reference/calltypes/): every row comes back
 * either mapped with its reason or listed for review, the draft is a valid crosswalk, and the CLI
 * writes it and prints the summary.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { detectColumns, draftCrosswalk, parseCsv } from '../../src/calltypes/import.ts';
import {
  compileRuleset,
  DEFAULT_RULES_DIR,
  evaluate,
  loadRuleset,
  readRulesDir,
} from '../../src/rules/index.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'cad-triage.js'), ...args],
      { cwd: root },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

// Copies of two files of shared/reference/calltypes/, so the test runs where that folder is not mounted.
const SAN_DIEGO = join(import.meta.dirname, 'fixtures', 'sandiego_pd_calltypes_with_2023_counts.csv');
const PUBLISHED = join(import.meta.dirname, 'fixtures', 'published_call_type_mappings.csv');

const loaded = await loadRuleset(DEFAULT_RULES_DIR);
if (!loaded.ok) throw new Error('default rules do not load');
const rs = loaded.ruleset;

t.test('CSV parsing and column detection', async (t) => {
  const { header, rows } = parseCsv(
    'city,call_type,description\r\n"Eugene OR","FOUND SYRINGE, CAHOOTS","Say ""hi"""\n\nX,Y,\n',
  );
  t.same(header, ['city', 'call_type', 'description']);
  t.same(rows, [
    ['Eugene OR', 'FOUND SYRINGE, CAHOOTS', 'Say "hi"'],
    ['X', 'Y', ''],
  ]);
  t.same(detectColumns(['city', 'call_type_code', 'description', 'count'], {}), { code: 1, description: 2 });
  t.same(detectColumns(['city', 'source_column', 'call_type', 'count'], {}), { code: 2, description: -1 });
  t.same(detectColumns(['a', 'b'], { code: 'B', description: 'a' }), { code: 1, description: 0 });
  t.match(detectColumns(['a', 'b'], {}), { error: /--code-column/ });
  t.match(detectColumns(['a', 'b'], { code: 'zz' }), { error: /no column "zz"/ });
});

/** Every input row (after filters and repeats) is a mapped row with a note or a review row. */
function checkDraft(t: Test, csv: string, jurisdiction: string, filters: string[] = []) {
  const r = draftCrosswalk(csv, rs.callTypes, { jurisdiction, filters });
  t.ok(r.ok);
  if (!r.ok) return undefined;
  const s = r.summary;
  const mapped = r.draft.callTypes ?? [];
  const review = r.draft.review ?? [];
  t.ok(s.rows > 0);
  t.equal(mapped.length, s.mapped);
  t.equal(review.length, s.review);
  t.equal(
    s.mapped + s.review + s.duplicates,
    s.rows + review.filter((x) => /listed again/.test(x.note ?? '')).length,
  );
  t.ok(
    mapped.every((m) => typeof m.note === 'string' && m.note.includes(m.apco)),
    'every mapped row says why',
  );
  t.ok(
    review.every((m) => typeof m.note === 'string' && m.note.length > 0),
    'every review row says why',
  );
  // The draft, as written, is a valid crosswalk (the jurisdiction is not checked: it has no policy here).
  const doc = parseYaml(r.yaml) as unknown;
  t.same(doc, JSON.parse(JSON.stringify(r.draft)), 'the YAML is the draft');
  return r;
}

t.test('San Diego: every call type mapped with a reason or listed for review', async (t) => {
  const r = checkDraft(t, await readFile(SAN_DIEGO, 'utf8'), 'san-diego');
  if (!r) return;
  t.equal(r.summary.rows, 284 - 1, 'one row per call type of the file');
  const byCode = new Map((r.draft.callTypes ?? []).map((x) => [x.code, x]));
  t.equal(byCode.get('245')?.apco, 'NCRASLTWF', 'ADW is an assault with a weapon');
  t.equal(byCode.get('CW')?.apco, 'WELFARE');
  t.ok(r.summary.violentFloors >= 30, `violent floors: ${r.summary.violentFloors}`);
  t.ok(
    (r.draft.review ?? []).some((x) => x.code === 'SELENF'),
    'a call type nothing places is listed for review, not defaulted',
  );

  // Installed as a crosswalk, the draft is valid and its rows decide the calls of that town.
  const { rules, tests, calltypes } = await readRulesDir(DEFAULT_RULES_DIR);
  const c = compileRuleset(DEFAULT_RULES_DIR, rules, tests, {
    calltypes: [...calltypes, { file: 'calltypes/san-diego.yaml', text: r.yaml }],
  });
  t.ok(
    c.ok,
    c.ok
      ? 'the draft compiles'
      : c.errors.map((e) => `${e.file}:${e.line} ${e.code} ${e.message}`).join('\n'),
  );
  if (!c.ok) return;
  const call = {
    eventId: 'e',
    incidentId: 'i',
    revision: 1,
    occurredAt: '2026-01-01T00:00:00Z',
    agency: { id: 'SDPD', jurisdiction: 'san-diego' },
    callType: { code: '245' },
  };
  const d = evaluate(c.ruleset, call);
  t.equal(d.commonType.foundBy, 'crosswalk');
  t.equal(d.commonType.ref, 'crosswalk:san-diego:245');
  t.equal(d.gate.value, 'police_secure_first');
});

t.test('published mappings, one city at a time: --filter', async (t) => {
  const csv = await readFile(PUBLISHED, 'utf8');
  const all = checkDraft(t, csv, 'all');
  const eugene = checkDraft(t, csv, 'eugene', ['city=Eugene OR']);
  if (!all || !eugene) return;
  t.ok(eugene.summary.rows > 0 && eugene.summary.rows < all.summary.rows);
  const suicidal = (eugene.draft.callTypes ?? []).find((x) => x.code === 'SUICIDAL SUBJECT, CAHOOTS');
  t.equal(suicidal?.apco, 'SUICTHRT');
  t.match(draftCrosswalk(csv, rs.callTypes, { jurisdiction: 'x', filters: ['nocolumn=1'] }), {
    ok: false,
    error: /bad --filter/,
  });
});

t.test('the CLI writes the draft and prints the summary', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cad-import-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'detroit.yaml');
  const r = await runCli([
    'calltypes',
    'import',
    PUBLISHED,
    '--jurisdiction',
    'detroit',
    '--filter',
    'city=Detroit MI',
    '--out',
    out,
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stderr,
    /\d+ call types, \d+ mapped \(\d+ by code, \d+ by the default vocabulary\), \d+ need review, \d+ violent floors/,
  );
  const draft = parseYaml(await readFile(out, 'utf8')) as { jurisdictions: string[]; callTypes: unknown[] };
  t.same(draft.jurisdictions, ['detroit']);
  t.ok(draft.callTypes.length > 0);
  const usage = await runCli(['calltypes', 'import', PUBLISHED]);
  t.equal(usage.code, 2, 'no --jurisdiction: usage');
});
