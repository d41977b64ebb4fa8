import { join } from 'node:path';
import type { Database } from '../../src/adapters/database.ts';
import type { KeyValueStore } from '../../src/adapters/store.ts';
import { migrate, readMigrations } from '../../src/adapters/migrations.ts';
import { DEFAULTS } from '../../src/definitions.ts';
import type { Decision } from '../../src/domain/decision.ts';
import { createLogger } from '../../src/logger.ts';
import { DEFAULT_RULES_DIR, loadRuleset } from '../../src/rules/index.ts';
import { loadPolicies } from '../../src/routing/index.ts';
import type { TriageDeps } from '../../src/triage/pipeline.ts';
import { createRecorder } from '../../src/triage/recorder.ts';

/** Pipeline dependencies over the given database and store, with the shipped rules and policies. */
export async function triageDeps(
  db: Database,
  store: KeyValueStore,
  options: { now?: () => Date; emit?: (d: Decision) => Promise<void> } = {},
): Promise<TriageDeps> {
  await migrate(db, readMigrations(DEFAULTS.migrationsDir));
  const rules = await loadRuleset(DEFAULT_RULES_DIR);
  if (!rules.ok) throw new Error(`shipped rules do not load: ${JSON.stringify(rules.errors)}`);
  const policies = await loadPolicies(join(DEFAULT_RULES_DIR, 'policies'));
  if (!policies.ok) throw new Error(`shipped policies do not load: ${JSON.stringify(policies.errors)}`);
  return {
    db,
    recorder: createRecorder(db),
    store,
    rules: () => rules.ruleset,
    policies: () => ({ policies: policies.policies, version: policies.version }),
    piiKey: 'test-key-0123456789abcdef',
    keepNarratives: true,
    now: options.now ?? (() => new Date()),
    logger: createLogger({ level: 'silent' }),
    ...(options.emit ? { emit: options.emit } : {}),
  };
}
