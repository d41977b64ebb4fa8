import type { Command } from './main.ts';
import { withMigratedDatabase } from './database.ts';

/** `cad-triage migrate`: applies pending migrations to the configured database and exits. */
export const migrateCommands: Record<string, Command> = {
  migrate: {
    summary: 'apply pending SQL migrations to DATABASE_URL (or the embedded PGlite database)',
    run: () =>
      withMigratedDatabase('migrate', async (db, { applied, skipped }) => {
        process.stdout.write(
          `${applied.length} applied, ${skipped.length} already applied (${db.kind}, schema ${db.schema})\n`,
        );
        return 0;
      }),
  },
};
