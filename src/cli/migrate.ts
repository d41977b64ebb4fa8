import { ConfigError, loadConfig } from '../config.ts';
import { DEFAULTS } from '../definitions.ts';
import { createLogger } from '../logger.ts';
import { migrate, readMigrations } from '../adapters/migrations.ts';
import { openDatabase } from '../resources.ts';
import type { Command } from './main.ts';

/** `cad-triage migrate`: applies pending migrations to the configured database and exits. */
export const migrateCommands: Record<string, Command> = {
  migrate: {
    summary: 'apply pending SQL migrations to DATABASE_URL (or the embedded PGlite database)',
    async run() {
      let config;
      try {
        config = loadConfig({ ...process.env, MIGRATE_ON_START: 'false' });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`cad-triage: ${err.message}\n`);
        return 1;
      }
      const logger = createLogger({ level: config.LOG_LEVEL });
      const db = await openDatabase(config, logger);
      try {
        const { applied, skipped } = await migrate(db, readMigrations(DEFAULTS.migrationsDir), logger);
        process.stdout.write(
          `${applied.length} applied, ${skipped.length} already applied (${db.kind}, schema ${db.schema})\n`,
        );
        return 0;
      } catch (err) {
        process.stderr.write(`cad-triage migrate: ${(err as Error).message}\n`);
        return 1;
      } finally {
        await db.close();
      }
    },
  },
};
