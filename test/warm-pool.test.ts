/**
 * Warm pools end to end: the local AWS fills a group's warm pool (EC2 → WarmPool),
 * scales out from it (WarmPool → AutoScalingGroup) and refills it, each move held by
 * pairkeeper's launch hook. Pairs are scarce: an instance entering the pool gets its
 * hook continued without a pair and never waits for one; one leaving it for the group
 * is paired before its hook is continued, like a launch. ReuseOnScaleIn is refused.
 * Hooks last 30 s here (600 hook-seconds of 50 ms), so a hook completed sooner was
 * completed by pairkeeper, not by its timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupMember } from '../fake-aws/autoscaling/types.ts';
import { assertInvariants, settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { worldsClosedAfterEach, type World } from './helpers/world.ts';

const newWorld = worldsClosedAfterEach();

/** Two warmed instances whatever the desired capacity (up to 2): the pool is max(MinSize, MaxGroupPreparedCapacity − desired). */
const POOL_OF_TWO = { minSize: 2, maxGroupPreparedCapacity: 2 };

async function start(): Promise<World> {
  const w = await newWorld({ fake: { autoScalingTiming: { msPerHookSecond: 50 } } });
  const hook = { heartbeatTimeout: 600, notificationTargetArn: w.topicArn };
  w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', ...hook });
  w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-terminate', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', ...hook });
  return w;
}

function group(w: World) {
  return w.aws.autoScaling.groups().find((g) => g.name === 'etcd')!;
}
const pool = (w: World): GroupMember[] => w.aws.autoScaling.warmMembers(group(w));
/** The group's own members (the fake keeps pool instances beside them). */
const inGroup = (w: World): GroupMember[] => [...group(w).members.values()].filter((m) => !m.lifecycleState.startsWith('Warmed:'));

/** No instance of the pool holds a pair, a claim, or a place among those waiting for one. */
async function assertPoolHoldsNothing(w: World): Promise<void> {
  const warm = new Set(pool(w).map((m) => m.instanceId));
  const claims = await w.app.controller.claims('etcd');
  assert.deepEqual(claims.filter((c) => warm.has(c.instanceId)), [], 'no claim of a warmed instance');
  for (const p of w.seeded.pairs) {
    const holder = w.aws.ec2.volume(p.volumeId)?.attachment?.instanceId;
    assert.ok(!holder || !warm.has(holder), `${p.nodeId} is not on a warmed instance`);
  }
  assert.deepEqual(w.app.controller.instances().filter((r) => warm.has(r.instanceId) && r.status === 'waiting'), [], 'no warmed instance waits for a pair');
}

describe('warm pools', () => {
  it('filling the pool: each instance’s launch hook is continued without a pair, and it rests stopped', async () => {
    const w = await start();
    w.aws.autoScaling.putWarmPool('etcd', POOL_OF_TWO);
    await waitFor(() => pool(w).length === 2 && pool(w).every((m) => m.lifecycleState === 'Warmed:Stopped'), 'two warmed instances at rest', 10_000);
    await assertPoolHoldsNothing(w);
    assertInvariants(await settle(w, 0));
  });

  it('scale-out from the pool: the instance is paired before its hook is continued, and the pool is refilled without pairs', async () => {
    const w = await start();
    w.aws.autoScaling.putWarmPool('etcd', POOL_OF_TWO);
    await waitFor(() => pool(w).length === 2 && pool(w).every((m) => m.lifecycleState === 'Warmed:Stopped'), 'the pool filled', 10_000);
    const warmed = new Set(pool(w).map((m) => m.instanceId));

    w.aws.autoScaling.setDesiredCapacity('etcd', 2);
    await waitFor(() => inGroup(w).length === 2 && inGroup(w).every((m) => m.lifecycleState === 'InService'), 'two members InService', 10_000);
    const members = inGroup(w).map((m) => m.instanceId);
    assert.ok(members.every((id) => warmed.has(id)), 'the members came from the pool');
    const check = await settle(w, 2);
    assertInvariants(check);
    assert.deepEqual(check.complete.map((h) => h.instanceId).sort(), [...members].sort(), 'each member from the pool holds a pair');

    await waitFor(() => pool(w).length === 2 && pool(w).every((m) => m.lifecycleState === 'Warmed:Stopped'), 'the pool refilled', 10_000);
    assert.ok(pool(w).every((m) => !warmed.has(m.instanceId)), 'refilled with new instances');
    await assertPoolHoldsNothing(w);
  });

  it('ReuseOnScaleIn is refused at resync with a message saying why and how to turn it off; other work goes on', async () => {
    const w = await start();
    w.aws.autoScaling.putWarmPool('etcd', { minSize: 0, reuseOnScaleIn: true });
    const run = await w.app.controller.resyncNow();
    assert.equal(run.failedGroups.length, 1);
    const [refused] = run.failedGroups;
    assert.equal(refused!.group, 'etcd');
    assert.match(refused!.error, /ReuseOnScaleIn.*never detaches volumes.*put-warm-pool --auto-scaling-group-name etcd --instance-reuse-policy ReuseOnScaleIn=false/);
    w.aws.autoScaling.putWarmPool('etcd', { reuseOnScaleIn: false });
    const after = await w.app.controller.resyncNow();
    assert.deepEqual(after.failedGroups, []);
  });

  it('an instance sent back to the pool anyway (ReuseOnScaleIn, refused) has its terminate hook completed and keeps its pair: nothing detached', async () => {
    const w = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const [held] = (await settle(w, 1)).complete;
    await waitFor(() => inGroup(w).length === 1 && inGroup(w)[0]!.lifecycleState === 'InService', 'the member InService');
    w.aws.autoScaling.putWarmPool('etcd', { minSize: 0, maxGroupPreparedCapacity: 1, reuseOnScaleIn: true });
    w.aws.autoScaling.setDesiredCapacity('etcd', 0);
    await waitFor(() => pool(w).some((m) => m.instanceId === held!.instanceId && m.lifecycleState === 'Warmed:Stopped'), 'the instance back in the pool, stopped', 10_000);
    await w.app.controller.idle();
    assert.equal(w.aws.ec2.instance(held!.instanceId)?.state, 'stopped');
    assert.equal(w.aws.ec2.volume(held!.volumeIds[0]!)?.attachment?.instanceId, held!.instanceId, 'its volume is still attached');
    assert.equal(w.aws.ec2.networkInterface(held!.networkInterfaceIds[0]!)?.attachment?.instanceId, held!.instanceId, 'so is its ENI');
    assert.deepEqual((await w.app.controller.claims('etcd')).map((c) => c.instanceId), [held!.instanceId], 'its claim stays');
  });
});
