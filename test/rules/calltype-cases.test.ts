/**
 * The code-only call-type set (test/fixtures/calltypes-code-only.jsonl): built from the real call-type
 * lists in shared/reference/calltypes/ by scripts/calltype-cases.ts, labelled by the files' own
 * categories. Checks the labelling, that a rebuild gives the committed file, and the issue 10 targets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  buildCallTypeCases,
  codeAndDescription,
  DEFAULT_OUT,
  DEFAULT_SOURCE,
  labelOf,
} from '../../scripts/calltype-cases.ts';
import { DEFAULT_RULES_DIR, loadRuleset } from '../../src/rules/index.ts';
import { parseLabelledCases, scoreCases } from '../../src/rules/labelled-cases.ts';

const row = (callType: string, category: string) => ({ file: 'test.csv', city: 'Test', callType, category });

t.test('labels come from the file category, narrowed by the documented keyword lists', async (t) => {
  t.same(labelOf(row('114D_Domestic Physical', 'Domestic Violence')), { group: 'violent', categories: [], gate: 'police_secure_first' });
  t.same(labelOf(row('114B_Domestic Verbal Past', 'Domestic Violence'))?.gate, 'police_secure_first', 'DV, verbal or past');
  t.equal(labelOf(row('ASSAULT AND BATTERY REPORT', 'Violent Crime')), undefined, 'a non-DV past report is left out');
  t.equal(labelOf(row('106O_Assault Information', 'Violent Crime')), undefined, 'information only');
  t.equal(labelOf(row('BULLETIN - VIOLENT OFFENDER', 'Violent Crime')), undefined);
  t.equal(labelOf(row('THEFT FROM PERSON-PURSE SNATCH', 'Violent Crime')), undefined, 'no violent keyword');
  t.same(labelOf(row('CHILD ABUSE', 'Violent Crime'))?.categories, ['juvenile']);
  t.same(labelOf(row('121D_Mental Disorder Violent', 'Behavioral Health')), { group: 'behavioral_health', categories: ['behavioral_health'] });
  t.equal(labelOf(row('OVERDOSE DELTA', 'Behavioral Health')), undefined, 'Vera files overdoses under BH; not ours');
  t.same(labelOf(row('BURGLARY ALARM', 'Alarms')), { group: 'alarm', categories: [] });
  t.same(labelOf(row('AUTO THEFT', 'Property Crime')), { group: 'property', categories: [] });
  t.equal(labelOf(row('MISAPP FIDUCIARY/FINANCE PROPERTY ELDERLY', 'Property Crime')), undefined, 'elder exploitation');
  t.equal(labelOf(row('--TRAFFIC - D.U.I.', 'Accidents/Traffic Safety')), undefined, 'an impaired driver');
  t.same(labelOf(row('TRAFFIC STOP', 'traffic')), { group: 'traffic', categories: [] });
  t.equal(labelOf(row('NOISE COMPLAINT', 'Complaints/Environmental Conditions')), undefined);
});

t.test('codes: a leading local or protocol code is split off, else an opaque code', async (t) => {
  t.equal(codeAndDescription('114D_Domestic Physical').code, '114D');
  t.equal(codeAndDescription('20R - ROBBERY (REPORT)+1HR').code, '20R');
  t.equal(codeAndDescription('41/25 - CRIMINAL ASLT -IN PROG').code, '41/25');
  const opaque = codeAndDescription('MURDER');
  t.match(opaque.code, /^T[0-9A-F]{6}$/);
  t.equal(opaque.description, 'MURDER');
  t.equal(codeAndDescription('murder ').code, opaque.code, 'stable, case-blind');
});

const fixture = readFileSync(DEFAULT_OUT, 'utf8');

const sourceMounted = existsSync(join(DEFAULT_SOURCE, 'vera_twosigma_calltypes_5cities.csv'));
t.test('rebuilding from shared/reference/calltypes gives the committed fixture', { skip: sourceMounted ? false : `${DEFAULT_SOURCE} is not mounted here` }, async (t) => {
  const built = buildCallTypeCases(DEFAULT_SOURCE);
  t.equal(built, buildCallTypeCases(DEFAULT_SOURCE), 'deterministic');
  t.ok(built === fixture, 'run `node scripts/calltype-cases.ts` and commit the fixture');
});

t.test('the code-only set meets the issue 10 targets on the default rules', async (t) => {
  const { cases, errors } = parseLabelledCases(fixture);
  t.same(errors, []);
  t.ok(cases.length > 1000, `${cases.length} cases`);
  const withMore = cases.filter((c) => c.call.narrative !== undefined || c.call.screening !== undefined);
  t.same(withMore.map((c) => c.id), [], 'every case is code-only: no narrative, no screening');
  const loaded = await loadRuleset(DEFAULT_RULES_DIR);
  if (!loaded.ok) throw new Error('default rules do not compile');
  const r = scoreCases(loaded.ruleset, cases);
  const g = r.groups!;
  t.ok(g.violent!.cases >= 200, `${g.violent!.cases} violent/DV types`);
  t.ok(g.violent!.gateAccuracy >= 0.98, `violent/DV gate accuracy ${g.violent!.gateAccuracy}`);
  t.equal(g.violent!.civilianOk, 0, 'no violent/DV type is civilian_ok');
  const plain = ['property', 'alarm', 'traffic'].map((k) => g[k]!);
  const n = plain.reduce((s, x) => s + x.cases, 0);
  const falseCats = plain.reduce((s, x) => s + x.falseCategoryRate * x.cases, 0);
  t.ok(falseCats / n <= 0.02, `false social categories on property/alarm/traffic: ${(falseCats / n).toFixed(4)} of ${n}`);
  t.ok(g.behavioral_health!.categoryRecall >= 0.95, `behavioral-health recall ${g.behavioral_health!.categoryRecall}`);
  t.equal(r.unsafeClears, 0);
});
