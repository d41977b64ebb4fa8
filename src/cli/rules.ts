import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CallEventSchema } from '../domain/call-event.ts';
import { isError } from '../rules/diagnostics.ts';
import {
  DEFAULT_RULES_DIR,
  evaluate,
  formatDiagnostic,
  loadRuleset,
  RULE_ERROR_CODES,
  runRuleTests,
  type PreparedRuleset,
} from '../rules/index.ts';
import { rulesJsonSchemas, SCHEMA_DIR } from '../rules/json-schema.ts';
import { parseLabelledCases, REQUIRED_CATEGORIES, scoreCases } from '../rules/labelled-cases.ts';
import type { Command } from './main.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** Loads a rules folder for a command; prints every error and returns undefined when it is invalid. */
async function load(dir: string): Promise<PreparedRuleset | undefined> {
  const r = await loadRuleset(dir);
  if (r.ok) return r.ruleset;
  for (const d of r.errors) err(formatDiagnostic(d));
  err(`cad-triage: ${r.errors.filter(isError).length} error(s) in ${resolve(dir)}`);
  return undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const pct = (x: number) => x.toFixed(3);

/** Rules commands: `rules validate`, `rules test`, `rules schema`, `classify`, `eval`. */
export const rulesCommands: Record<string, Command> = {
  'rules validate': {
    summary: 'Check a rules folder (default: rules/): prints file:line: [code] message per problem',
    async run(args) {
      const { positionals, values } = parseArgs({
        args,
        allowPositionals: true,
        options: { codes: { type: 'boolean' } },
      });
      if (values.codes) {
        for (const [code, what] of Object.entries(RULE_ERROR_CODES)) out(`${code}  ${what}`);
        return 0;
      }
      const dir = positionals[0] ?? DEFAULT_RULES_DIR;
      const r = await loadRuleset(dir);
      if (!r.ok) {
        for (const d of r.errors) out(formatDiagnostic(d));
        err(`${r.errors.filter(isError).length} error(s)`);
        return 1;
      }
      const rs = r.ruleset;
      for (const w of rs.warnings) out(formatDiagnostic(w));
      out(
        `ok ${rs.version}: ${rs.files.length} files, ${rs.categories.length} categories, ${rs.categoryRules.length} category rules, ` +
          `${rs.gateRules.length} gate rules, ${rs.emsRules.length} EMS rules, ${rs.lexicons.length} lexicons, ` +
          `${rs.questions.length} questions, ${rs.tests.length} tests, ${rs.warnings.length} warnings`,
      );
      return 0;
    },
  },

  'rules test': {
    summary: 'Run the rule tests of a rules folder (default: rules/) and print PASS/FAIL per case',
    async run(args) {
      const { positionals, values } = parseArgs({
        args,
        allowPositionals: true,
        options: { verbose: { type: 'boolean', short: 'v' }, run: { type: 'string' } },
      });
      const rs = await load(positionals[0] ?? DEFAULT_RULES_DIR);
      if (!rs) return 1;
      let results = runRuleTests(rs);
      if (values.run) results = results.filter((r) => r.test.name.includes(values.run!));
      let file = '';
      for (const r of results) {
        const shown = !r.pass || values.verbose;
        if (shown && r.test.file !== file) {
          file = r.test.file;
          out(`${file}:`);
        }
        if (shown) out(`  ${r.pass ? 'PASS' : 'FAIL'}: ${r.test.name} (${r.ms.toFixed(2)}ms)`);
        if (!r.pass) {
          out(`    at ${r.test.file}:${r.test.line}`);
          for (const f of r.failures) out(`    ${f}`);
        }
      }
      const failed = results.filter((r) => !r.pass).length;
      out('-'.repeat(80));
      out(`PASS: ${results.length - failed}/${results.length}`);
      if (failed > 0) out(`FAIL: ${failed}/${results.length}`);
      return failed > 0 ? 1 : 0;
    },
  },

  'rules schema': {
    summary: 'Write the JSON Schemas of the rules formats to rules/schema/ (--check: fail if they differ)',
    async run(args) {
      const { positionals, values } = parseArgs({
        args,
        allowPositionals: true,
        options: { check: { type: 'boolean' } },
      });
      const dir = join(positionals[0] ?? DEFAULT_RULES_DIR, SCHEMA_DIR);
      let stale = 0;
      await mkdir(dir, { recursive: true });
      for (const [name, text] of Object.entries(rulesJsonSchemas())) {
        const path = join(dir, name);
        if (values.check) {
          const current = await readFile(path, 'utf8').catch(() => '');
          if (current !== text) {
            err(`${path} is out of date: run cad-triage rules schema`);
            stale++;
          }
        } else {
          await writeFile(path, text);
          out(`wrote ${path}`);
        }
      }
      return stale > 0 ? 1 : 0;
    },
  },

  classify: {
    summary: 'Classify one call event: JSON on stdin, classification JSON on stdout [--rules DIR]',
    async run(args) {
      const { values } = parseArgs({ args, options: { rules: { type: 'string' } } });
      const text = await readStdin();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        err(`cad-triage classify: stdin is not valid JSON: ${(e as Error).message}`);
        return 1;
      }
      const call = CallEventSchema.safeParse(json);
      if (!call.success) {
        err('cad-triage classify: not a valid call event:');
        for (const is of call.error.issues) err(`  ${is.path.join('.') || '(root)'}: ${is.message}`);
        return 1;
      }
      const rs = await load(values.rules ?? DEFAULT_RULES_DIR);
      if (!rs) return 1;
      out(JSON.stringify(evaluate(rs, call.data), null, 2));
      return 0;
    },
  },

  eval: {
    summary:
      'Score the rules on labelled cases (JSONL, shared/eval format): eval FILE [--rules DIR] [--json]',
    async run(args) {
      const { positionals, values } = parseArgs({
        args,
        allowPositionals: true,
        options: { rules: { type: 'string' }, json: { type: 'boolean' } },
      });
      const file = positionals[0];
      if (!file) {
        err('usage: cad-triage eval FILE [--rules DIR] [--json]');
        return 2;
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        err(`cad-triage eval: cannot read ${file}: ${(e as Error).message}`);
        return 1;
      }
      const { cases, errors } = parseLabelledCases(text);
      if (errors.length > 0) {
        for (const e of errors) err(`${file}:${e.line}: ${e.message}`);
        return 1;
      }
      const rs = await load(values.rules ?? DEFAULT_RULES_DIR);
      if (!rs) return 1;
      const report = scoreCases(rs, cases);
      if (values.json) {
        out(JSON.stringify(report));
        return 0;
      }
      out(`rules ${rs.version} on ${report.cases} cases from ${file}\n`);
      out(
        `${'category'.padEnd(20)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'F1'.padStart(6)} ${'support'.padStart(8)}`,
      );
      for (const [name, s] of Object.entries(report.categories)) {
        const mark = (REQUIRED_CATEGORIES as readonly string[]).includes(name) ? '' : ' (not in macro-F1)';
        out(
          `${name.padEnd(20)} ${pct(s.precision).padStart(9)} ${pct(s.recall).padStart(7)} ${pct(s.f1).padStart(6)} ${String(s.support).padStart(8)}${mark}`,
        );
      }
      out(`\nmacro-F1 (5 categories): ${pct(report.macroF1)}`);
      out(`gate accuracy:           ${pct(report.gateAccuracy)}`);
      out(`unsafe clears:           ${report.unsafeClears}`);
      if (report.errors.length > 0) {
        out(`\n${report.errors.length} case(s) wrong:`);
        for (const e of report.errors) {
          const exp = `[${e.expected.categories.join(', ')}] ${e.expected.gate ?? '-'}`;
          out(`  ${e.id}: expected ${exp}, got [${e.got.categories.join(', ')}] ${e.got.gate}`);
        }
      }
      return 0;
    },
  },
};
