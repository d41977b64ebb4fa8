import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from './main.ts';
import { withMigratedDatabase } from './database.ts';
import { createMemoryStore } from '../adapters/memory-store.ts';
import { createLogger } from '../logger.ts';
import { DEMO_EVENT_PREFIX, fillDemo } from '../demo/generate.ts';
import { loadRuleset } from '../rules/index.ts';
import { loadPolicies } from '../routing/index.ts';
import { createRecorder } from '../triage/recorder.ts';

const fail = (message: string) => {
  process.stderr.write(`cad-triage demo: ${message}\n`);
  return 2;
};

/** `cad-triage demo`: a demo year in the embedded database (src/demo/generate.ts). */
export const demoCommands: Record<string, Command> = {
  demo: {
    summary:
      'fill the embedded database with a demo year of triaged calls, feedback and referrals [--towns a,b] [--year Y] [--calls N] [--seed N]',
    async run(args) {
      let values;
      try {
        ({ values } = parseArgs({
          args,
          options: {
            towns: { type: 'string', default: 'stamford,norwalk,new-haven' },
            year: { type: 'string', default: String(new Date().getUTCFullYear()) },
            calls: { type: 'string', default: '1500' },
            seed: { type: 'string', default: '2026' },
          },
        }));
      } catch (err) {
        return fail((err as Error).message);
      }
      if (process.env.DATABASE_URL)
        return fail(
          'demo data goes into the embedded database only: unset DATABASE_URL (it must never reach a real audit)',
        );
      const [year, calls, seed] = [Number(values.year), Number(values.calls), Number(values.seed)];
      if (!Number.isInteger(year) || year < 2000 || year > 2100) return fail('--year must be a year');
      if (!Number.isInteger(calls) || calls < 1 || calls > 100_000)
        return fail('--calls must be 1..100000 (per town)');
      if (!Number.isInteger(seed)) return fail('--seed must be a whole number');
      const towns = values.towns
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      return withMigratedDatabase(
        'demo',
        async (db, _m, config) => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM decisions WHERE event_id LIKE '${DEMO_EVENT_PREFIX}%'`,
          );
          if ((rows[0]?.n ?? 0) > 0) {
            process.stdout.write(`demo data is already there (${rows[0]!.n} calls); nothing added\n`);
            return 0;
          }
          const rules = await loadRuleset(config.RULES_DIR);
          const policies = await loadPolicies(join(config.RULES_DIR, 'policies'));
          if (!rules.ok || !policies.ok)
            return fail('the rules or policies do not load (npx cad-triage rules validate)');
          const unknown = towns.filter((t) => !policies.policies.jurisdictions.has(t));
          if (unknown.length > 0) return fail(`no routing policy for ${unknown.join(', ')}`);
          const store = createMemoryStore();
          const progress = process.stderr.isTTY
            ? (done: number, total: number) => {
                if (done % 250 === 0 || done === total)
                  process.stderr.write(
                    `\r  ${done} / ${total} calls triaged (${Math.round((done / total) * 100)}%)`,
                  );
              }
            : undefined;
          try {
            const made = await fillDemo(
              {
                db,
                recorder: createRecorder(db),
                store,
                rules: () => rules.ruleset,
                policies: () => ({ policies: policies.policies, version: policies.version }),
                piiKey: config.PII_HASH_KEY ?? 'demo-key-not-secret-0123456789',
                keepNarratives: config.NARRATIVE_RETENTION_DAYS > 0,
                now: () => new Date(),
                logger: createLogger({ level: 'warn' }),
              },
              { towns, year, callsPerTown: calls, seed, ...(progress ? { onProgress: progress } : {}) },
            );
            if (progress) process.stderr.write('\n');
            process.stdout.write(
              `demo year ${year} for ${towns.join(', ')}: ${made.calls} calls, ${made.referrals} referrals, ${made.feedback} feedback records (marked as demo data)\n`,
            );
            return 0;
          } finally {
            await store.close();
          }
        },
        { quiet: true },
      );
    },
  },
};
