/**
 * Reading a policies folder: every top-level `*.yaml`/`*.yml` file in it is a policy file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePolicies, type CompileResult, type SourceFile } from './compile.ts';

/** The repository's policies folder (`rules/policies`). */
export const DEFAULT_POLICIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../rules/policies');

const isYaml = (f: string) => f.endsWith('.yaml') || f.endsWith('.yml');

/**
 * Loads and compiles a policies folder. Never throws: an unreadable folder or file and every
 * problem in the files come back as `{ ok: false, errors }`, each with its file and line.
 */
export async function loadPolicies(dir: string): Promise<CompileResult> {
  const abs = resolve(dir);
  let names: string[];
  try {
    const entries = await readdir(abs, { withFileTypes: true });
    names = entries
      .filter((e) => e.isFile() && isYaml(e.name))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    return {
      ok: false,
      errors: [
        { code: 'ERR_POLICY_IO', file: abs, line: 0, message: `cannot read folder: ${(e as Error).message}` },
      ],
    };
  }
  const files: SourceFile[] = [];
  const errors = [];
  for (const name of names) {
    try {
      files.push({ file: name, text: await readFile(join(abs, name), 'utf8') });
    } catch (e) {
      errors.push({
        code: 'ERR_POLICY_IO' as const,
        file: name,
        line: 0,
        message: `cannot read: ${(e as Error).message}`,
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return compilePolicies(files);
}
