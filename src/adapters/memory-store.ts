import { EventEmitter } from 'node:events';
import type { KeyValueStore } from './store.ts';

/**
 * The in-process twin of the Redis store. Expiry is checked on read (no timers to clean up), and
 * windows are pruned on every write, so memory stays bounded by the live keys.
 */
export function createMemoryStore(options: { now?: () => number } = {}): KeyValueStore {
  const now = options.now ?? Date.now;
  const values = new Map<string, { value: string; expiresAt: number }>();
  const windows = new Map<string, Map<string, number>>();
  const bus = new EventEmitter();
  let closed = false;

  const live = (key: string) => {
    const entry = values.get(key);
    if (entry && entry.expiresAt <= now()) {
      values.delete(key);
      return undefined;
    }
    return entry;
  };
  const prune = (key: string, nowMs: number, windowMs: number) => {
    const w = windows.get(key);
    if (!w) return undefined;
    for (const [member, at] of w) if (at <= nowMs - windowMs) w.delete(member);
    if (w.size === 0) windows.delete(key);
    return w.size > 0 ? w : undefined;
  };

  return {
    kind: 'memory',
    async setIfAbsent(key, value, ttlMs) {
      if (live(key)) return false;
      values.set(key, { value, expiresAt: now() + ttlMs });
      return true;
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async del(key) {
      values.delete(key);
      windows.delete(key);
    },
    async windowAdd(key, member, nowMs, windowMs) {
      const w = prune(key, nowMs, windowMs) ?? new Map<string, number>();
      w.set(member, nowMs);
      windows.set(key, w);
      return w.size;
    },
    async windowCount(key, nowMs, windowMs) {
      return prune(key, nowMs, windowMs)?.size ?? 0;
    },
    async increment(key, ttlMs) {
      const entry = live(key);
      const next = (entry ? Number(entry.value) : 0) + 1;
      values.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? now() + ttlMs });
      return next;
    },
    async publish(channel, message) {
      bus.emit(channel, message);
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
      return async () => {
        bus.off(channel, handler);
      };
    },
    async ping() {
      if (closed) throw new Error('memory store is closed');
    },
    async close() {
      closed = true;
      bus.removeAllListeners();
      values.clear();
      windows.clear();
    },
  };
}
