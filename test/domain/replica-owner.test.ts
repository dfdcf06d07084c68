import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerOf, pairOrder } from '../../src/domain/replica-owner.ts';

const ids = Array.from({ length: 3000 }, (_, i) => `i-${(i * 2654435761 >>> 0).toString(16).padStart(17, '0')}`);
const pairs = Array.from({ length: 20 }, (_, i) => ({ nodeId: `node-${String(i).padStart(2, '0')}` }));

describe('replica ownership', () => {
  it('one replica owns everything; several share the instances about evenly', () => {
    assert.ok(ids.every((id) => ownerOf(id, 1) === 0));
    for (const count of [2, 3, 5]) {
      const owned = Array.from({ length: count }, (_, r) => ids.filter((id) => ownerOf(id, count) === r).length);
      for (const n of owned) assert.ok(Math.abs(n - ids.length / count) < ids.length / count / 10, `${count} replicas: ${owned.join(' / ')}`);
    }
  });

  it('adding a replica moves only the instances the new one takes', () => {
    const moved = ids.filter((id) => ownerOf(id, 3) !== ownerOf(id, 2));
    assert.ok(moved.every((id) => ownerOf(id, 3) === 2));
  });

  it("the owner's pairs first from the front, then the others' from the back: two replicas pairing at once never choose the same pair while there are enough", () => {
    const [a, b] = [ids.find((id) => ownerOf(id, 2) === 0)!, ids.find((id) => ownerOf(id, 2) === 1)!];
    const orderA = pairOrder(pairs, a, 2);
    const orderB = pairOrder(pairs, b, 2);
    assert.deepEqual(orderA.map((p) => p.nodeId).sort(), pairs.map((p) => p.nodeId), 'every pair, once');
    // Neither replica sees what the other takes (their views are stale): A takes the first k of
    // its order, B the first m of its own. However the launches fall, they never take one pair
    // both while there are enough for all.
    for (let k = 0; k <= pairs.length; k++) {
      for (let m = 0; k + m <= pairs.length; m++) {
        const byA = new Set(orderA.slice(0, k).map((p) => p.nodeId));
        const both = orderB.slice(0, m).filter((p) => byA.has(p.nodeId));
        assert.deepEqual(both, [], `A takes ${k}, B takes ${m}`);
      }
    }
  });

  it('the same instance gives the same order on every replica (a taker starts where the owner did); one replica keeps rendezvous order per instance', () => {
    for (const id of ids.slice(0, 50)) assert.deepEqual(pairOrder(pairs, id, 2), pairOrder([...pairs].reverse(), id, 2));
    const firsts = new Set(ids.slice(0, 200).map((id) => pairOrder(pairs, id, 1)[0]!.nodeId));
    assert.ok(firsts.size > 10, 'one replica: launches start at different pairs');
  });
});
