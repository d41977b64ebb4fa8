/**
 * Hot reload, on a temp copy of the default rules: a valid change is picked up without restart,
 * an invalid change (or one that breaks its own rule tests) is refused while the old version
 * keeps serving. The test waits on the store's events, never on fixed sleeps.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter, once } from 'node:events';
import t from 'tap';
import { createRulesStore, DEFAULT_RULES_DIR, evaluate, type ReloadResult } from '../../src/rules/index.ts';

async function tempRules(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cad-rules-'));
  await cp(DEFAULT_RULES_DIR, dir, { recursive: true });
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves with the next reload result (from the watcher or anyone else). */
function nextReload(store: ReturnType<typeof createRulesStore>): Promise<ReloadResult> {
  const ee = new EventEmitter();
  const off = store.onReload((r) => ee.emit('r', r));
  return once(ee, 'r').then(([r]) => {
    off();
    return r as ReloadResult;
  });
}

const call = {
  eventId: 'e1',
  incidentId: 'i1',
  revision: 1,
  occurredAt: '2026-01-01T00:00:00Z',
  agency: { id: 'a', jurisdiction: 'j' },
  callType: { code: 'ZZTOP' },
};

t.test('a valid change is picked up by the file watcher, without restart', async (t) => {
  const dir = await tempRules(t);
  const store = createRulesStore({ dir, watch: true, debounceMs: 50 });
  await store.start();
  t.teardown(() => store.stop());
  const v1 = store.current().version;
  t.same(evaluate(store.current(), call).categories, []);

  const changed = new Promise<string>((resolve) => store.onChange((next) => resolve(next.version)));
  const file = join(dir, 'behavioral-health.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('codes:\n      [EDP,', 'codes:\n      [ZZTOP, EDP,'));
  const v2 = await changed;
  t.not(v2, v1);
  t.equal(store.current().version, v2);
  t.same(
    evaluate(store.current(), call).categories.map((c) => c.category),
    ['behavioral_health'],
    'the new rules serve',
  );
  t.equal(store.status().lastReload.ok, true);
});

t.test('an invalid change is refused and the old version keeps serving', async (t) => {
  const dir = await tempRules(t);
  const store = createRulesStore({ dir, watch: true, debounceMs: 50 });
  await store.start();
  t.teardown(() => store.stop());
  const v1 = store.current().version;

  const refused = nextReload(store);
  await writeFile(join(dir, 'broken.yaml'), "rules:\n  - id: x.broken\n    category: nope\n    reason: r\n    when: 'true' &&\n");
  const r = await refused;
  t.equal(r.ok, false);
  t.equal(r.version, v1);
  t.equal(store.current().version, v1, 'still serving the old version');
  const st = store.status();
  t.equal(st.lastReload.ok, false);
  t.ok(st.lastReload.errors.some((e) => e.file === 'broken.yaml' && e.line === 5), 'status shows the error and its line');

  // Fixing the file is picked up again.
  const fixed = nextReload(store);
  await rm(join(dir, 'broken.yaml'));
  const ok = await fixed;
  t.equal(ok.ok, true);
  t.equal(store.status().lastReload.ok, true);
});

t.test('a change that breaks its own rule tests is refused (explicit reload)', async (t) => {
  const dir = await tempRules(t);
  const store = createRulesStore({ dir });
  await store.start();
  t.teardown(() => store.stop());
  const v1 = store.current().version;
  const file = join(dir, 'safety-gate.yaml');
  const text = await readFile(file, 'utf8');
  // Still valid YAML and CEL, but premise flags no longer force police_secure_first.
  await writeFile(file, text.replace("'prior_violence', 'officer_safety', 'weapons_on_file',", "'nothing',"));
  const r = await store.reload();
  t.equal(r.ok, false);
  t.ok(r.errors.some((e) => e.code === 'ERR_RULES_TEST_FAILED'));
  t.equal(store.current().version, v1);
});

t.test('start and stop are idempotent; current() needs start()', async (t) => {
  const store = createRulesStore({ dir: DEFAULT_RULES_DIR, watch: true });
  t.throws(() => store.current(), /not started/);
  await Promise.all([store.start(), store.start()]);
  await store.start();
  t.ok(store.current().version);
  await store.stop();
  await store.stop();
});

t.test('the first load failing makes start() reject', async (t) => {
  const store = createRulesStore({ dir: join(tmpdir(), 'no-such-rules-dir-cad') });
  await t.rejects(store.start(), /cannot load rules/);
  await store.stop();
});
