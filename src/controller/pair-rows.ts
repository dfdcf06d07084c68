/**
 * The rows of `GET /v1/pairs` and `pairkeeper pairs`: every configured group's
 * pairs with their status and holder, as the one definition of "attached" in
 * src/domain/attachment.ts decides. Reads are shared for a moment, so an operator
 * (or a dashboard) polling the route cannot turn it into a stream of AWS calls that
 * would compete with pairing for the same rate limits.
 */
import type { ClaimStore } from '../claims/claim-store.ts';
import type { GroupConfig } from '../config/schema.ts';
import { pairStatus, type PairStatus } from '../domain/inventory.ts';
import type { Claim } from '../domain/pairs.ts';
import type { InventoryCache } from './inventory-cache.ts';
import type { SharedRead } from './shared-read.ts';

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

/** How old a read /v1/pairs may answer from: 200 requests at once cost one inventory and one claims list per group. */
const SHARED_READ_MS = 2000;

export async function pairRows(source: { groups: GroupConfig[]; inventory: InventoryCache; claims: ClaimStore; claimLists: SharedRead<Claim[]> }): Promise<PairRow[]> {
  const rows: PairRow[] = [];
  for (const group of source.groups) {
    const [pairs, claims] = await Promise.all([
      source.inventory.get(group, { maxAgeMs: SHARED_READ_MS }),
      source.claimLists.get(group.name, SHARED_READ_MS, () => source.claims.list(group.name)),
    ]);
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
