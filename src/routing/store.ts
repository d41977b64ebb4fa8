/**
 * The policy store: serves the current routing policies and swaps in a new version when the
 * policies folder changes (file watch, debounced) or when asked (`reload()`). A folder with any
 * error never replaces policies that are serving; `lastReload()` says why it was refused.
 */
import type { PolicySet } from './compile.ts';
import { formatPolicyDiagnostic, type PolicyDiagnostic } from './diagnostics.ts';
import { loadPolicies } from './load.ts';
import {
  createReloadingStore,
  type ReloadingStore,
  type ReloadResult,
  type StoreLogger,
} from '../reloading-store.ts';

export type PolicyLogger = StoreLogger;

export interface PolicyStoreOptions {
  dir: string;
  logger?: PolicyLogger;
  /** Watch the folder and reload on change (default false). */
  watch?: boolean;
  /** Quiet time after the last file event before reloading (default 150 ms). */
  debounceMs?: number;
}

/** The policies serving, with their content hash. */
export interface ServingPolicies {
  policies: PolicySet;
  version: string;
  files: string[];
  loadedAt: Date;
}

export type PolicyReloadResult = ReloadResult<PolicyDiagnostic>;

export type PolicyStore = ReloadingStore<ServingPolicies, PolicyDiagnostic>;

export function createPolicyStore(opts: PolicyStoreOptions): PolicyStore {
  return createReloadingStore<ServingPolicies, PolicyDiagnostic>({
    what: 'routing policies',
    dir: opts.dir,
    format: formatPolicyDiagnostic,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.watch !== undefined ? { watch: opts.watch } : {}),
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    async load() {
      const loaded = await loadPolicies(opts.dir);
      if (!loaded.ok) return { ok: false, errors: loaded.errors };
      const { policies, version, files } = loaded;
      return { ok: true, value: { policies, version, files, loadedAt: new Date() } };
    },
  });
}
