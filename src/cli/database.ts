import { ConfigError, loadConfig, type Config } from '../config.ts';
import { DEFAULTS } from '../definitions.ts';
import { createLogger } from '../logger.ts';
import type { Database } from '../adapters/database.ts';
import { migrate, readMigrations } from '../adapters/migrations.ts';
import { openDatabase } from '../resources.ts';

/**
 * Runs a CLI command against the configured database (DATABASE_URL, else the embedded PGlite
 * folder) with pending migrations applied first, and closes it. A bad configuration or a failure
 * is one line on stderr, prefixed with the command's name, and exit code 1.
 */
export async function withMigratedDatabase(
  command: string,
  fn: (db: Database, migrations: { applied: string[]; skipped: string[] }, config: Config) => Promise<number>,
  options: { quiet?: boolean } = {},
): Promise<number> {
  let config;
  try {
    config = loadConfig({ ...process.env, MIGRATE_ON_START: 'false' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`cad-triage: ${err.message}\n`);
    return 1;
  }
  // Quiet commands print their result on stdout, which info logs would mix into.
  const logger = createLogger({ level: options.quiet ? 'warn' : config.LOG_LEVEL });
  let db;
  try {
    db = await openDatabase(config, logger);
  } catch (err) {
    process.stderr.write(`cad-triage ${command}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const migrations = await migrate(db, readMigrations(DEFAULTS.migrationsDir), logger);
    return await fn(db, migrations, config);
  } catch (err) {
    process.stderr.write(`cad-triage ${command}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
