import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { KeyValueStore } from './store.ts';

/** ZREMRANGEBYSCORE + ZADD + ZCARD + PEXPIRE, atomically. ARGV: now ms, window ms, member. */
const WINDOW_ADD = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
local count = redis.call('ZCARD', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window)
return count`;

/** INCR, and PEXPIRE on the first increment only. ARGV: ttl ms. */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

interface Scripts {
  windowAdd(key: string, nowMs: number, windowMs: number, member: string): Promise<number>;
  incrementTtl(key: string, ttlMs: number): Promise<number>;
}

/**
 * The Redis store. ioredis 6 speaks RESP3 by default; we pin RESP2 so replies have one shape on any
 * Redis or proxy. Commands fail after a couple of retries instead of queueing forever while Redis is
 * down, so callers (the Kafka consumer) can see the outage and pause rather than pile up work.
 */
export async function openRedisStore(options: {
  url: string;
  prefix: string;
  logger?: Logger;
}): Promise<KeyValueStore> {
  const redisOptions = {
    keyPrefix: options.prefix,
    protocol: 2 as const,
    // Commands issued in the same tick (concurrent requests, one call's two windows) go in one write.
    enableAutoPipelining: true,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  const redis = new Redis(options.url, redisOptions) as Redis & Scripts;
  // Each read-modify-write is one script: one command per call instead of a MULTI of four or five.
  redis.defineCommand('windowAdd', { numberOfKeys: 1, lua: WINDOW_ADD });
  redis.defineCommand('incrementTtl', { numberOfKeys: 1, lua: INCREMENT });
  // Without a listener, a connection error is an unhandled 'error' event and kills the process.
  redis.on('error', (err) => options.logger?.warn({ err }, 'redis connection error'));
  try {
    await redis.connect();
  } catch (err) {
    // Stop the reconnect loop, or the failed client keeps the process alive forever.
    redis.disconnect();
    throw err;
  }

  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  let closed = false;

  const getSubscriber = async () => {
    if (subscriber) return subscriber;
    // A subscribed connection cannot run other commands; key prefixes do not apply to channels.
    subscriber = new Redis(options.url, { ...redisOptions, keyPrefix: undefined });
    subscriber.on('error', (err) => options.logger?.warn({ err }, 'redis subscriber error'));
    subscriber.on('message', (channel: string, message: string) => {
      for (const h of handlers.get(channel.slice(options.prefix.length)) ?? []) h(message);
    });
    await subscriber.connect();
    return subscriber;
  };

  return {
    kind: 'redis',
    async setIfAbsent(key, value, ttlMs) {
      return (await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async get(key) {
      return redis.get(key);
    },
    async del(key) {
      await redis.del(key);
    },
    async windowAdd(key, member, nowMs, windowMs) {
      return redis.windowAdd(key, nowMs, windowMs, member);
    },
    async windowCount(key, nowMs, windowMs) {
      return redis.zcount(key, `(${nowMs - windowMs}`, '+inf');
    },
    async increment(key, ttlMs) {
      return redis.incrementTtl(key, ttlMs);
    },
    async publish(channel, message) {
      await redis.publish(options.prefix + channel, message);
    },
    async subscribe(channel, handler) {
      const sub = await getSubscriber();
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await sub.subscribe(options.prefix + channel);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(channel);
          if (!closed) await sub.unsubscribe(options.prefix + channel);
        }
      };
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      await Promise.all([
        redis.quit().catch(() => redis.disconnect()),
        subscriber?.quit().catch(() => subscriber?.disconnect()),
      ]);
    },
  };
}
