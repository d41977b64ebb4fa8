/** Shared fixtures for the routing tests: the shipped policies and a folder written from strings. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteInput } from '../../src/domain/routing.ts';
import {
  compilePolicies,
  DEFAULT_POLICIES_DIR,
  loadPolicies,
  type PolicySet,
} from '../../src/routing/index.ts';

export async function shippedPolicies(): Promise<PolicySet> {
  const loaded = await loadPolicies(DEFAULT_POLICIES_DIR);
  if (!loaded.ok) throw new Error(`shipped policies do not load: ${JSON.stringify(loaded.errors)}`);
  return loaded.policies;
}

/** Compiles policy files given as `{ name: yaml }`; throws with the diagnostics when they do not compile. */
export function policiesFrom(files: Record<string, string>): PolicySet {
  const r = compilePolicies(Object.entries(files).map(([file, text]) => ({ file, text })));
  if (!r.ok) throw new Error(`fixture policies do not compile: ${JSON.stringify(r.errors)}`);
  return r.policies;
}

/** Writes `{ name: yaml }` into a fresh temporary folder; removed on teardown. */
export async function policyDir(
  t: { teardown(fn: () => Promise<void>): void },
  files: Record<string, string>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cad-triage-policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

export function input(overrides: Partial<RouteInput> & Pick<RouteInput, 'jurisdiction'>): RouteInput {
  return { categories: ['behavioral_health'], gate: 'civilian_ok', emsNeeded: false, ...overrides };
}

/** The shared pools the fixtures build on: a default that sends police, following up with 211. */
export const BASE_FILES = {
  'base.yaml': `
pools:
  - id: line-211
    name: CT 211
    model: referral_line
    categories: ['*']
    mayAttendAlone: true
    schedule: always
    timeZone: America/New_York
jurisdictions:
  - id: default
    name: Unconfigured town
    timeZone: America/New_York
    pools: []
    fallback: [police]
    followUp: { pool: line-211 }
`,
};
