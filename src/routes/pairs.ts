/** `/v1/pairs`, `/v1/claims`, `/v1/instances`: what pairkeeper holds and why, as JSON or (Accept: text/plain) a table. */
import type { FastifyInstance } from 'fastify';
import { PAIR_COLUMNS, type ControllerFacade } from '../controller/facade.ts';
import { sendRows } from './send-rows.ts';

type Rows = Record<string, unknown>[];

export function pairRoutes(app: FastifyInstance, controller: Pick<ControllerFacade, 'pairRows' | 'claims' | 'instances'>): void {
  app.get('/v1/pairs', async (request, reply) => sendRows(request, reply, 'pairs', (await controller.pairRows()) as unknown as Rows, PAIR_COLUMNS));

  app.get('/v1/claims', async (request, reply) => {
    const claims = await controller.claims();
    return sendRows(request, reply, 'claims', claims as unknown as Rows, ['group', 'nodeId', 'instanceId', 'state', 'since', 'updatedAt']);
  });

  app.get('/v1/instances', (request, reply) => {
    const rows = controller.instances() as unknown as Rows;
    return sendRows(request, reply, 'instances', rows, ['group', 'instanceId', 'availabilityZone', 'status', 'nodeId', 'reason', 'updatedAt']);
  });
}
