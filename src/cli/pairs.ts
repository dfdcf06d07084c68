/**
 * `pairkeeper pairs`: the table `GET /v1/pairs` would answer, without starting the
 * service, so an operator can check the groups' filters and NodeID tags before
 * subscribing the topic. It only reads: Describe calls to EC2, and the claims. The
 * controller built here is never started (no resync, no work);
 * test/cli.test.ts holds the command to read-only calls.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { PAIR_COLUMNS, createController } from '../controller/facade.ts';
import { textTable } from '../text-table.ts';

export async function pairTable(config: Config, logger: Logger, options: { json: boolean }): Promise<string> {
  const controller = createController(config, { logger });
  try {
    const rows = await controller.pairRows();
    return options.json ? `${JSON.stringify({ pairs: rows }, null, 2)}\n` : textTable(rows as unknown as Record<string, unknown>[], PAIR_COLUMNS);
  } finally {
    // Built to run for good (timers, kept-alive connections): let the process end.
    await controller.close();
  }
}
