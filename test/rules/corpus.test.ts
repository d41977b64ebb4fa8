/**
 * The rule test corpus: every case in rules/tests/*.yaml runs against the default rules, and
 * every default rule must be pinned by at least one case. Add a behaviour by adding a YAML case.
 */
import t from 'tap';
import { DEFAULT_RULES_DIR, loadRuleset, runRuleTests, formatDiagnostic } from '../../src/rules/index.ts';

const loaded = await loadRuleset(DEFAULT_RULES_DIR);
if (!loaded.ok) {
  t.fail(`default rules do not compile:\n${loaded.errors.map(formatDiagnostic).join('\n')}`);
} else {
  const rs = loaded.ruleset;

  t.test('the default rules compile without warnings', async (t) => {
    t.same(rs.warnings.map(formatDiagnostic), []);
  });

  for (const r of runRuleTests(rs)) {
    t.test(`${r.test.file}: ${r.test.name}`, async (t) => {
      t.ok(r.pass, r.failures.join('\n') || 'passes', { file: `rules/${r.test.file}`, line: r.test.line });
    });
  }

  t.test('every default rule is expected as evidence by some test case', async (t) => {
    const expected = new Set(rs.tests.flatMap((c) => c.expect.evidence));
    const missing = [...rs.ruleIds].filter((id) => !expected.has(id)).sort();
    t.same(missing, [], 'rule ids no test case expects');
  });

  t.test('the corpus covers negation, abbreviations, bystanders, missing screening, premise flags and multi-category calls', async (t) => {
    const names = rs.tests.map((c) => c.name.toLowerCase()).join('\n');
    for (const topic of ['denies', 'abbreviation', 'bystander', 'missing screening', 'premise flag', 'homeless, intoxicated']) {
      t.match(names, topic);
    }
    t.ok(rs.tests.some((c) => (c.expect.categories?.length ?? 0) >= 2), 'a multi-category case');
  });
}
