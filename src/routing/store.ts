/**
 * The policy store: serves the current routing policies and swaps in a new version when the
 * policies folder changes (file watch, debounced) or when asked (`reload()`). A folder with any
 * error never replaces policies that are serving; `status()` says why it was refused. Swaps are
 * atomic: `current()` returns one complete version or the other.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { PolicySet } from './compile.ts';
import type { PolicyDiagnostic } from './diagnostics.ts';
import { formatPolicyDiagnostic } from './diagnostics.ts';
import { loadPolicies } from './load.ts';

/** A pino-like logger: object first, message second. */
export interface PolicyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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

export interface PolicyReloadResult {
  ok: boolean;
  /** The version serving after this reload (the old one when refused). */
  version: string;
  changed: boolean;
  errors: PolicyDiagnostic[];
  at: Date;
}

export interface PolicyStore {
  /** Loads the policies (throws when the first load fails: there is nothing to serve) and starts watching. Idempotent. */
  start(): Promise<void>;
  /** Stops watching, cancels a pending reload and waits for one in flight. Idempotent. */
  stop(): Promise<void>;
  /** Loads and validates the folder now; swaps it in only if it has no error. Reloads never overlap. */
  reload(): Promise<PolicyReloadResult>;
  /** The policies serving now. Throws before `start()` has resolved. */
  current(): ServingPolicies;
  /** The last reload attempt, refused ones included. Throws before `start()` has resolved. */
  lastReload(): PolicyReloadResult;
  /** Called after a new version is swapped in; returns an unsubscribe function. */
  onChange(fn: (next: ServingPolicies, previous: ServingPolicies) => void): () => void;
}

export function createPolicyStore(opts: PolicyStoreOptions): PolicyStore {
  const log = opts.logger;
  const debounceMs = opts.debounceMs ?? 150;
  let serving: ServingPolicies | undefined;
  let last: PolicyReloadResult | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Reloads run one after another; this is the tail of the chain.
  let chain: Promise<unknown> = Promise.resolve();
  const listeners = new Set<(next: ServingPolicies, previous: ServingPolicies) => void>();

  const attempt = async (): Promise<PolicyReloadResult> => {
    const at = new Date();
    const loaded = await loadPolicies(opts.dir);
    if (loaded.ok) {
      const previous = serving;
      const changed = previous?.version !== loaded.version;
      if (changed) {
        serving = { policies: loaded.policies, version: loaded.version, files: loaded.files, loadedAt: at }; // the atomic swap
        log?.info({ version: loaded.version, previous: previous?.version }, 'routing policies loaded');
      }
      last = { ok: true, version: loaded.version, changed, errors: [], at };
      if (changed && previous && serving) {
        for (const fn of listeners) {
          try {
            fn(serving, previous);
          } catch (err) {
            log?.error({ err }, 'policy onChange listener failed');
          }
        }
      }
    } else {
      last = { ok: false, version: serving?.version ?? '', changed: false, errors: loaded.errors, at };
      log?.warn(
        { dir: opts.dir, errors: loaded.errors, serving: serving?.version },
        'policy change refused; the old version keeps serving',
      );
    }
    return last;
  };

  const reload = (): Promise<PolicyReloadResult> => {
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
          throw new Error(
            `cannot load routing policies from ${opts.dir}:\n${r.errors.map(formatPolicyDiagnostic).join('\n')}`,
          );
        }
        if (opts.watch && !stopped) {
          watcher = watch(opts.dir, (_event, name) => {
            // Editors write temp files; only YAML changes matter.
            if (name === null || /\.ya?ml$/.test(String(name))) schedule();
          });
          watcher.on('error', (err) => log?.error({ err, dir: opts.dir }, 'policy watcher failed'));
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
      if (!serving) throw new Error('policy store not started');
      return serving;
    },
    lastReload() {
      if (!last) throw new Error('policy store not started');
      return last;
    },
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
