/**
 * The process entry point and the only file with side effects: reads the environment, opens the
 * resources, listens, and closes everything in reverse order on SIGTERM/SIGINT.
 */
import closeWithGrace from 'close-with-grace';
import { ConfigError, describeMode, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openResources } from './resources.ts';
import { buildApp } from './app.ts';

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

const resources = await openResources(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, 'could not open resources');
  process.exit(1);
});
const app = await buildApp({ config, logger, resources });
app.addHook('onClose', () => resources.close());

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down');
  await app.close();
});

await app.listen({ host: config.HOST, port: config.PORT });
