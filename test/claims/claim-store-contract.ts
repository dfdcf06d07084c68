import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClaimStore } from '../../src/claims/claim-store.ts';
import type { Claim } from '../../src/domain/pairs.ts';

export interface ClaimStoreFixture {
  store: ClaimStore;
  close(): Promise<void>;
}

export function claim(group: string, nodeId: string, instanceId: string, state: Claim['state'] = 'claimed'): Claim {
  return { group, nodeId, instanceId, state, since: '2025-01-02T03:04:05.000Z', updatedAt: '2025-01-02T03:04:05.000Z' };
}

/**
 * What every ClaimStore promises (see claim-store.ts), run against each store so the
 * file store and the SSM store cannot drift apart. `makeStore` gives a fresh, empty store.
 */
export function claimStoreContract(name: string, makeStore: () => Promise<ClaimStoreFixture>): void {
  describe(`${name}: the ClaimStore contract`, () => {
    let fixture: ClaimStoreFixture;
    let store: ClaimStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(() => fixture.close());

    it('creates only if absent: a second create answers false and keeps the first holder', async () => {
      assert.equal(await store.create(claim('web', 'n1', 'i-1')), true);
      assert.equal(await store.create(claim('web', 'n1', 'i-2')), false);
      assert.equal(await store.create(claim('web', 'n1', 'i-1')), false);
      assert.deepEqual(await store.get('web', 'n1'), claim('web', 'n1', 'i-1'));
    });

    it('never confuses (group "a/b", node "c") with (group "a", node "b/c")', async () => {
      assert.equal(await store.create(claim('a/b', 'c', 'i-1')), true);
      assert.equal(await store.create(claim('a', 'b/c', 'i-2')), true);
      assert.equal((await store.get('a', 'b/c'))?.instanceId, 'i-2');
      assert.equal((await store.get('a/b', 'c'))?.instanceId, 'i-1');
    });

    it('orders by group then node in code-unit order, whatever the locale', async () => {
      for (const g of ['a-b', 'B', 'a', 'a_b']) await store.create(claim(g, 'n', 'i-1'));
      assert.deepEqual((await store.list()).map((c) => c.group), ['B', 'a', 'a-b', 'a_b']);
    });

    it('get answers undefined for a pair nobody holds', async () => {
      await store.create(claim('web', 'n1', 'i-1'));
      assert.equal(await store.get('web', 'n2'), undefined);
      assert.equal(await store.get('db', 'n1'), undefined);
    });

    it('lists in (group, nodeId) order, all groups or one', async () => {
      for (const [g, n, i] of [['web', 'n2', 'i-4'], ['db', 'n3', 'i-1'], ['web', 'n1', 'i-3'], ['db', 'n10', 'i-2'], ['cache', 'n1', 'i-5']] as const) {
        await store.create(claim(g, n, i));
      }
      const all = await store.list();
      assert.deepEqual(all.map((c) => `${c.group}/${c.nodeId}`), ['cache/n1', 'db/n10', 'db/n3', 'web/n1', 'web/n2']);
      assert.deepEqual(all[0], claim('cache', 'n1', 'i-5'));
      assert.deepEqual((await store.list('db')).map((c) => c.instanceId), ['i-2', 'i-1']);
      assert.deepEqual(await store.list('nope'), []);
    });

    it('hands out copies: changing what went in or came out changes nothing stored', async () => {
      const original = claim('web', 'n1', 'i-1');
      await store.create(original);
      original.instanceId = 'i-mutated';
      const got = await store.get('web', 'n1');
      assert.ok(got);
      got.instanceId = 'i-mutated';
      const [listed] = await store.list();
      assert.ok(listed);
      listed.state = 'attached';
      assert.deepEqual(await store.get('web', 'n1'), claim('web', 'n1', 'i-1'));
    });

    it('releases only a claim that still names the instance', async () => {
      await store.create(claim('web', 'n1', 'i-1'));
      assert.equal(await store.release(claim('web', 'n1', 'i-2')), false);
      assert.deepEqual(await store.get('web', 'n1'), claim('web', 'n1', 'i-1'));
      assert.equal(await store.release(claim('web', 'n1', 'i-1')), true);
      assert.equal(await store.get('web', 'n1'), undefined);
      assert.deepEqual(await store.list(), []);
    });

    it('a stale release after the pair was claimed again by another instance keeps the new claim', async () => {
      await store.create(claim('web', 'n1', 'i-old'));
      assert.equal(await store.release(claim('web', 'n1', 'i-old')), true);
      assert.equal(await store.create(claim('web', 'n1', 'i-new')), true);
      assert.equal(await store.release(claim('web', 'n1', 'i-old')), false);
      assert.deepEqual(await store.get('web', 'n1'), claim('web', 'n1', 'i-new'));
    });

    it('a stale release of an earlier claim of the same instance keeps the claim made since (identity is instance and moment)', async () => {
      const earlier = claim('web', 'n1', 'i-1');
      await store.create(earlier);
      assert.equal(await store.release(earlier), true);
      const again = { ...earlier, since: '2025-01-02T03:09:00.000Z', updatedAt: '2025-01-02T03:09:00.000Z' };
      assert.equal(await store.create(again), true);
      assert.equal(await store.release(earlier), false);
      assert.deepEqual(await store.get('web', 'n1'), again);
      assert.equal(await store.release(again), true);
    });

    it('a repeated release is harmless: false, and nothing else changes', async () => {
      await store.create(claim('web', 'n1', 'i-1'));
      await store.create(claim('web', 'n2', 'i-2'));
      assert.equal(await store.release(claim('web', 'n1', 'i-1')), true);
      assert.equal(await store.release(claim('web', 'n1', 'i-1')), false);
      assert.equal(await store.release(claim('web', 'never', 'i-1')), false);
      assert.deepEqual(await store.list(), [claim('web', 'n2', 'i-2')]);
    });

    it('of many instances creating the same pair at once, exactly one wins and holds it', async () => {
      const instances = Array.from({ length: 25 }, (_, i) => `i-${i}`);
      const results = await Promise.all(instances.map((id) => store.create(claim('web', 'n1', id))));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = instances[results.indexOf(true)];
      assert.equal((await store.get('web', 'n1'))?.instanceId, winner);
      assert.equal((await store.list()).length, 1);
    });

    it('keeps claims with odd but legal names apart and finds them again', async () => {
      const odd = [
        claim('Web_Tier.v2', 'node-01.a_b', 'i-1'),
        claim('Web_Tier.v2', 'node 2 (spare)', 'i-2'),
        claim('team/a', 'n1', 'i-3'),
        claim('..', '.', 'i-4'),
        claim('ünïcødé', 'nøde%41', 'i-5'),
        claim('a_5F', 'x', 'i-6'),
        claim('a_', 'x', 'i-7'),
      ];
      for (const c of odd) assert.equal(await store.create(c), true, `${c.group}/${c.nodeId}`);
      for (const c of odd) assert.deepEqual(await store.get(c.group, c.nodeId), c);
      assert.equal((await store.list()).length, odd.length);
      assert.deepEqual(await store.list('team/a'), [odd[2]]);
      assert.deepEqual(await store.list('team'), []);
      assert.equal(await store.release(claim('..', '.', 'i-4')), true);
      assert.deepEqual(await store.get('Web_Tier.v2', 'node 2 (spare)'), odd[1]);
    });
  });
}
