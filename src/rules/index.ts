/**
 * The rules engine: load and compile a rules folder, classify call events with it, and serve it
 * with hot reload. See `rules/README` comments in the YAML files for the format.
 */
export { loadRuleset, readRulesDir, DEFAULT_RULES_DIR } from './load.ts';
export { compileRuleset, type CompileResult, type PreparedRuleset } from './compile.ts';
export { evaluate, classify, type EvaluationContext } from './evaluate.ts';
export { createRulesStore, type RulesStore, type RulesStoreOptions, type ReloadResult, type RulesStatus, type RulesLogger } from './store.ts';
export { runRuleTests, runRuleTest, type RuleTestResult } from './testing.ts';
export { formatDiagnostic, RULE_ERROR_CODES, type RuleDiagnostic, type RuleErrorCode } from './diagnostics.ts';
