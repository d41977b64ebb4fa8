/**
 * The fast shared state: sliding-window repeat-call counters, rate limits and a broadcast channel
 * (rules reload); event ids are deduplicated by PostgreSQL, not here. Redis in production; an in-process twin on the embedded default,
 * which is correct for one replica only. Keys are given without the prefix; implementations add it.
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  /** Sets `key` to `value` only if it does not exist, expiring after `ttlMs`. True if it was set (atomic). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** The value, or null when the key does not exist or has expired. */
  get(key: string): Promise<string | null>;
  /** Removes the key; no error when it does not exist. */
  del(key: string): Promise<void>;
  /**
   * Records `member` at time `nowMs` in the window `key`, drops entries older than `windowMs`, and
   * returns how many distinct members the window holds now, including this one (atomic). Recording the
   * same member twice counts it once, so a replayed event does not inflate the count.
   */
  windowAdd(key: string, member: string, nowMs: number, windowMs: number): Promise<number>;
  /** Counts distinct members recorded in the window at `nowMs` without recording anything. */
  windowCount(key: string, nowMs: number, windowMs: number): Promise<number>;
  /** Increments a counter that expires `ttlMs` after its first increment; returns the new value (atomic). */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Sends `message` to every subscriber of `channel`, in this process and (Redis) every other replica. */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `handler` for every message on `channel`; returns a function that unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes connections and timers. Idempotent. */
  close(): Promise<void>;
}
