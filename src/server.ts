/**
 * The process entry point and the only file with side effects: reads the environment, opens the
 * resources, listens, and closes everything in reverse order on SIGTERM/SIGINT.
 */
import closeWithGrace from 'close-with-grace';
import { ConfigError, describeMode, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startService } from './service.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`cad-triage: ${err.message}\n`);
  process.exit(1);
}

const logger = createLogger({ level: config.LOG_LEVEL });
const { mode, components } = describeMode(config);
logger.info({ mode, components }, `cad-triage starting in ${mode} mode: ${components.join(', ')}`);

const service = await startService(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
});

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down');
  await service.close();
});

await service.app.listen({ host: config.HOST, port: config.PORT });
