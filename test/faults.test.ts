/**
 * The fault suite's short run (scripts/faults.ts; the full one is `npm run faults` on private
 * services): on the test services, each scenario in its own schema, topics and group.
 */
import t from 'tap';
import { format, malformed, nearLimit } from '../scripts/faults.ts';
import { kafkaBrokers, postgres, redisUrl } from './helpers/services.ts';

const [kafka, pg, redis] = await Promise.all([kafkaBrokers(), postgres(), redisUrl()]);
const skip = kafka.skip || pg.skip || redis.skip;
t.setTimeout(600_000);

t.test('fault suite, short run: near-limit record and malformed records', { skip }, async (t) => {
  if (!kafka.ok || !pg.ok || !redis.ok) return;
  const services = { DATABASE_URL: pg.value, REDIS_URL: redis.value, KAFKA_BROKERS: kafka.value };
  const results = [
    await nearLimit(services, { good: 60 }),
    await malformed(services, { bad: 300, good: 30 }),
  ];
  t.comment(format(results));
  for (const r of results) {
    t.equal(r.lost, 0, `${r.name}: 0 lost`);
    t.equal(r.doubled, 0, `${r.name}: 0 doubled`);
    for (const c of r.checks) t.ok(c.ok, `${r.name}: ${c.what}`);
  }
});
