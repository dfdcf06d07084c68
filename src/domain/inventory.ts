/**
 * A group's volumes and ENIs grouped into pairs by their NodeID tag, what each pair
 * looks like to an operator, and which pairs are free. A pair is usable only with
 * exactly one volume and one ENI in the same AZ; anything else is reported and
 * never used, because attaching half of an ambiguous pair could give a node the
 * wrong data or the wrong address.
 */
import { holdsPair } from './attachment.ts';
import { isValidNodeId, shownTagValue } from './node-id.ts';
import type { Claim, EniInfo, Pair, VolumeInfo } from './pairs.ts';
import { compareNodeIds } from './text-order.ts';

export function buildPairs(group: string, nodeIdTag: string, volumes: VolumeInfo[], enis: EniInfo[]): Pair[] {
  const byNode = new Map<string, { volumes: VolumeInfo[]; enis: EniInfo[] }>();
  const entry = (nodeId: string) => {
    let e = byNode.get(nodeId);
    if (!e) byNode.set(nodeId, (e = { volumes: [], enis: [] }));
    return e;
  };
  for (const v of volumes) {
    const nodeId = v.tags[nodeIdTag];
    if (nodeId) entry(nodeId).volumes.push(v);
  }
  for (const n of enis) {
    const nodeId = n.tags[nodeIdTag];
    if (nodeId) entry(nodeId).enis.push(n);
  }
  return [...byNode]
    .map(([nodeId, { volumes: vs, enis: ns }]) => (isValidNodeId(nodeId) ? classify(group, nodeId, vs, ns) : invalid(group, nodeId, vs, ns)))
    .sort((a, b) => compareNodeIds(a.nodeId, b.nodeId));
}

/** A NodeID outside the documented set: broken, never used, and shown only quoted and bounded. */
function invalid(group: string, nodeId: string, volumes: VolumeInfo[], enis: EniInfo[]): Pair {
  const shown = shownTagValue(nodeId);
  return {
    group,
    nodeId: shown,
    condition: 'broken',
    problem: `NodeID ${shown} is not valid (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)`,
    volume: volumes.length === 1 ? volumes[0] : undefined,
    eni: enis.length === 1 ? enis[0] : undefined,
    availabilityZone: volumes[0]?.availabilityZone ?? enis[0]?.availabilityZone,
  };
}

function classify(group: string, nodeId: string, volumes: VolumeInfo[], enis: EniInfo[]): Pair {
  const volume = volumes.length === 1 ? volumes[0] : undefined;
  const eni = enis.length === 1 ? enis[0] : undefined;
  const base = { group, nodeId, volume, eni, availabilityZone: volume?.availabilityZone ?? eni?.availabilityZone };
  if (volumes.length > 1 || enis.length > 1) {
    return { ...base, condition: 'broken', problem: `${volumes.length} volumes and ${enis.length} ENIs share NodeID ${nodeId}` };
  }
  if (!volume || !eni) {
    return { ...base, condition: 'incomplete', problem: volume ? 'no ENI with this NodeID' : 'no volume with this NodeID' };
  }
  if (volume.multiAttachEnabled) {
    // EC2 would attach it to a second instance without VolumeInUse: the attachment is no lock (invariant 2).
    return { ...base, condition: 'broken', problem: 'volume has Multi-Attach enabled' };
  }
  if (volume.availabilityZone !== eni.availabilityZone) {
    return { ...base, condition: 'broken', problem: `volume in ${volume.availabilityZone}, ENI in ${eni.availabilityZone}` };
  }
  if (!['available', 'in-use'].includes(volume.state)) {
    return { ...base, condition: 'broken', problem: `volume is ${volume.state}` };
  }
  return { ...base, condition: 'usable', problem: undefined };
}

/** What an operator sees for a pair in /v1/pairs. */
export type PairStatus = 'free' | 'claimed' | 'attached' | 'incomplete' | 'broken';

export function pairStatus(pair: Pair, claim: Claim | undefined): { status: PairStatus; holder: string | undefined } {
  if (pair.condition !== 'usable') return { status: pair.condition, holder: undefined };
  const volumeHolder = pair.volume?.attachment?.instanceId;
  const eniHolder = pair.eni?.attachment?.instanceId;
  if (claim) return { status: holdsPair(pair, claim) ? 'attached' : 'claimed', holder: claim.instanceId };
  if (volumeHolder || eniHolder) return { status: 'claimed', holder: volumeHolder ?? eniHolder };
  return { status: 'free', holder: undefined };
}

/**
 * The usable pairs an instance in `availabilityZone` may claim, in stable NodeID
 * order: no claim, the volume not attached, and the ENI either free or left on an
 * instance that is gone (`isGone`) — pairkeeper may detach that one (invariant 3).
 * A volume still on a dead instance is not free until AWS detaches it.
 */
export function freePairs(pairs: Pair[], claims: Claim[], availabilityZone: string, isGone: (instanceId: string) => boolean = () => false): Pair[] {
  const claimed = new Set(claims.map((c) => c.nodeId));
  return pairs.filter((p) => {
    const eniHolder = p.eni?.attachment?.instanceId;
    return (
      p.condition === 'usable' &&
      p.availabilityZone === availabilityZone &&
      !claimed.has(p.nodeId) &&
      !p.volume?.attachment &&
      (eniHolder === undefined || isGone(eniHolder))
    );
  });
}

/** Instances holding the ENI of a pair whose volume is free: the ones whose state decides whether the ENI may be taken. */
export function eniHolders(pairs: Pair[], availabilityZone: string): string[] {
  return [
    ...new Set(
      pairs
        .filter((p) => p.condition === 'usable' && p.availabilityZone === availabilityZone && !p.volume?.attachment && p.eni?.attachment)
        .map((p) => p.eni!.attachment!.instanceId),
    ),
  ];
}
