/**
 * A value loaded from a folder of files (the triage rules, the routing policies), served with hot
 * reload: the folder is watched (debounced) and can be reloaded on demand; a candidate that does not
 * load is refused and the old version keeps serving; a good one is swapped in with one assignment,
 * so readers see one complete version or the other. Reloads never overlap.
 */
import { watch, type FSWatcher } from 'node:fs';

/** A pino-like logger: object first, message second. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LoadResult<T, E> = { ok: true; value: T; warnings?: E[] } | { ok: false; errors: E[] };

export interface ReloadResult<E> {
  ok: boolean;
  /** The version serving after this reload (the old one when the reload was refused). */
  version: string;
  /** True when a new version was swapped in. */
  changed: boolean;
  /** Why it was refused, or the warnings of the version loaded. */
  errors: E[];
  at: Date;
}

export interface ReloadingStore<T extends { version: string }, E> {
  /** Loads the folder (throws when the first load fails: there is nothing to serve) and starts watching. Idempotent. */
  start(): Promise<void>;
  /** Stops watching, cancels a pending reload and waits for one in flight. Idempotent. */
  stop(): Promise<void>;
  /** Loads the folder now; swaps the result in only if it loaded. */
  reload(): Promise<ReloadResult<E>>;
  /** The value serving now. Throws before `start()` has resolved. */
  current(): T;
  /** When the serving version was loaded. */
  loadedAt(): Date;
  /** The last reload attempt, refused ones included. Throws before `start()` has resolved. */
  lastReload(): ReloadResult<E>;
  /** Called after a new version is swapped in; returns an unsubscribe function. */
  onChange(fn: (next: T, previous: T) => void): () => void;
  /** Called after every reload attempt, refused ones included; returns an unsubscribe function. */
  onReload(fn: (result: ReloadResult<E>) => void): () => void;
}

export interface ReloadingStoreOptions<T, E> {
  /** What is served, for logs and errors: "rules", "routing policies". */
  what: string;
  dir: string;
  load: () => Promise<LoadResult<T, E>>;
  /** One line per error, for the start-up failure message. */
  format: (e: E) => string;
  logger?: StoreLogger;
  /** Watch the folder and reload on change (default false). */
  watch?: boolean;
  /** Watch sub-folders too (default false). */
  recursive?: boolean;
  /** Quiet time after the last file event before reloading (default 150 ms). */
  debounceMs?: number;
}

export function createReloadingStore<T extends { version: string }, E>(
  opts: ReloadingStoreOptions<T, E>,
): ReloadingStore<T, E> {
  const log = opts.logger;
  const debounceMs = opts.debounceMs ?? 150;
  let serving: T | undefined;
  let loadedAt = new Date(0);
  let last: ReloadResult<E> | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Reloads run one after another; this is the tail of the chain.
  let chain: Promise<unknown> = Promise.resolve();
  const changeListeners = new Set<(next: T, previous: T) => void>();
  const reloadListeners = new Set<(r: ReloadResult<E>) => void>();

  const notify = <A extends unknown[]>(listeners: Set<(...a: A) => void>, ...args: A) => {
    for (const fn of listeners) {
      try {
        fn(...args);
      } catch (err) {
        log?.error({ err }, `${opts.what} listener failed`);
      }
    }
  };

  const attempt = async (): Promise<ReloadResult<E>> => {
    const at = new Date();
    const loaded = await opts.load().catch((err: unknown): LoadResult<T, E> => {
      log?.error({ err, dir: opts.dir }, `${opts.what} could not be read`);
      return { ok: false, errors: [] };
    });
    if (loaded.ok) {
      const previous = serving;
      const changed = previous?.version !== loaded.value.version;
      if (changed) {
        serving = loaded.value; // the atomic swap: one assignment
        loadedAt = at;
        log?.info({ version: loaded.value.version, previous: previous?.version }, `${opts.what} loaded`);
      }
      last = { ok: true, version: loaded.value.version, changed, errors: loaded.warnings ?? [], at };
      if (changed && previous) notify(changeListeners, loaded.value, previous);
    } else {
      last = { ok: false, version: serving?.version ?? '', changed: false, errors: loaded.errors, at };
      log?.warn(
        { dir: opts.dir, errors: loaded.errors, serving: serving?.version },
        `${opts.what} change refused; the old version keeps serving`,
      );
    }
    notify(reloadListeners, last);
    return last;
  };

  const reload = (): Promise<ReloadResult<E>> => {
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
        if (!r.ok)
          throw new Error(
            `cannot load ${opts.what} from ${opts.dir}:\n${r.errors.map(opts.format).join('\n')}`,
          );
        if (opts.watch && !stopped) {
          watcher = watch(opts.dir, { recursive: opts.recursive ?? false }, (_event, name) => {
            // Editors write temp files; only YAML changes matter.
            if (name === null || /\.ya?ml$/.test(String(name))) schedule();
          });
          watcher.on('error', (err) => log?.error({ err, dir: opts.dir }, `${opts.what} watcher failed`));
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
      if (!serving) throw new Error(`${opts.what} store not started`);
      return serving;
    },
    loadedAt: () => loadedAt,
    lastReload() {
      if (!last) throw new Error(`${opts.what} store not started`);
      return last;
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
