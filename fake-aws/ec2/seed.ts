import type { Ec2State } from './state.ts';

/**
 * Inventory that is not a clean pair, as operators leave it behind:
 * - `volume-only`: a NodeID with a volume and no ENI;
 * - `eni-only`: a NodeID with an ENI and no volume;
 * - `split-az`: volume and ENI of one NodeID in different AZs (needs two AZs);
 * - `duplicate-volume`: two volumes and one ENI sharing a NodeID.
 */
export type BrokenPairKind = 'volume-only' | 'eni-only' | 'split-az' | 'duplicate-volume';

export interface PairsDescription {
  azs: string[];
  /** Healthy pairs, NodeIDs `node-1`…`node-N`, spread round-robin over `azs`. */
  pairs: number;
  /** Tags every seeded volume and ENI carries besides the NodeID tag. */
  tags?: Record<string, string>;
  /** Default `NodeID`. */
  nodeIdTag?: string;
  /** Default 10 GiB. */
  volumeSize?: number;
  /** Broken NodeIDs, numbered after the healthy ones and continuing the AZ round-robin. */
  broken?: { kind: BrokenPairKind }[];
}

export interface SeededPair {
  nodeId: string;
  az: string;
  volumeId: string;
  eniId: string;
  subnetId: string;
  privateIp: string;
}

export interface SeededBrokenPair {
  nodeId: string;
  kind: BrokenPairKind;
  volumeIds: string[];
  eniIds: string[];
  /** The AZ of each resource, volumes first. */
  azs: string[];
}

export interface SeedResult {
  pairs: SeededPair[];
  broken: SeededBrokenPair[];
}

/** Creates pre-made pairs (and optionally broken ones) in `ec2` from a short description. */
export function seedPairs(ec2: Ec2State, description: PairsDescription): SeedResult {
  const { azs, tags = {}, nodeIdTag = 'NodeID', volumeSize = 10 } = description;
  if (!azs.length) throw new Error('seedPairs needs at least one AZ');
  const azAt = (n: number) => azs[n % azs.length]!;
  const tagsFor = (nodeId: string) => ({ ...tags, [nodeIdTag]: nodeId });
  const volume = (nodeId: string, az: string) =>
    ec2.createVolume({ availabilityZone: az, size: volumeSize, tags: tagsFor(nodeId) }).volumeId;
  const eni = (nodeId: string, az: string) => ec2.createNetworkInterface({ availabilityZone: az, tags: tagsFor(nodeId) });

  const pairs: SeededPair[] = [];
  for (let n = 0; n < description.pairs; n++) {
    const nodeId = `node-${n + 1}`;
    const az = azAt(n);
    const volumeId = volume(nodeId, az);
    const e = eni(nodeId, az);
    pairs.push({ nodeId, az, volumeId, eniId: e.networkInterfaceId, subnetId: e.subnetId, privateIp: e.privateIpAddress });
  }

  const broken = (description.broken ?? []).map(({ kind }, k): SeededBrokenPair => {
    const n = description.pairs + k;
    const nodeId = `node-${n + 1}`;
    const az = azAt(n);
    switch (kind) {
      case 'volume-only':
        return { nodeId, kind, volumeIds: [volume(nodeId, az)], eniIds: [], azs: [az] };
      case 'eni-only':
        return { nodeId, kind, volumeIds: [], eniIds: [eni(nodeId, az).networkInterfaceId], azs: [az] };
      case 'split-az': {
        if (azs.length < 2) throw new Error('a split-az pair needs at least two AZs');
        const other = azAt(n + 1);
        return { nodeId, kind, volumeIds: [volume(nodeId, az)], eniIds: [eni(nodeId, other).networkInterfaceId], azs: [az, other] };
      }
      case 'duplicate-volume':
        return {
          nodeId,
          kind,
          volumeIds: [volume(nodeId, az), volume(nodeId, az)],
          eniIds: [eni(nodeId, az).networkInterfaceId],
          azs: [az, az, az],
        };
    }
  });
  return { pairs, broken };
}
