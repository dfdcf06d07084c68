import type { Logger } from 'pino';
import { createAwsClients } from '../aws/clients.ts';
import type { Config } from '../config/schema.ts';
import { createPairingService } from '../pairing-service.ts';
import { PAIR_COLUMNS, pairRows } from '../routes/pairs.ts';
import { textTable } from '../routes/text-table.ts';

/**
 * `pairkeeper pairs`: the table `GET /v1/pairs` would answer, without starting the
 * service, so an operator can check the groups' filters and NodeID tags before
 * subscribing the topic. It only reads: Describe calls to EC2, and the claims. The
 * service built here starts no work (resync.start() would, and only the server calls
 * it); test/cli.test.ts holds the command to read-only calls.
 */
export async function pairTable(config: Config, logger: Logger, options: { json: boolean }): Promise<string> {
  const clients = createAwsClients(config.aws.region);
  const service = createPairingService(config, clients, logger);
  try {
    const rows = await pairRows(service);
    return options.json ? `${JSON.stringify({ pairs: rows }, null, 2)}\n` : textTable(rows, PAIR_COLUMNS);
  } finally {
    // The service is built to run for good (timers, kept-alive connections): let the process end.
    service.controller.close();
    clients.ec2.destroy();
    clients.ssm.destroy();
    clients.autoScaling.destroy();
  }
}
