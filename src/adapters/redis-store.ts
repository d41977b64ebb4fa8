import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { KeyValueStore } from './store.ts';

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
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  const redis = new Redis(options.url, redisOptions);
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
      const res = await redis
        .multi()
        .zremrangebyscore(key, '-inf', nowMs - windowMs)
        .zadd(key, nowMs, member)
        .zcard(key)
        .pexpire(key, windowMs)
        .exec();
      const card = res?.[2];
      if (!card || card[0]) throw card?.[0] ?? new Error('redis transaction aborted');
      return card[1] as number;
    },
    async windowCount(key, nowMs, windowMs) {
      return redis.zcount(key, `(${nowMs - windowMs}`, '+inf');
    },
    async increment(key, ttlMs) {
      const res = await redis.multi().incr(key).pexpire(key, ttlMs, 'NX').exec();
      const incr = res?.[0];
      if (!incr || incr[0]) throw incr?.[0] ?? new Error('redis transaction aborted');
      return incr[1] as number;
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
