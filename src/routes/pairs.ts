import type { FastifyInstance } from 'fastify';
import { pairStatus } from '../domain/inventory.ts';
import type { PairingService } from '../pairing-service.ts';
import { sendRows } from './text-table.ts';

export const PAIR_COLUMNS = ['group', 'nodeId', 'availabilityZone', 'volumeId', 'networkInterfaceId', 'privateIp', 'status', 'holder', 'problem'];

/** Every configured group's pairs, read anew from EC2, with their claims: `/v1/pairs` and `pairkeeper pairs`. */
export async function pairRows(service: Pick<PairingService, 'groups' | 'inventory' | 'claims'>): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (const group of service.groups) {
    const [pairs, claims] = await Promise.all([service.inventory.get(group, { maxAgeMs: 0 }), service.claims.list(group.name)]);
    for (const pair of pairs) {
      const { status, holder } = pairStatus(pair, claims.find((c) => c.nodeId === pair.nodeId));
      rows.push({
        group: group.name,
        nodeId: pair.nodeId,
        availabilityZone: pair.availabilityZone,
        volumeId: pair.volume?.volumeId,
        networkInterfaceId: pair.eni?.networkInterfaceId,
        privateIp: pair.eni?.privateIpAddress,
        status,
        holder,
        problem: pair.problem,
      });
    }
  }
  return rows;
}

/** `/v1/pairs`, `/v1/claims`, `/v1/instances`: what pairkeeper holds and why. */
export function pairRoutes(app: FastifyInstance, service: PairingService): void {
  app.get('/v1/pairs', async (request, reply) => sendRows(request, reply, 'pairs', await pairRows(service), PAIR_COLUMNS));

  app.get('/v1/claims', async (request, reply) => {
    const claims = await service.claims.list();
    return sendRows(request, reply, 'claims', claims as unknown as Record<string, unknown>[], ['group', 'nodeId', 'instanceId', 'state', 'since', 'updatedAt']);
  });

  app.get('/v1/instances', (request, reply) => {
    const rows = service.registry.list() as unknown as Record<string, unknown>[];
    return sendRows(request, reply, 'instances', rows, ['group', 'instanceId', 'availabilityZone', 'status', 'nodeId', 'reason', 'updatedAt']);
  });
}
