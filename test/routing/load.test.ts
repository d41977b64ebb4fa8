import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createPolicyStore,
  DEFAULT_POLICIES_DIR,
  formatPolicyDiagnostic,
  jurisdictionOfAgency,
  loadPolicies,
  type PolicyDiagnostic,
} from '../../src/routing/index.ts';
import { BASE_FILES, policyDir } from './helpers.ts';

t.test('the shipped policies load with no errors', async (t) => {
  const r = await loadPolicies(DEFAULT_POLICIES_DIR);
  if (!r.ok) return t.fail(r.errors.map(formatPolicyDiagnostic).join('\n'));
  t.match(r.version, /^sha256:[0-9a-f]{16}$/);
  t.ok(r.files.includes('shared-pools.yaml') && r.files.includes('default.yaml'));
  const ids = [...r.policies.jurisdictions.keys()];
  for (const id of [
    'default',
    'branford',
    'stamford',
    'new-haven',
    'hartford',
    'redding',
    'ridgefield',
    'coventry',
    'willimantic',
  ]) {
    t.ok(ids.includes(id), id);
  }
  const models = new Set([...r.policies.pools.values()].map((p) => p.model));
  t.same([...models].sort(), [
    'contracted',
    'embedded',
    'intern',
    'mobile_crisis',
    'municipal_agency',
    'referral_line',
    'town_department',
  ]);
  const again = await loadPolicies(DEFAULT_POLICIES_DIR);
  t.equal(again.ok && again.version, r.version, 'the version is a content hash');
});

// Each line of interest is numbered in a comment, so the expected lines are checked by eye too.
const BROKEN_POOLS = `pools:
  - id: ok-pool
    name: Fine
    model: embedded
    categories: [behavioral_health]
    mayAttendAlone: true
    schedule: always
  - id: kids              # line 8
    name: Student interns
    model: intern
    categories: [juvenile, Not-A-Name]  # line 11
    mayAttendAlone: true  # line 12
    schedule:
      - mon-fri 09:00-17:00
      - someday 09:00-17:00  # line 15
    timeZone: Mars/Olympus  # line 16
  - id: weird             # line 17
    name: Weird
    model: psychic        # line 19
    categories: [behavioral_health]
    mayAttendAlone: true
    schedule: always
  - id: ok-pool           # line 23
    name: Duplicate
    model: contracted
    categories: [elderly]
    mayAttendAlone: true
    schedule: always
`;

const BROKEN_TOWN = `jurisdictions:
  - id: town
    name: Town
    timeZone: America/Hartford   # line 4
    pools: [ok-pool, nobody, weird]  # line 5
    fallback: [police, ghost, referral:ok-pool]  # line 6
    followUp:                    # line 7
      always: true
  - id: other
    name: Other
    timeZone: America/New_York
    pools: []
    fallback: [police]
`;

t.test('a broken folder reports every problem with its file and line', async (t) => {
  const dir = await policyDir(t, {
    ...BASE_FILES,
    'pools.yaml': BROKEN_POOLS,
    'town.yaml': BROKEN_TOWN,
    'bad.yaml': 'pools: [\n',
  });
  const r = await loadPolicies(dir);
  if (r.ok) return t.fail('should not load');
  const got = r.errors.map(
    (e: PolicyDiagnostic) => `${e.file}:${e.line} ${e.code}${e.poolId ? ` ${e.poolId}` : ''}`,
  );
  t.same(got, [
    'bad.yaml:2 ERR_POLICY_YAML',
    'pools.yaml:11 ERR_POLICY_CATEGORY kids',
    'pools.yaml:12 ERR_POLICY_INTERN_ALONE kids',
    'pools.yaml:15 ERR_POLICY_SCHEDULE kids',
    'pools.yaml:16 ERR_POLICY_TIME_ZONE kids',
    'pools.yaml:19 ERR_POLICY_UNKNOWN_MODEL weird',
    'pools.yaml:23 ERR_POLICY_DUPLICATE_ID ok-pool',
    'town.yaml:4 ERR_POLICY_TIME_ZONE',
    'town.yaml:5 ERR_POLICY_UNKNOWN_POOL nobody',
    'town.yaml:6 ERR_POLICY_FALLBACK ghost',
    'town.yaml:6 ERR_POLICY_FALLBACK ok-pool',
    'town.yaml:7 ERR_POLICY_FOLLOW_UP',
    'town.yaml:9 ERR_POLICY_FOLLOW_UP',
  ]);
  t.notOk(
    r.errors.some((e) => e.code === 'ERR_POLICY_UNKNOWN_POOL' && e.poolId === 'weird'),
    'a pool that failed its own checks is not reported again as unknown',
  );
  const dup = r.errors.find((e) => e.code === 'ERR_POLICY_DUPLICATE_ID');
  t.match(dup?.message, /already defined in pools\.yaml:2/);
  t.match(
    r.errors.find((e) => e.code === 'ERR_POLICY_FOLLOW_UP'),
    { jurisdiction: 'town' },
  );
  t.match(formatPolicyDiagnostic(dup!), /^pools\.yaml:23: \[ERR_POLICY_DUPLICATE_ID\] /);
});

t.test('schema problems are located; a missing default and a missing folder are reported', async (t) => {
  const dir = await policyDir(t, {
    'x.yaml': `jurisdictions:\n  - id: Bad Id\n    name: X\n    timeZone: UTC\n    pools: []\n    fallback: [police]\n    followUp: { pool: p }\n    colour: red\n`,
  });
  const r = await loadPolicies(dir);
  if (r.ok) return t.fail('should not load');
  t.match(r.errors, [
    { code: 'ERR_POLICY_MISSING_DEFAULT', line: 0 },
    { code: 'ERR_POLICY_SCHEMA', file: 'x.yaml', line: 2, jurisdiction: 'Bad Id', message: /lower-case id/ },
    { code: 'ERR_POLICY_SCHEMA', file: 'x.yaml', line: 2, message: /colour/ },
  ]);
  const missing = await loadPolicies(join(dir, 'nope'));
  t.match(missing, { ok: false, errors: [{ code: 'ERR_POLICY_IO' }] });
});

t.test('the store serves the last good version and swaps atomically on reload', async (t) => {
  const town = (hours: string) =>
    `pools:\n  - { id: sw, name: SW, model: embedded, categories: [elderly], mayAttendAlone: true, schedule: '${hours}' }\n`;
  const dir = await policyDir(t, { ...BASE_FILES, 'town.yaml': town('mon-fri 08:00-16:00') });
  const store = createPolicyStore({ dir });
  t.teardown(() => store.stop());
  await store.start();
  const first = store.current();
  const changes: string[] = [];
  store.onChange((next) => changes.push(next.version));

  await writeFile(join(dir, 'town.yaml'), town('mon-fri 8-4'));
  const refused = await store.reload();
  t.match(refused, {
    ok: false,
    changed: false,
    version: first.version,
    errors: [{ code: 'ERR_POLICY_SCHEDULE', file: 'town.yaml', line: 2 }],
  });
  t.equal(store.current(), first, 'the old version keeps serving');

  await writeFile(join(dir, 'town.yaml'), town('mon-fri 09:00-17:00'));
  const ok = await store.reload();
  t.match(ok, { ok: true, changed: true });
  t.not(store.current().version, first.version);
  t.same(changes, [store.current().version]);
  t.match(await store.reload(), { ok: true, changed: false });

  const empty = createPolicyStore({ dir: join(dir, 'missing') });
  await t.rejects(empty.start(), /cannot load routing policies/);
  await empty.stop();
});

t.test(
  'agencies: an agency id picks its jurisdiction; one agency in two jurisdictions is refused',
  async (t) => {
    const town = (id: string, agencies: string) =>
      `jurisdictions:\n  - id: ${id}\n    name: ${id}\n    timeZone: America/New_York\n    agencies: ${agencies}\n    pools: []\n    fallback: [police]\n    followUp: { pool: line-211 }\n`;
    const ok = await loadPolicies(
      await policyDir(t, { ...BASE_FILES, 'a.yaml': town('town-a', '[psap.a.ct.us, ORI-CT0001]') }),
    );
    if (!ok.ok) return t.fail(JSON.stringify(ok.errors));
    t.equal(jurisdictionOfAgency(ok.policies, 'psap.a.ct.us'), 'town-a');
    t.equal(jurisdictionOfAgency(ok.policies, ' ori-ct0001 '), 'town-a', 'case and spaces ignored');
    t.equal(jurisdictionOfAgency(ok.policies, 'psap.b.ct.us'), undefined, 'an unlisted agency has none');
    const dup = await loadPolicies(
      await policyDir(t, {
        ...BASE_FILES,
        'a.yaml': town('town-a', '[psap.a.ct.us]'),
        'b.yaml': town('town-b', '[PSAP.A.CT.US]'),
      }),
    );
    if (dup.ok) return t.fail('should not load');
    t.same(
      dup.errors.map((e) => `${e.file}:${e.line} ${e.code} ${e.jurisdiction}`),
      ['b.yaml:5 ERR_POLICY_DUPLICATE_AGENCY town-b'],
    );
    t.match(dup.errors[0]?.message, /already listed by jurisdiction 'town-a' in a\.yaml:5/);
  },
);
