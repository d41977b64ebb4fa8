/**
 * Routing policy: per-jurisdiction YAML files under `rules/policies/` (responder pools, schedules,
 * fallbacks, follow-up thresholds), loaded with every error located, served with hot reload, and
 * the pure `route()` that turns a classification into a recommended response.
 */
export { loadPolicies, DEFAULT_POLICIES_DIR } from './load.ts';
export {
  compilePolicies,
  policyVersion,
  type CompileResult,
  type PolicySet,
  type Pool,
  type Jurisdiction,
  type FallbackStep,
  type SourceFile,
} from './compile.ts';
export { route, jurisdictionFor, jurisdictionOfAgency, repeatWindows } from './route.ts';
export {
  createPolicyStore,
  type PolicyStore,
  type PolicyStoreOptions,
  type PolicyReloadResult,
  type ServingPolicies,
  type PolicyLogger,
} from './store.ts';
export {
  formatPolicyDiagnostic,
  POLICY_ERROR_CODES,
  type PolicyDiagnostic,
  type PolicyErrorCode,
} from './diagnostics.ts';
export { DEFAULT_JURISDICTION, POLICE, REFERRAL_PREFIX } from './policy-format.ts';
