import assert from 'node:assert/strict';
import { checkPairs, type PairCheck } from '../../fake-aws/ec2/pair-check.ts';
import type { World } from './world.ts';
import { waitFor } from './wait-for.ts';

/** Instances the group counts as running members. */
export function members(w: World): { instanceId: string; availabilityZone: string }[] {
  const group = w.aws.autoScaling.groups().find((g) => g.name === 'etcd')!;
  return [...group.members.values()].filter((m) => m.lifecycleState === 'InService' && w.aws.ec2.instance(m.instanceId)?.state === 'running');
}

/** Waits until every delivery and every replica's work is done and EC2 holds `complete` whole pairs. */
export async function settle(w: World, complete: number, timeoutMs = 20_000): Promise<PairCheck> {
  let check: PairCheck | undefined;
  await waitFor(
    async () => {
      await w.aws.sns.idle();
      await Promise.all(w.replicas.map((r) => r.app.controller.idle()));
      check = checkPairs(w.aws);
      return check.inTransition === 0 && check.complete.length === complete;
    },
    `${complete} complete pairs (last seen: ${JSON.stringify({ complete: check?.complete.length, split: check?.split.length, double: check?.double.length })})`,
    timeoutMs,
  );
  return check!;
}

export function assertInvariants(check: PairCheck): void {
  assert.deepEqual(check.split, [], 'no split pair');
  assert.deepEqual(check.double, [], 'no pair on two instances');
  assert.deepEqual(check.greedy, [], 'no instance with two pairs');
}
