/**
 * How replicas that share a claim store split the work without talking to each other:
 * which replica owns an instance, and in which order a launch tries the free pairs.
 */
import { rendezvousOrder } from './rendezvous.ts';
import { compareCodeUnits } from './text-order.ts';

/**
 * The owner of an instance among `count` replicas: the first in rendezvous order of the
 * instance id over their indexes. Every replica computes the same owner, and the
 * instances spread evenly over the replicas.
 */
export function ownerOf(id: string, count: number): number {
  if (count === 1) return 0;
  const indexes = Array.from({ length: count }, (_, i) => i);
  return rendezvousOrder(indexes, id, String)[0]!;
}

/**
 * The order in which a launch tries the free pairs of its AZ.
 *
 * One replica (or replicas not told of each other): rendezvous order of the instance
 * id, so two replicas that get the same message start at the same pair, and the loser
 * of that one create learns at once that the instance is taken care of.
 *
 * Several: the pairs are owned like instances. The instance's owner's pairs come
 * first, from the front of one fixed order (NodeID order), then the other replicas'
 * pairs from its back. Each replica fills its own pairs from the front and borrows
 * others' from the back, so two replicas pairing different instances at once choose
 * the same pair only when they meet over an AZ's last free pairs. A replica taking
 * over an instance uses its owner's order, so both start at the same pair.
 */
export function pairOrder<P extends { nodeId: string }>(pairs: readonly P[], instanceId: string, count: number): P[] {
  if (count === 1) return rendezvousOrder(pairs, instanceId, (p) => p.nodeId);
  const owner = ownerOf(instanceId, count);
  const sorted = [...pairs].sort((a, b) => compareCodeUnits(a.nodeId, b.nodeId));
  const owners = sorted.filter((p) => ownerOf(p.nodeId, count) === owner);
  const borrowed = sorted.filter((p) => ownerOf(p.nodeId, count) !== owner).reverse();
  return [...owners, ...borrowed];
}
