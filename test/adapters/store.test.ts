import t from 'tap';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { openRedisStore } from '../../src/adapters/redis-store.ts';
import type { KeyValueStore } from '../../src/adapters/store.ts';
import { redisUrl, uniqueName } from '../helpers/services.ts';

/** The contract every KeyValueStore keeps; run against the in-process twin and real Redis alike. */
function contract(name: string, open: () => Promise<KeyValueStore>, skip: string | false = false) {
  t.test(`${name}: key-value store contract`, { skip }, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    await store.ping();

    t.equal(await store.setIfAbsent('evt:1', 'a', 60_000), true, 'first set wins');
    t.equal(await store.setIfAbsent('evt:1', 'b', 60_000), false, 'second set loses');
    t.equal(await store.get('evt:1'), 'a', 'value of the winner kept');
    t.equal(await store.get('missing'), null, 'missing key is null');
    await store.del('evt:1');
    t.equal(await store.get('evt:1'), null, 'deleted');

    t.equal(await store.setIfAbsent('short', 'x', 50), true);
    await new Promise<void>((resolve) => {
      const poll = async () =>
        (await store.get('short')) === null ? resolve() : setTimeout(() => void poll(), 20);
      void poll();
    });
    t.equal(await store.setIfAbsent('short', 'y', 60_000), true, 'an expired key can be set again');

    const hour = 3_600_000;
    const t0 = Date.now();
    t.equal(await store.windowAdd('addr:1', 'e1', t0, hour), 1);
    t.equal(await store.windowAdd('addr:1', 'e2', t0 + 1000, hour), 2);
    t.equal(await store.windowAdd('addr:1', 'e2', t0 + 1000, hour), 2, 'a replayed member counts once');
    t.equal(await store.windowCount('addr:1', t0 + 2000, hour), 2, 'count without recording');
    t.equal(
      await store.windowAdd('addr:1', 'e3', t0 + hour + 500, hour),
      2,
      'entries older than the window drop out',
    );
    t.equal(await store.windowCount('addr:other', t0, hour), 0, 'an unknown window is empty');

    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.windowAdd('addr:2', `m${i}`, t0, hour)),
    );
    t.same(
      [...concurrent].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'atomic under concurrency',
    );

    const counts = await Promise.all(Array.from({ length: 10 }, () => store.increment('rate:k', 60_000)));
    t.same(
      [...counts].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      'increment is atomic',
    );

    const received: string[] = [];
    let gotIt!: () => void;
    const got = new Promise<void>((resolve) => (gotIt = resolve));
    const unsubscribe = await store.subscribe('rules', (m) => {
      received.push(m);
      gotIt();
    });
    await store.publish('rules', 'reload v2');
    await got;
    t.same(received, ['reload v2'], 'subscriber receives the message');
    await unsubscribe();

    await store.close();
    await store.close();
  });
}

contract('memory', async () => createMemoryStore());

const redis = await redisUrl();
contract(
  'redis',
  () => openRedisStore({ url: redis.ok ? redis.value : '', prefix: `${uniqueName('test')}:` }),
  redis.skip,
);

t.test(
  'redis: a store keeps working for other prefixes and its keys carry the prefix',
  { skip: redis.skip },
  async (t) => {
    const prefix = `${uniqueName('test')}:`;
    const a = await openRedisStore({ url: redis.ok ? redis.value : '', prefix });
    const raw = await openRedisStore({ url: redis.ok ? redis.value : '', prefix: '' });
    t.teardown(async () => {
      await raw.del(`${prefix}k`);
      await Promise.all([a.close(), raw.close()]);
    });
    await a.setIfAbsent('k', 'v', 60_000);
    t.equal(await raw.get(`${prefix}k`), 'v', 'stored under the prefix');
    t.equal(await raw.get('k'), null, 'not without it');
  },
);

t.test('redis: an unreachable server fails fast instead of hanging', { skip: redis.skip }, async (t) => {
  await t.rejects(openRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'x:' }));
});
