import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteShares } from '../../src/controller/write-shares.ts';
import { ownerOf } from '../../src/domain/replica-owner.ts';

/** Replicas that see the same messages, on one clock the test moves. */
function replicas(count: number, windowMs = 60_000) {
  let now = 0;
  const all = Array.from({ length: count }, (_, index) => new WriteShares({ index, count, windowMs, now: () => now }));
  return {
    all,
    message: (instanceId: string) => all.forEach((r) => r.saw(instanceId, ownerOf(instanceId, count))),
    advance: (ms: number) => (now += ms),
  };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);

describe('WriteShares', () => {
  it('gives each replica a part in proportion to the instances it owns, and the parts add up to the whole', () => {
    const r = replicas(2);
    const burst = ids(100);
    burst.forEach(r.message);
    const owned = [0, 1].map((i) => burst.filter((id) => ownerOf(id, 2) === i).length);
    assert.notEqual(owned[0], owned[1], 'an uneven split, as a burst usually is');
    const parts = r.all.map((s) => s.mine());
    assert.deepEqual(parts, [(owned[0]! + 1) / 102, (owned[1]! + 1) / 102]);
    assert.ok(Math.abs(parts[0]! + parts[1]! - 1) < 1e-12);
  });

  it('counts an instance once however many messages name it (a notification and a hook message, SNS retries)', () => {
    const r = replicas(2);
    const [a, b] = ids(2);
    for (const id of [a!, a!, a!, b!]) r.message(id);
    const owned = (index: number) => [a!, b!].filter((id) => ownerOf(id, 2) === index).length;
    assert.deepEqual(
      r.all.map((s) => s.mine()),
      [0, 1].map((i) => (owned(i) + 1) / (2 + 2)),
    );
  });

  it('an instance taken over counts as the taker\'s, later messages about it too', () => {
    const r = replicas(2);
    const [theirs] = ids(20).filter((id) => ownerOf(id, 2) === 1);
    r.message(theirs!);
    assert.equal(r.all[0]!.mine(), 1 / 3);
    r.all[0]!.tookOver(theirs!);
    r.message(theirs!); // the hook message, or an SNS retry, after the takeover
    assert.equal(r.all[0]!.mine(), 2 / 3);
  });

  it('forgets instances after the window: with nothing in it, the parts are equal; an idle replica keeps a little', () => {
    const r = replicas(3, 1000);
    const owned = ids(100).filter((id) => ownerOf(id, 3) === 0).slice(0, 10);
    assert.equal(owned.length, 10);
    owned.forEach(r.message);
    assert.deepEqual(r.all.map((s) => s.mine()), [11 / 13, 1 / 13, 1 / 13]);
    r.advance(999);
    assert.equal(r.all[0]!.mine(), 11 / 13, 'still in the window');
    r.advance(2);
    assert.deepEqual(r.all.map((s) => s.mine()), [1 / 3, 1 / 3, 1 / 3]);
  });
});
