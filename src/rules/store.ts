/**
 * The rules store: serves the current prepared rule set and swaps in a new one when the rules
 * folder changes (file watch, debounced) or when asked (`reload()`, the admin endpoint). A
 * candidate must compile AND pass its own rule tests; otherwise the old version keeps serving
 * and `status()` shows why. Swaps are atomic: `current()` returns one complete rule set or the other.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { PreparedRuleset } from './compile.ts';
import type { RuleDiagnostic } from './diagnostics.ts';
import { loadRuleset } from './load.ts';
import { runRuleTests } from './testing.ts';

/** A pino-like logger: object first, message second. */
export interface RulesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RulesStoreOptions {
  dir: string;
  logger?: RulesLogger;
  /** Watch the folder and reload on change (default false). */
  watch?: boolean;
  /** Quiet time after the last file event before reloading (default 150 ms). */
  debounceMs?: number;
}

export interface ReloadResult {
  ok: boolean;
  /** The version serving after this reload (the old one when the reload was refused). */
  version: string;
  /** True when a new version was swapped in. */
  changed: boolean;
  errors: RuleDiagnostic[];
  at: Date;
}

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
  const log = opts.logger;
  const debounceMs = opts.debounceMs ?? 150;
  let serving: PreparedRuleset | undefined;
  let loadedAt = new Date(0);
  let last: ReloadResult | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Reloads run one after another; this is the tail of the chain.
  let chain: Promise<unknown> = Promise.resolve();
  const changeListeners = new Set<(next: PreparedRuleset, previous: PreparedRuleset) => void>();
  const reloadListeners = new Set<(r: ReloadResult) => void>();

  const attempt = async (): Promise<ReloadResult> => {
    const at = new Date();
    const loaded = await loadRuleset(opts.dir);
    let errors = loaded.ok ? testFailures(loaded.ruleset) : loaded.errors;
    if (loaded.ok && errors.length === 0) {
      const previous = serving;
      const changed = previous?.version !== loaded.ruleset.version;
      serving = loaded.ruleset; // the atomic swap: one assignment
      loadedAt = at;
      last = { ok: true, version: serving.version, changed, errors: loaded.ruleset.warnings, at };
      if (changed) log?.info({ version: serving.version, previous: previous?.version }, 'rules loaded');
      if (changed && previous) {
        for (const fn of changeListeners) {
          try {
            fn(serving, previous);
          } catch (err) {
            log?.error({ err }, 'rules onChange listener failed');
          }
        }
      }
    } else {
      errors = errors.filter((e) => e.severity !== 'warning');
      last = { ok: false, version: serving?.version ?? '', changed: false, errors, at };
      log?.warn({ dir: opts.dir, errors, serving: serving?.version }, 'rules change refused; the old version keeps serving');
    }
    for (const fn of reloadListeners) {
      try {
        fn(last);
      } catch (err) {
        log?.error({ err }, 'rules onReload listener failed');
      }
    }
    return last;
  };

  const reload = (): Promise<ReloadResult> => {
    const next = chain.then(attempt, attempt);
    chain = next.catch(() => undefined);
    return next;
  };

  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) void reload();
    }, debounceMs);
  };

  return {
    start() {
      starting ??= (async () => {
        stopped = false;
        const r = await reload();
        if (!r.ok) {
          const lines = r.errors.map((e) => `${e.file}:${e.line}: [${e.code}] ${e.message}`).join('\n');
          throw new Error(`cannot load rules from ${opts.dir}:\n${lines}`);
        }
        if (opts.watch && !stopped) {
          watcher = watch(opts.dir, { recursive: true }, (_event, name) => {
            // Editors write temp files; only YAML changes matter.
            if (name === null || /\.ya?ml$/.test(String(name))) schedule();
          });
          watcher.on('error', (err) => log?.error({ err, dir: opts.dir }, 'rules watcher failed'));
        }
      })();
      return starting;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
      await chain;
      starting = undefined;
    },
    reload,
    current() {
      if (!serving) throw new Error('rules store not started');
      return serving;
    },
    status() {
      if (!serving || !last) throw new Error('rules store not started');
      return {
        version: serving.version,
        loadedAt,
        files: serving.files,
        lastReload: { ok: last.ok, at: last.at, errors: last.errors },
      };
    },
    onChange(fn) {
      changeListeners.add(fn);
      return () => changeListeners.delete(fn);
    },
    onReload(fn) {
      reloadListeners.add(fn);
      return () => reloadListeners.delete(fn);
    },
  };
}
