/**
 * `cad-triage keys create|list|revoke`: API keys in the configured database (DATABASE_URL, else the
 * embedded PGlite folder). Pending migrations are applied first, so a fresh database works.
 */
import { parseArgs } from 'node:util';
import type { Database } from '../adapters/database.ts';
import { createKey, listKeys, revokeKey, ROLES, type Role } from '../auth/keys.ts';
import { join } from 'node:path';
import { audit, cliActor } from '../auth/audit.ts';
import { jurisdictionId } from '../domain/jurisdiction.ts';
import { loadConfig } from '../config.ts';
import { loadPolicies } from '../routing/index.ts';
import type { Command } from './main.ts';
import { withMigratedDatabase } from './database.ts';

const withDatabase = (fn: (db: Database) => Promise<number>) =>
  withMigratedDatabase('keys', (db) => fn(db), { quiet: true });

const fail = (message: string) => {
  process.stderr.write(`cad-triage keys: ${message}\n`);
  return 2;
};

/**
 * The requested jurisdictions that no routing policy serves (a key for a misspelt town would see
 * nothing, silently), or an error message when the policies cannot be read.
 */
async function unknownJurisdictions(requested: string[]): Promise<string[] | string> {
  if (requested.includes('*')) return [];
  let dir;
  try {
    dir = join(loadConfig(process.env).RULES_DIR, 'policies');
  } catch (err) {
    return (err as Error).message;
  }
  const loaded = await loadPolicies(dir);
  if (!loaded.ok)
    return `the routing policies in ${dir} do not load; fix them first (npx cad-triage rules validate)`;
  return requested.map(jurisdictionId).filter((j) => !loaded.policies.jurisdictions.has(j));
}

export const keysCommands: Record<string, Command> = {
  'keys create': {
    summary:
      'create an API key: --role dispatch|vendor|admin --jurisdictions a,b|* --name NAME (prints the key once)',
    async run(args) {
      let values;
      try {
        ({ values } = parseArgs({
          args,
          options: {
            role: { type: 'string' },
            jurisdictions: { type: 'string' },
            name: { type: 'string' },
          },
        }));
      } catch (err) {
        return fail((err as Error).message);
      }
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) return fail(`--role must be one of ${ROLES.join(', ')}`);
      const jurisdictions = (values.jurisdictions ?? '')
        .split(',')
        .map((j) => j.trim())
        .filter(Boolean);
      if (jurisdictions.length === 0)
        return fail('--jurisdictions needs a comma-separated list (or * for all)');
      if (!values.name) return fail('--name is required (who or what holds the key)');
      const name = values.name;
      const unknown = await unknownJurisdictions(jurisdictions);
      if (typeof unknown === 'string') return fail(unknown);
      if (unknown.length > 0)
        return fail(
          `no routing policy for jurisdiction(s) ${unknown.join(', ')} (the ids are the file names in RULES_DIR/policies)`,
        );
      return withDatabase(async (db) => {
        const { key, record } = await createKey(db, { role, jurisdictions, name });
        await audit(db, cliActor(), 'key.create', {
          keyId: record.keyId,
          role: record.role,
          jurisdictions: record.jurisdictions,
          name: record.name,
        });
        process.stderr.write(
          `created key ${record.keyId} (${record.role}, ${record.jurisdictions.join(',')}); it is shown only now:\n`,
        );
        process.stdout.write(`${key}\n`);
        return 0;
      });
    },
  },
  'keys list': {
    summary: 'list API keys (ids, roles, jurisdictions, names; never secrets)',
    async run() {
      return withDatabase(async (db) => {
        for (const k of await listKeys(db)) {
          process.stdout.write(
            `${k.keyId}\t${k.role}\t${k.jurisdictions.join(',')}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}\t${k.name}\n`,
          );
        }
        return 0;
      });
    },
  },
  'keys revoke': {
    summary: 'revoke an API key by id',
    async run(args) {
      const id = args[0];
      if (!id) return fail('usage: cad-triage keys revoke ID');
      return withDatabase(async (db) => {
        if (!(await revokeKey(db, id))) {
          process.stderr.write(`cad-triage keys: no active key ${id}\n`);
          return 1;
        }
        await audit(db, cliActor(), 'key.revoke', { keyId: id });
        process.stdout.write(`revoked ${id}\n`);
        return 0;
      });
    },
  },
};
