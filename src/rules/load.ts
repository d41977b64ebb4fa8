/**
 * Reading a rules folder: every top-level `*.yaml`/`*.yml` file is a rules file, every such file
 * under `tests/` a rule test file. Other folders (`schema/`, routing policies) are not read here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { CROSSWALK_SUBDIR } from '../calltypes/format.ts';
import { compileRuleset, type CompileResult } from './compile.ts';
import type { RuleDiagnostic } from './diagnostics.ts';
import type { SourceFile } from './parse.ts';

/** The repository's default rules folder (`rules/`). */
export const DEFAULT_RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../rules');

export const TESTS_SUBDIR = 'tests';

const isYaml = (f: string) => f.endsWith('.yaml') || f.endsWith('.yml');

async function readYamlFiles(dir: string, prefix: string, diags: RuleDiagnostic[], optional: boolean): Promise<SourceFile[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() && isYaml(e.name)).map((e) => e.name);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!(optional && err.code === 'ENOENT')) {
      diags.push({ code: 'ERR_RULES_IO', file: prefix || dir, line: 0, message: `cannot read folder ${dir}: ${err.message}` });
    }
    return [];
  }
  names.sort();
  const out: SourceFile[] = [];
  for (const name of names) {
    const file = prefix ? `${prefix}/${name}` : name;
    try {
      out.push({ file, text: await readFile(join(dir, name), 'utf8') });
    } catch (e) {
      diags.push({ code: 'ERR_RULES_IO', file, line: 0, message: `cannot read: ${(e as Error).message}` });
    }
  }
  return out;
}

/** The routing policies folder, under the rules folder (as the service reads it). */
export const POLICIES_SUBDIR = 'policies';

/**
 * The jurisdiction ids the routing policies define, for checking crosswalks against; undefined
 * when the folder has no policies. Only ids are read here: the policy store validates the rest.
 */
async function policyJurisdictions(dir: string): Promise<string[] | undefined> {
  const files = await readYamlFiles(join(dir, POLICIES_SUBDIR), POLICIES_SUBDIR, [], true);
  if (files.length === 0) return undefined;
  const ids: string[] = [];
  for (const f of files) {
    try {
      const doc = parseYaml(f.text) as { jurisdictions?: Array<{ id?: unknown }> } | null;
      for (const j of doc?.jurisdictions ?? []) if (typeof j?.id === 'string') ids.push(j.id);
    } catch {
      // A broken policy file is the policy store's to report.
    }
  }
  return ids;
}

export interface RulesDirSources {
  rules: SourceFile[];
  tests: SourceFile[];
  /** The call-type crosswalk files, `calltypes/*.yaml`. */
  calltypes: SourceFile[];
  /** Jurisdictions of `policies/`, when there is one. */
  jurisdictions?: string[];
  errors: RuleDiagnostic[];
}

/** Reads the source files of a rules folder (rules, tests, crosswalks, policy jurisdiction ids). */
export async function readRulesDir(dir: string): Promise<RulesDirSources> {
  const errors: RuleDiagnostic[] = [];
  const rules = await readYamlFiles(dir, '', errors, false);
  const tests = await readYamlFiles(join(dir, TESTS_SUBDIR), TESTS_SUBDIR, errors, true);
  const calltypes = await readYamlFiles(join(dir, CROSSWALK_SUBDIR), CROSSWALK_SUBDIR, errors, true);
  const jurisdictions = await policyJurisdictions(dir);
  return { rules, tests, calltypes, ...(jurisdictions ? { jurisdictions } : {}), errors };
}

/**
 * Loads and compiles a rules folder. Never throws: an unreadable folder or any compile error
 * comes back as `{ ok: false, errors }` with every diagnostic found.
 */
export async function loadRuleset(dir: string): Promise<CompileResult> {
  const abs = resolve(dir);
  const { rules, tests, calltypes, jurisdictions, errors } = await readRulesDir(abs);
  if (errors.length > 0) return { ok: false, errors };
  return compileRuleset(abs, rules, tests, { calltypes, ...(jurisdictions ? { jurisdictions } : {}) });
}
