/**
 * The rules store: serves the current prepared rule set and swaps in a new one when the rules
 * folder changes (file watch, debounced) or when asked (`reload()`, the admin endpoint). A
 * candidate must compile AND pass its own rule tests; otherwise the old version keeps serving
 * and `status()` shows why. Swaps are atomic: `current()` returns one complete rule set or the other.
 */
import type { PreparedRuleset } from './compile.ts';
import { formatDiagnostic, type RuleDiagnostic } from './diagnostics.ts';
import { loadRuleset } from './load.ts';
import { runRuleTests } from './testing.ts';
import { createReloadingStore, type ReloadResult as StoreReloadResult, type StoreLogger } from '../reloading-store.ts';

/** A pino-like logger: object first, message second. */
export type RulesLogger = StoreLogger;

export interface RulesStoreOptions {
  dir: string;
  logger?: RulesLogger;
  /** Watch the folder and reload on change (default false). */
  watch?: boolean;
  /** Quiet time after the last file event before reloading (default 150 ms). */
  debounceMs?: number;
}

export type ReloadResult = StoreReloadResult<RuleDiagnostic>;

export interface RulesStatus {
  version: string;
  loadedAt: Date;
  files: string[];
  lastReload: { ok: boolean; at: Date; errors: RuleDiagnostic[] };
}

export interface RulesStore {
  /** Loads the rules (throws when the first load fails: there is nothing to serve) and starts watching. Idempotent. */
  start(): Promise<void>;
  /** Stops watching, cancels a pending reload and waits for one in flight. Idempotent. */
  stop(): Promise<void>;
  /** Loads, validates and tests the folder now; swaps it in only if all pass. Reloads never overlap. */
  reload(): Promise<ReloadResult>;
  /** The rule set serving now. Throws before `start()` has resolved. */
  current(): PreparedRuleset;
  status(): RulesStatus;
  /** Called after a new version is swapped in; returns an unsubscribe function. */
  onChange(fn: (next: PreparedRuleset, previous: PreparedRuleset) => void): () => void;
  /** Called after every reload attempt, refused ones included; returns an unsubscribe function. */
  onReload(fn: (result: ReloadResult) => void): () => void;
}

/** Turns failing rule tests into diagnostics, so a refused reload says which test failed where. */
function testFailures(rs: PreparedRuleset): RuleDiagnostic[] {
  return runRuleTests(rs)
    .filter((r) => !r.pass)
    .map((r) => ({
      code: 'ERR_RULES_TEST_FAILED' as const,
      file: r.test.file,
      line: r.test.line,
      message: `${r.test.name}: ${r.failures.join('; ')}`,
    }));
}

export function createRulesStore(opts: RulesStoreOptions): RulesStore {
  const store = createReloadingStore<PreparedRuleset, RuleDiagnostic>({
    what: 'rules',
    dir: opts.dir,
    format: formatDiagnostic,
    // Rule tests live in a sub-folder; a change there must re-test the rules too.
    recursive: true,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.watch !== undefined ? { watch: opts.watch } : {}),
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    async load() {
      const loaded = await loadRuleset(opts.dir);
      if (!loaded.ok) return { ok: false, errors: loaded.errors.filter((e) => e.severity !== 'warning') };
      const failures = testFailures(loaded.ruleset);
      if (failures.length > 0) return { ok: false, errors: failures };
      return { ok: true, value: loaded.ruleset, warnings: loaded.ruleset.warnings };
    },
  });
  return {
    start: store.start,
    stop: store.stop,
    reload: store.reload,
    current: store.current,
    onChange: store.onChange,
    onReload: store.onReload,
    status() {
      const serving = store.current();
      const last = store.lastReload();
      return {
        version: serving.version,
        loadedAt: store.loadedAt(),
        files: serving.files,
        lastReload: { ok: last.ok, at: last.at, errors: last.errors },
      };
    },
  };
}
