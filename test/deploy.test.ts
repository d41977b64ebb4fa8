import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigSchema, describeMode, loadConfig } from '../src/config.ts';

// No Docker engine runs here, so the compose file and Dockerfile are checked for consistency with
// the code instead: the service's environment must be a valid, full-mode configuration.
t.test(
  'docker-compose.yml wires the service to Kafka, PostgreSQL and Redis with a valid config',
  async (t) => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
      services: Record<
        string,
        {
          environment?: Record<string, string | number>;
          depends_on?: Record<string, unknown>;
          healthcheck?: unknown;
        }
      >;
    };
    t.same(Object.keys(compose.services).sort(), ['cad-triage', 'kafka', 'postgres', 'redis']);
    const svc = compose.services['cad-triage']!;
    const env = Object.fromEntries(
      Object.entries(svc.environment ?? {}).map(([k, v]) => [
        k,
        String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
      ]),
    );
    for (const key of Object.keys(env)) t.ok(key in ConfigSchema.shape, `${key} is a config variable`);
    const config = loadConfig(env);
    t.equal(describeMode(config).mode, 'full');
    t.same(Object.keys(svc.depends_on ?? {}).sort(), ['kafka', 'postgres', 'redis']);
    for (const [name, s] of Object.entries(compose.services))
      t.ok(s.healthcheck, `${name} has a healthcheck`);
  },
);

t.test('the Dockerfile copies what exists, runs as non-root and checks health', async (t) => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+(?: \S+)*) \S+$/gm)) {
    for (const path of m[1]!.split(' ')) t.ok(existsSync(path), `${path} exists`);
  }
  t.match(dockerfile, /^USER node$/m);
  t.match(dockerfile, /^HEALTHCHECK /m);
  t.match(
    dockerfile,
    /npm ci --omit=dev --omit=optional/,
    'production dependencies only, not the Node binary package',
  );
});
