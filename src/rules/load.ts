/**
 * Reading a rules folder: every top-level `*.yaml`/`*.yml` file is a rules file, every such file
 * under `tests/` a rule test file. Other folders (`schema/`, routing policies) are not read here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** Reads the source files of a rules folder (rules, then tests). */
export async function readRulesDir(dir: string): Promise<{ rules: SourceFile[]; tests: SourceFile[]; errors: RuleDiagnostic[] }> {
  const errors: RuleDiagnostic[] = [];
  const rules = await readYamlFiles(dir, '', errors, false);
  const tests = await readYamlFiles(join(dir, TESTS_SUBDIR), TESTS_SUBDIR, errors, true);
  return { rules, tests, errors };
}

/**
 * Loads and compiles a rules folder. Never throws: an unreadable folder or any compile error
 * comes back as `{ ok: false, errors }` with every diagnostic found.
 */
export async function loadRuleset(dir: string): Promise<CompileResult> {
  const abs = resolve(dir);
  const { rules, tests, errors } = await readRulesDir(abs);
  if (errors.length > 0) return { ok: false, errors };
  return compileRuleset(abs, rules, tests);
}
