/**
 * The compiler: every problem of a rules folder is collected with its code, file, line and rule
 * id; a valid folder gives a content-hashed, prepared rule set; the committed JSON Schemas match
 * the zod schemas.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { compileRuleset, DEFAULT_RULES_DIR, evaluate, loadRuleset } from '../../src/rules/index.ts';
import { rulesJsonSchemas, SCHEMA_DIR } from '../../src/rules/json-schema.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

t.test('a broken folder reports every error with its code, file, line and rule id', async (t) => {
  const r = await loadRuleset(join(fixtures, 'broken'));
  t.equal(r.ok, false);
  if (r.ok) return;
  const got = r.errors
    .filter((e) => e.severity !== 'warning')
    .map((e) => `${e.file}:${e.line} ${e.code} ${e.ruleId ?? ''}`.trim());
  t.same(got, [
    'a.yaml:15 ERR_RULES_UNKNOWN_LEXICON bh.unknown-lexicon',
    'a.yaml:19 ERR_RULES_CEL_TYPE bh.bad-field',
    'a.yaml:20 ERR_RULES_UNKNOWN_CATEGORY bh.unknown-category',
    'b.yaml:6 ERR_RULES_CEL_SYNTAX gate.syntax',
    'b.yaml:7 ERR_RULES_DUPLICATE_ID bh.ok',
    'b.yaml:14 ERR_RULES_NOT_BOOL gate.not-bool',
  ]);
});

t.test('YAML and schema errors name the line', async (t) => {
  const r = compileRuleset('/x', [{ file: 'bad.yaml', text: 'categories:\n  - id: x\n    threshold: -1\n  - id: Bad Id\n' }], []);
  t.equal(r.ok, false);
  if (r.ok) return;
  t.same(
    r.errors.map((e) => [e.code, e.line]),
    [
      ['ERR_RULES_SCHEMA', 3],
      ['ERR_RULES_SCHEMA', 4],
    ],
  );
  const y = compileRuleset('/x', [{ file: 'y.yaml', text: 'rules:\n  - id: a\n    when: [unclosed\n' }], []);
  t.equal(y.ok, false);
  if (!y.ok) t.equal(y.errors[0]!.code, 'ERR_RULES_YAML');
});

t.test('a rule test with an invalid call or an unknown rule id is reported', async (t) => {
  const rules = await readFile(join(fixtures, 'minimal', 'rules.yaml'), 'utf8');
  const tests = 'tests:\n  - name: bad\n    call: { callType: { code: "" } }\n    expect: { evidence: [no.such.rule] }\n';
  const r = compileRuleset('/x', [{ file: 'rules.yaml', text: rules }], [{ file: 'tests/t.yaml', text: tests }]);
  t.equal(r.ok, false);
  if (!r.ok) t.ok(r.errors.every((e) => e.code === 'ERR_RULES_TEST_INVALID' && e.file === 'tests/t.yaml'));
});

t.test('an unreachable category and an unused lexicon', async (t) => {
  const text = `
categories: [{ id: a, threshold: 2 }]
lexicons: [{ id: unused, terms: [x] }]
rules: [{ id: a.one, category: a, weight: 1, reason: r, when: 'true' }]
gate: { rules: [{ id: g, level: civilian_ok, reason: r, when: 'true' }] }
`;
  const r = compileRuleset('/x', [{ file: 'r.yaml', text }], []);
  t.equal(r.ok, false);
  if (r.ok) return;
  t.same(
    r.errors.map((e) => `${e.code}${e.severity === 'warning' ? ' (warning)' : ''}`),
    ['ERR_RULES_MISSING (warning)', 'ERR_RULES_UNREACHABLE', 'ERR_RULES_UNUSED_LEXICON (warning)'],
  );
});

t.test('the version is a content hash of the rules files', async (t) => {
  const text = await readFile(join(fixtures, 'minimal', 'rules.yaml'), 'utf8');
  const a = compileRuleset('/x', [{ file: 'rules.yaml', text }], []);
  const b = compileRuleset('/y', [{ file: 'rules.yaml', text }], []);
  const c = compileRuleset('/x', [{ file: 'rules.yaml', text: `${text}\n# changed\n` }], []);
  t.ok(a.ok && b.ok && c.ok);
  if (!a.ok || !b.ok || !c.ok) return;
  t.match(a.ruleset.version, /^sha256:[0-9a-f]{16}$/);
  t.equal(a.ruleset.version, b.ruleset.version, 'same content, same version');
  t.not(a.ruleset.version, c.ruleset.version, 'changed content, new version');
});

t.test('the match: shorthand and when: mean the same', async (t) => {
  const r = await loadRuleset(join(fixtures, 'minimal'));
  t.ok(r.ok);
  if (!r.ok) return;
  const call = {
    eventId: 'e',
    incidentId: 'i',
    revision: 1,
    occurredAt: '2026-01-01T00:00:00Z',
    agency: { id: 'a', jurisdiction: 'j' },
    callType: { code: 'INTOX' },
  };
  const c = evaluate(r.ruleset, call);
  t.same(c.categories.map((x) => x.category), ['substance_use']);
  t.same(c.categories[0]!.evidence[0], { ruleId: 'su.alcohol', field: 'callType.code', text: 'INTOX', reason: 'Alcohol' });
  t.equal(c.gate.value, 'co_response_only');
  t.same(c.screeningQuestions.map((q) => q.key), ['weapons']);
});

t.test('the committed JSON Schemas are current (regenerate: cad-triage rules schema)', async (t) => {
  for (const [name, text] of Object.entries(rulesJsonSchemas())) {
    const committed = await readFile(join(DEFAULT_RULES_DIR, SCHEMA_DIR, name), 'utf8');
    t.equal(committed, text, `rules/${SCHEMA_DIR}/${name}`);
  }
});
