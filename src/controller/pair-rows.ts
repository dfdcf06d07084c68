/**
 * The rows of `GET /v1/pairs` and `pairkeeper pairs`: every configured group's
 * pairs with their status and holder, as the one definition of "attached" in
 * src/domain/attachment.ts decides.
 */
import type { ClaimStore } from '../claims/claim-store.ts';
import type { GroupConfig } from '../config/schema.ts';
import { pairStatus, type PairStatus } from '../domain/inventory.ts';
import type { InventoryCache } from './inventory-cache.ts';

export interface PairRow {
  group: string;
  nodeId: string;
  availabilityZone: string | undefined;
  volumeId: string | undefined;
  networkInterfaceId: string | undefined;
  privateIp: string | undefined;
  status: PairStatus;
  holder: string | undefined;
  problem: string | undefined;
}

/** The row's fields in the order a table shows them. */
export const PAIR_COLUMNS: (keyof PairRow)[] = ['group', 'nodeId', 'availabilityZone', 'volumeId', 'networkInterfaceId', 'privateIp', 'status', 'holder', 'problem'];

/** Every group's pairs read anew (not pairing's shared reads, which may predate an attach) with their claims. */
export async function pairRows(source: { groups: GroupConfig[]; inventory: InventoryCache; claims: ClaimStore }): Promise<PairRow[]> {
  const rows: PairRow[] = [];
  for (const group of source.groups) {
    const [pairs, claims] = await Promise.all([source.inventory.get(group, { maxAgeMs: 0 }), source.claims.list(group.name)]);
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
