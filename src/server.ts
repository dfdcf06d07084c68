/**
 * The only entry that listens: loads the config (a bad key stops here, naming the
 * key), starts both listeners, and on SIGTERM/SIGINT stops taking new requests,
 * lets those in flight finish, and exits.
 */
import { buildApp } from './app.ts';
import { loadConfig } from './config/load.ts';
import { PairkeeperError } from './errors.ts';
import { createLogger } from './logger.ts';
import { createAwsClients } from './aws/clients.ts';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig();
  } catch (err) {
    process.stderr.write(`pairkeeper: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const { config, path } = loaded;
  const logger = createLogger(config.log.level);
  const app = await buildApp({ config, logger, clients: createAwsClients(config.aws.region) });

  await app.publicApp.listen({ host: config.listen.host, port: config.listen.port });
  await app.adminApp.listen({ host: config.admin.host, port: config.admin.port });
  logger.info({ config: path, topics: config.sns.topicArns }, 'pairkeeper started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 20 s; exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const code = err instanceof PairkeeperError ? err.code : 'PK_STARTUP';
  process.stderr.write(`pairkeeper: failed to start (${code}): ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
