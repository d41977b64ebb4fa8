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
import { backtest, type BacktestChange, type BacktestReport } from '../rules/backtest.ts';
import type { GateValue } from '../domain/classification.ts';
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

function printBacktest(r: BacktestReport) {
  const changes = r.loosened.length + r.changed.length;
  out(`rules ${r.rulesVersion} on ${r.calls} stored calls: ${r.unchanged} unchanged, ${changes} changed`);
  for (const [category, c] of Object.entries(r.categories)) {
    out(`  ${category.padEnd(20)} +${c.gained} -${c.lost}`);
  }
  for (const [move, n] of Object.entries(r.gateMoves)) out(`  gate ${move}: ${n}`);
  for (const [move, n] of Object.entries(r.commonTypeMoves)) out(`  APCO type ${move}: ${n}`);
  const type = (t: string | null | undefined) => (t === undefined ? '' : ` ${t ?? 'none'}`);
  const show = (c: BacktestChange) =>
    `  ${c.decisionId} (${c.jurisdiction} ${c.incidentId}):${type(c.before.commonType)} [${c.before.categories.join(', ')}] ${c.before.gate} ->${type(c.after.commonType)} [${c.after.categories.join(', ')}] ${c.after.gate}`;
  if (r.loosened.length > 0) {
    out(`\nLOOSENED GATE on ${r.loosened.length} call(s): review every one before shipping these rules`);
    for (const c of r.loosened) out(show(c));
  }
  if (r.changed.length > 0) {
    out(`\nother changes (${r.changed.length}${r.changed.length > 50 ? ', first 50' : ''}):`);
    for (const c of r.changed.slice(0, 50)) out(show(c));
  }
  if (r.withoutNarrative > 0)
    out(`${r.withoutNarrative} calls not replayed: their narrative is past its retention or was not stored`);
  for (const u of r.unreadable) out(`unreadable stored call ${u.decisionId}: ${u.reason}`);
}

/** Rules commands: `rules validate`, `rules test`, `rules schema`, `rules backtest`, `classify`, `eval`. */
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
          `${rs.questions.length} questions, ${rs.tests.length} tests, ${rs.callTypes.types.size} APCO types, ` +
          `${rs.callTypes.rows} crosswalk rows, ${rs.warnings.length} warnings`,
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

  'rules backtest': {
    summary:
      'Replay stored calls through candidate rules and report what would change: rules backtest [--rules DIR] [--since ISO] [--jurisdiction J] [--limit N] [--json] [--fail-on-loosened]',
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          rules: { type: 'string' },
          since: { type: 'string' },
          jurisdiction: { type: 'string' },
          limit: { type: 'string' },
          json: { type: 'boolean' },
          'fail-on-loosened': { type: 'boolean' },
        },
      });
      const limit = Number(values.limit ?? 10_000);
      if (!Number.isInteger(limit) || limit < 1) {
        err('cad-triage rules backtest: --limit must be a positive integer');
        return 2;
      }
      if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) {
        err(`cad-triage rules backtest: --since '${values.since}' is not a date (e.g. 2026-11-01)`);
        return 2;
      }
      const rs = await load(values.rules ?? DEFAULT_RULES_DIR);
      if (!rs) return 1;
      // Loaded here so the other rules commands do not pay for the database drivers.
      const { withMigratedDatabase } = await import('./database.ts');
      return withMigratedDatabase(
        'rules backtest',
        async (db) => {
          const { rows } = await db.query<{
            decision_id: string;
            incident_id: string;
            jurisdiction: string;
            rules_version: string;
            call: unknown;
            categories: string[];
            gate: GateValue;
            repeat_calls: { byAddress: number; byCaller: number } | null;
            common_type: { code: string | null } | null;
          }>(
            `SELECT decision_id, incident_id, jurisdiction, rules_version, call, categories, gate,
                    decision->'repeatCalls' AS repeat_calls, decision->'commonType' AS common_type
             FROM decisions
             WHERE ($1::timestamptz IS NULL OR decided_at >= $1) AND ($2::text IS NULL OR jurisdiction = $2)
             ORDER BY decided_at DESC LIMIT $3`,
            [values.since ?? null, values.jurisdiction ?? null, limit],
          );
          const report = backtest(
            rs,
            rows.map((r) => ({
              decisionId: r.decision_id,
              incidentId: r.incident_id,
              jurisdiction: r.jurisdiction,
              rulesVersion: r.rules_version,
              call: r.call,
              categories: r.categories,
              gate: r.gate,
              ...(r.repeat_calls ? { repeatCalls: r.repeat_calls } : {}),
              ...(r.common_type ? { commonType: r.common_type.code } : {}),
            })),
          );
          if (values.json) out(JSON.stringify(report));
          else printBacktest(report);
          return values['fail-on-loosened'] && report.loosened.length > 0 ? 1 : 0;
        },
        { quiet: true },
      );
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
      if (report.groups) {
        out(
          `\n${'group'.padEnd(20)} ${'cases'.padStart(6)} ${'gate acc'.padStart(9)} ${'civilian_ok'.padStart(12)} ${'false cat'.padStart(10)} ${'cat recall'.padStart(11)}`,
        );
        for (const [name, g] of Object.entries(report.groups)) {
          const gate = g.gated === 0 ? '-' : pct(g.gateAccuracy);
          out(
            `${name.padEnd(20)} ${String(g.cases).padStart(6)} ${gate.padStart(9)} ${String(g.civilianOk).padStart(12)} ${pct(g.falseCategoryRate).padStart(10)} ${pct(g.categoryRecall).padStart(11)}`,
          );
        }
      }
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
