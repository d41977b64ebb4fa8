/**
 * Where integration tests get their services, in this order: the environment (DATABASE_URL,
 * REDIS_URL, KAFKA_BROKERS); the usual port on localhost; testcontainers when a Docker engine is
 * reachable. When none works the tests of that service are skipped with the reason — except when
 * CI=true or CAD_TRIAGE_REQUIRE_SERVICES=1, where a missing service fails the run loudly.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const REQUIRE_SERVICES = process.env.CI === 'true' || process.env.CAD_TRIAGE_REQUIRE_SERVICES === '1';

export type Service<T> = { ok: true; value: T; skip: false } | { ok: false; skip: string };

function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const dockerAvailable = () => Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');

async function fromContainer(image: string, port: number, env: Record<string, string> = {}) {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withEnvironment(env)
    .withExposedPorts(port)
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  // Ryuk (testcontainers' reaper) removes the container when the test process exits.
  return `${container.getHost()}:${container.getMappedPort(port)}`;
}

async function find(
  name: string,
  envVar: string,
  local: { host: string; port: number; value: string },
  container?: () => Promise<string>,
): Promise<Service<string>> {
  const fromEnv = process.env[envVar];
  if (fromEnv) return { ok: true, value: fromEnv, skip: false };
  if (await portOpen(local.host, local.port)) return { ok: true, value: local.value, skip: false };
  if (container && dockerAvailable()) {
    try {
      return { ok: true, value: await container(), skip: false };
    } catch (err) {
      if (REQUIRE_SERVICES) throw err;
    }
  }
  const reason = `${name} not available: set ${envVar}, run it on ${local.host}:${local.port}, or provide a Docker engine`;
  if (REQUIRE_SERVICES) throw new Error(`${reason} (required because CI is set)`);
  return { ok: false, skip: reason };
}

let pg: Promise<Service<string>> | undefined;
let redis: Promise<Service<string>> | undefined;
let kafka: Promise<Service<string>> | undefined;

/** A PostgreSQL URL. Each test should still use its own schema (see `uniqueName`). */
export const postgres = () =>
  (pg ??= find(
    'PostgreSQL',
    'DATABASE_URL',
    { host: '127.0.0.1', port: 5432, value: 'postgres://postgres@127.0.0.1:5432/test' },
    async () =>
      `postgres://postgres:test@${await fromContainer('postgres:16-alpine', 5432, { POSTGRES_PASSWORD: 'test' })}/postgres`,
  ));

/** A Redis URL. Each test should still use its own key prefix. */
export const redisUrl = () =>
  (redis ??= find(
    'Redis',
    'REDIS_URL',
    { host: '127.0.0.1', port: 6379, value: 'redis://127.0.0.1:6379' },
    async () => `redis://${await fromContainer('redis:7-alpine', 6379)}`,
  ));

/** Kafka bootstrap brokers as a comma-separated list. Each test should use its own topics. */
export const kafkaBrokers = () =>
  (kafka ??= find('Kafka', 'KAFKA_BROKERS', { host: '127.0.0.1', port: 9092, value: '127.0.0.1:9092' }));

/** A name no other test (or earlier run) uses: schemas, key prefixes, topics, groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
