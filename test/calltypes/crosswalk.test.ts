/**
 * The call-type crosswalk: every validation error with its code and line, the resolution order, a
 * floor that raises and never lowers the gate, and hot reload that keeps the last good crosswalk.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import type { CallEvent } from '../../src/domain/call-event.ts';
import { GATE_VALUES } from '../../src/domain/classification.ts';
import {
  compileRuleset,
  createRulesStore,
  DEFAULT_RULES_DIR,
  evaluate,
  loadRuleset,
} from '../../src/rules/index.ts';
import type { PreparedRuleset } from '../../src/rules/compile.ts';

const fixtures = join(import.meta.dirname, '..', 'rules', 'fixtures');
const minimal = await readFile(join(fixtures, 'minimal', 'rules.yaml'), 'utf8');

const NATIONAL = `commonTypes:
  - code: EDP
    name: Emotional Disturbance
    floor: civilian_ok
    categories: [behavioral_health]
    patterns: ["(emotionally disturbed|mental)"]
  - code: WEAPON
    name: Weapon Violation
    floor: police_secure_first
    patterns: ["(weapon|gun|knife)"]
  - code: DISORD
    name: Disorderly
    floor: co_response_only
    patterns: ["(disorderly|disturbance)"]
  - code: INTOX
    name: Intoxicated
    floor: civilian_ok
    categories: [substance_use]
`;

function compile(
  crosswalks: Record<string, string>,
  jurisdictions: string[] = ['springfield', 'shelbyville'],
) {
  return compileRuleset('/x', [{ file: 'rules.yaml', text: minimal }], [], {
    calltypes: Object.entries({ 'calltypes/national.yaml': NATIONAL, ...crosswalks }).map(([file, text]) => ({
      file,
      text,
    })),
    jurisdictions,
  });
}

function ruleset(crosswalks: Record<string, string> = {}): PreparedRuleset {
  const r = compile(crosswalks);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.file}:${e.line} ${e.code} ${e.message}`).join('\n'));
  return r.ruleset;
}

const call = (
  callType: CallEvent['callType'],
  extra: Partial<CallEvent> = {},
  jurisdiction = 'springfield',
): CallEvent => ({
  eventId: 'e',
  incidentId: 'i',
  revision: 1,
  occurredAt: '2026-01-01T00:00:00Z',
  agency: { id: 'a', jurisdiction },
  callType,
  ...extra,
});

const CLEAR = { weapons: 'no', violence: 'no', threatsToOthers: 'no', crimeInProgress: 'no' } as const;

t.test('every crosswalk error is reported with its code, file and line', async (t) => {
  const bad = [
    'jurisdictions: [springfield, ogdenville]', // 1: unknown jurisdiction on line 1
    'callTypes:',
    '  - code: "417"',
    '    apco: WEAPON',
    '  - code: "5150"',
    '    apco: NOSUCH', // 6: unknown APCO code
    '  - code: "417"', // 7: duplicate local code
    '    apco: DISORD',
    '  - code: MNT',
    '    apco: WEAPON',
    '    floor: co_response_only', // 11: looser than WEAPON allows
    '  - code: X',
    '    apco: EDP',
    '    categories: [no_such_category]', // 14
  ].join('\n');
  const r = compile({ 'calltypes/springfield.yaml': bad });
  t.equal(r.ok, false);
  if (r.ok) return;
  t.same(
    r.errors.map((e) => `${e.file}:${e.line} ${e.code}`),
    [
      'calltypes/springfield.yaml:1 ERR_CALLTYPE_UNKNOWN_JURISDICTION',
      'calltypes/springfield.yaml:6 ERR_CALLTYPE_UNKNOWN_APCO',
      'calltypes/springfield.yaml:7 ERR_CALLTYPE_DUPLICATE',
      'calltypes/springfield.yaml:11 ERR_CALLTYPE_FLOOR_LOOSER',
      'calltypes/springfield.yaml:14 ERR_RULES_UNKNOWN_CATEGORY',
    ],
  );
  t.match(
    r.errors[2]!.message,
    /duplicate local code "417": already mapped at calltypes\/springfield.yaml:3/,
  );
  t.match(r.errors[3]!.message, /looser than APCO WEAPON allows \(police_secure_first\)/);

  // A code mapped by two files that share a jurisdiction is a duplicate too; so is an APCO type defined twice.
  const two = compile({
    'calltypes/a.yaml': 'jurisdictions: [springfield]\ncallTypes:\n  - { code: A1, apco: EDP }\n',
    'calltypes/b.yaml':
      'jurisdictions: [springfield, shelbyville]\ncallTypes:\n  - { code: a1, apco: DISORD }\n',
    'calltypes/c.yaml': 'commonTypes:\n  - { code: EDP, name: again, floor: civilian_ok }\n',
  });
  t.equal(two.ok, false);
  if (!two.ok) {
    t.same(
      two.errors.map((e) => `${e.file}:${e.line} ${e.code}`),
      ['calltypes/b.yaml:3 ERR_CALLTYPE_DUPLICATE', 'calltypes/c.yaml:2 ERR_CALLTYPE_DUPLICATE'],
    );
  }

  // Rows need jurisdictions; bad patterns and bad YAML have lines too.
  const more = compile({
    'calltypes/x.yaml': 'callTypes:\n  - { code: A1, apco: EDP }\n',
    'calltypes/y.yaml':
      'commonTypes:\n  - code: ZZ\n    name: z\n    floor: civilian_ok\n    patterns: ["(unclosed"]\n',
    'calltypes/z.yaml': 'callTypes:\n  - { apco: EDP }\n',
  });
  t.equal(more.ok, false);
  if (!more.ok) {
    t.same(
      more.errors.map((e) => `${e.file}:${e.line} ${e.code}`),
      [
        'calltypes/x.yaml:2 ERR_CALLTYPE_UNKNOWN_JURISDICTION',
        'calltypes/y.yaml:5 ERR_RULES_TERM_SYNTAX',
        'calltypes/z.yaml:2 ERR_RULES_SCHEMA',
      ],
    );
  }
});

t.test('rules validate prints crosswalk errors as file:line: [code] message', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cad-cw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(DEFAULT_RULES_DIR, dir, { recursive: true });
  await writeFile(
    join(dir, 'calltypes', 'town.yaml'),
    'jurisdictions: [nowhere]\ncallTypes:\n  - code: "245"\n    apco: NOPE\n',
  );
  const r = await loadRuleset(dir);
  t.equal(r.ok, false, 'policies/ names the jurisdictions a crosswalk may map');
  if (r.ok) return;
  t.same(
    r.errors.map((e) => `${e.file}:${e.line}: [${e.code}]`),
    [
      'calltypes/town.yaml:1: [ERR_CALLTYPE_UNKNOWN_JURISDICTION]',
      'calltypes/town.yaml:4: [ERR_CALLTYPE_UNKNOWN_APCO]',
    ],
  );
});

t.test(
  'the resolution order: crosswalk code, crosswalk description, commonType sent, code, vocabulary, none',
  async (t) => {
    const rs = ruleset({
      'calltypes/springfield.yaml': [
        'jurisdictions: [springfield]',
        'callTypes:',
        '  - { code: "5150", apco: EDP }',
        '  - { description: MAN WITH GUN, apco: WEAPON }',
        '  - { code: WEAPON, apco: DISORD, floor: police_secure_first }',
      ].join('\n'),
    });
    const of = (c: CallEvent) => {
      const x = evaluate(rs, c).commonType;
      return `${x.code ?? 'none'} ${x.foundBy}`;
    };
    t.equal(
      of(call({ code: '5150', description: 'WEAPON', commonType: 'INTOX' })),
      'EDP crosswalk',
      'the row for the code first',
    );
    t.equal(
      of(call({ code: 'MWG', description: 'Man with  gun', commonType: 'INTOX' })),
      'WEAPON crosswalk',
      'then the row for the description',
    );
    t.equal(
      of(call({ code: 'MWG', description: 'MAN WITH GUN' }, {}, 'shelbyville')),
      'WEAPON vocabulary',
      "another town's rows do not apply",
    );
    t.equal(
      of(call({ code: 'Q1', description: 'DISORDERLY', commonType: 'intox' })),
      'INTOX call',
      'then the APCO type the CAD sent',
    );
    t.equal(
      of(call({ code: 'Q1', commonType: 'NOSUCH' })),
      'none none',
      'an unknown APCO type sent is not trusted',
    );
    t.equal(
      of(call({ code: 'edp', description: 'DISORDERLY' })),
      'EDP code',
      'then a code that is an APCO code',
    );
    t.equal(
      of(call({ code: 'Q1', description: 'DISORDERLY PERSON' })),
      'DISORD vocabulary',
      'then the vocabulary on the description',
    );
    t.equal(
      of(call({ code: 'GUN', description: 'SPECIAL DETAIL' })),
      'WEAPON vocabulary',
      'then on the code',
    );
    t.equal(
      of(call({ code: 'Q1', description: 'DISORDERLY, NO WEAPONS' })),
      'DISORD vocabulary',
      'a negated mention does not count',
    );
    t.equal(
      of(call({ code: 'Q1', description: 'DISORDERLY W/ WEAPON' })),
      'WEAPON vocabulary',
      'the most cautious type mentioned wins',
    );
    t.equal(of(call({ code: 'Q1', description: 'SPECIAL DETAIL' })), 'none none');

    const c = evaluate(rs, call({ code: '5150' }));
    t.same(c.commonType, {
      code: 'EDP',
      name: 'Emotional Disturbance',
      foundBy: 'crosswalk',
      ref: 'crosswalk:springfield:5150',
      file: 'calltypes/springfield.yaml',
      line: 3,
      floor: 'civilian_ok',
      categories: ['behavioral_health'],
    });
    t.same(
      c.categories.map((x) => x.category),
      ['behavioral_health'],
      'the hint gives the category',
    );
    t.same(c.categories[0]!.evidence, [
      {
        ruleId: 'crosswalk:springfield:5150',
        field: 'callType.code',
        text: '5150',
        reason: 'Call type 5150 is APCO EDP (Emotional Disturbance)',
      },
    ]);
    const v = evaluate(rs, call({ code: 'Q1', description: 'DISORDERLY PERSON' })).commonType;
    t.equal(v.matched, 'DISORDERLY');
    t.equal(v.ref, 'apco:DISORD');
  },
);

t.test('the floor raises the gate with its reason and never lowers it', async (t) => {
  const rs = ruleset({
    'calltypes/springfield.yaml': [
      'jurisdictions: [springfield]',
      'callTypes:',
      '  - { code: ASLT W/ WPN, apco: WEAPON }',
      '  - { code: QUIET, apco: EDP }',
      '  - { code: LOUD, apco: EDP, floor: co_response_only }',
    ].join('\n'),
  });
  const raised = evaluate(rs, call({ code: 'ASLT W/ WPN' }, { screening: CLEAR }));
  t.equal(raised.gate.value, 'police_secure_first');
  t.same(raised.gate.reasons, [
    {
      ruleId: 'crosswalk:springfield:ASLT W/ WPN',
      reason: 'Call type ASLT W/ WPN is APCO WEAPON (Weapon Violation): police secure the scene first',
      field: 'callType.code',
      text: 'ASLT W/ WPN',
    },
  ]);
  t.equal(
    evaluate(rs, call({ code: 'LOUD' }, { screening: CLEAR })).gate.value,
    'co_response_only',
    'a jurisdiction may tighten a floor',
  );
  t.equal(evaluate(rs, call({ code: 'QUIET' }, { screening: CLEAR })).gate.value, 'civilian_ok');
  const kept = evaluate(rs, call({ code: 'QUIET' }, { narrative: 'HAS A KNIFE', screening: CLEAR }));
  t.equal(kept.gate.value, 'police_secure_first', 'a civilian_ok floor does not lower what the rules say');

  // Property: over random calls, the gate with the crosswalk is never less cautious than without it.
  const without = compileRuleset('/x', [{ file: 'rules.yaml', text: minimal }], []);
  t.ok(without.ok);
  if (!without.ok) return;
  const answer = fc.constantFrom('yes', 'no', 'unknown');
  fc.assert(
    fc.property(
      fc.constantFrom('ASLT W/ WPN', 'QUIET', 'LOUD', 'WEAPON', 'EDP', 'DISORD', 'Q1'),
      fc.constantFrom(undefined, 'MAN WITH KNIFE', 'DISORDERLY', 'NO WEAPON'),
      fc.constantFrom(undefined, 'HAS A GUN', 'WANTS TO DIE', 'CALM'),
      fc.record({ weapons: answer, violence: answer, threatsToOthers: answer, crimeInProgress: answer }),
      (code, description, narrative, screening) => {
        const c = call(
          { code, ...(description ? { description } : {}) },
          { ...(narrative ? { narrative } : {}), screening },
        );
        const a = GATE_VALUES.indexOf(evaluate(rs, c).gate.value);
        const b = GATE_VALUES.indexOf(evaluate(without.ruleset, c).gate.value);
        return a >= b;
      },
    ),
  );
});

t.test('the crosswalk is part of the rules version, and hot reload keeps the last good one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cad-cw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(DEFAULT_RULES_DIR, dir, { recursive: true });
  const town = join(dir, 'calltypes', 'new-haven.yaml');
  await writeFile(town, 'jurisdictions: [new-haven]\ncallTypes:\n  - { code: "10-96X", apco: MNTL }\n');
  const store = createRulesStore({ dir, watch: false });
  await store.start();
  t.teardown(() => store.stop());
  const v1 = store.current().version;
  const c = call({ code: '10-96X' }, {}, 'new-haven');
  t.equal(evaluate(store.current(), c).commonType.code, 'MNTL');

  await writeFile(
    town,
    'jurisdictions: [new-haven]\ncallTypes:\n  - { code: "10-96X", apco: WEAPON, floor: civilian_ok }\n',
  );
  const refused = await store.reload();
  t.equal(refused.ok, false);
  t.equal(refused.changed, false);
  t.match(
    refused.errors.map((e) => e.code),
    ['ERR_CALLTYPE_FLOOR_LOOSER'],
  );
  t.equal(store.current().version, v1, 'the last good crosswalk keeps serving');
  t.equal(evaluate(store.current(), c).commonType.code, 'MNTL');

  await writeFile(town, 'jurisdictions: [new-haven]\ncallTypes:\n  - { code: "10-96X", apco: MTLV }\n');
  const ok = await store.reload();
  t.equal(ok.ok, true);
  t.not(store.current().version, v1, 'a crosswalk change is a new rules version');
  t.equal(evaluate(store.current(), c).commonType.code, 'MTLV');
  t.equal(evaluate(store.current(), c).gate.value, 'police_secure_first');
});

t.test('the national file lists every APCO 2.103 type of the reference, with a floor', async (t) => {
  // A copy of shared/reference/apco-2.103-common-incident-types.tsv.
  const tsv = await readFile(
    join(import.meta.dirname, 'fixtures', 'apco-2.103-common-incident-types.tsv'),
    'utf8',
  );
  const r = await loadRuleset(DEFAULT_RULES_DIR);
  t.ok(r.ok);
  if (!r.ok) return;
  const types = r.ruleset.callTypes.types;
  const codes = tsv
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
  t.equal(
    new Set(codes).size,
    245,
    'the 246 rows of the reference hold 245 codes (FVEH and MAYDAY are listed twice)',
  );
  for (const code of codes) t.ok(types.has(code), `APCO ${code} is defined`);
  for (const code of [
    'ABDUCTF',
    'ABDUCTNF',
    'ACTSHOOT',
    'ASSAULT',
    'BARICADE',
    'CARJACK',
    'DVA',
    'DVNA',
    'HOMICIDE',
    'HOSTAGE',
    'MTLV',
    'NCRASLTWF',
    'ROBBERY',
    'SHOOT',
    'STABBING',
    'WEAPON',
  ]) {
    t.equal(types.get(code)?.floor, 'police_secure_first', `${code} is police_secure_first`);
  }
});
