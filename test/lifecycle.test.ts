import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPairs } from '../fake-aws/ec2/pair-check.ts';
import { clientsFor } from '../fake-aws/clients.ts';
import { SsmClaimStore } from '../src/claims/ssm-claim-store.ts';
import type { GroupMember } from '../fake-aws/autoscaling/types.ts';
import { assertInvariants, settle } from './helpers/settle.ts';
import { waitFor, waitForValue } from './helpers/wait-for.ts';
import { type World, type WorldOptions, worldsClosedAfterEach, instanceRecord } from './helpers/world.ts';

/**
 * Lifecycle hooks end to end: the local Auto Scaling holds instances in its wait
 * states and publishes the hook's messages to the topic pairkeeper listens to;
 * pairkeeper completes the actions through the real SDK. Hook seconds run 20× faster
 * in the fake (msPerHookSecond: 50), so AWS's shortest timeout (30 s) lasts 1.5 s.
 */
const newWorld = worldsClosedAfterEach();

const HOOK = 'pk-launch';

async function start(options: WorldOptions & { heartbeatTimeout?: number; lifecycle?: Record<string, unknown>; terminating?: boolean } = {}): Promise<World> {
  const { heartbeatTimeout = 30, lifecycle = {}, terminating = false, ...rest } = options;
  const world = await newWorld({
    fake: { autoScalingTiming: { msPerHookSecond: 50 }, ...rest.fake },
    ...rest,
    config: { groups: [{ name: 'etcd', filters: 'Service=etcd', lifecycle }], ...rest.config },
  });
  const hook = { heartbeatTimeout, notificationTargetArn: world.topicArn };
  world.aws.autoScaling.putLifecycleHook('etcd', { name: HOOK, transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', ...hook });
  if (terminating) world.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-terminate', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', ...hook });
  return world;
}

function onlyMember(w: World): GroupMember | undefined {
  return [...w.aws.autoScaling.groups()[0]!.members.values()][0];
}

/** Watches the member from the outside and calls `seen` with its state and EC2's pair check at each change. */
function watchMember(w: World, seen: (state: string, whole: boolean) => void): () => void {
  let last = '';
  const timer = setInterval(() => {
    const m = onlyMember(w);
    if (!m || m.lifecycleState === last) return;
    last = m.lifecycleState;
    seen(last, checkPairs(w.aws).complete.some((p) => p.instanceId === m.instanceId));
  }, 2);
  return () => clearInterval(timer);
}

describe('lifecycle hooks', () => {
  it('a hook-held launch is let go (CONTINUE) only after both attachments, and no timer stays behind', async () => {
    const w = await start({ fake: { ec2Timing: { attachDelayMs: 300, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } } });
    const states: [string, boolean][] = [];
    const stop = watchMember(w, (state, whole) => states.push([state, whole]));
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => onlyMember(w)?.lifecycleState === 'InService', 'the instance to go in service');
    stop();
    const check = await settle(w, 1);
    assertInvariants(check);
    const wait = states.findIndex(([s]) => s === 'Pending:Wait');
    assert.ok(wait >= 0, `the instance was held (${JSON.stringify(states)})`);
    for (const [state, whole] of states.slice(wait + 1)) assert.ok(whole, `${state} before the pair was whole (${JSON.stringify(states)})`);
    assert.equal(w.logs.find('lifecycle action completed with CONTINUE').length, 1);
    assert.equal(w.app.controller.status().lifecycleHolds, 0, 'no hold (and so no heartbeat timer) left');
  });

  it('no free pair: the launch is abandoned after noPairWaitSeconds, and Auto Scaling terminates the instance', async () => {
    const w = await start({ pairs: { pairs: 0 }, lifecycle: { noPairWaitSeconds: 0.2 } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const first = await waitForValue(() => onlyMember(w)?.instanceId, 'an instance');
    await waitFor(() => instanceRecord(w.app, first)?.status === 'abandoned', 'the launch to be abandoned');
    await waitFor(() => w.aws.ec2.instance(first)?.state === 'terminated', 'Auto Scaling to terminate the abandoned instance');
    const [line] = w.logs.find('lifecycle action completed with ABANDON');
    assert.match(String(line?.why), /no free pair in us-east-1/);
  });

  it('no free pair with onNoPair: continue: the instance goes in service without a pair and waits for one', async () => {
    const w = await start({ pairs: { pairs: 0 }, lifecycle: { onNoPair: 'continue', noPairWaitSeconds: 0 } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => onlyMember(w)?.lifecycleState === 'InService', 'the instance to go in service');
    const id = onlyMember(w)!.instanceId;
    // The launch notification that follows in-service looks again: it ends waiting too.
    await waitFor(async () => {
      await w.app.controller.idle();
      return instanceRecord(w.app, id)?.status === 'waiting';
    }, 'the instance to wait for a pair');
    assert.equal(w.logs.find('lifecycle action completed with CONTINUE').length, 1);
    assert.equal(w.logs.find('lifecycle action completed with ABANDON').length, 0);
  });

  it('a hook-held instance waits for a pair being released, instead of being abandoned at once', async () => {
    // Hook seconds run 20× faster here: heartbeats every 3% of the timeout (45 ms) keep the hook open while it waits, as in AWS.
    const w = await start({ pairs: { pairs: 3 }, lifecycle: { noPairWaitSeconds: 30, heartbeatFraction: 0.03 } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await settle(w, 3);
    // One more in an AZ that has no free pair: it waits; terminating a holder there frees one.
    w.aws.autoScaling.setDesiredCapacity('etcd', 4);
    const newcomer = await waitForValue(() => w.app.controller.instances().find((r) => r.status === 'waiting'), 'an instance waiting for a pair');
    const holder = checkPairs(w.aws).complete.find((p) => p.availabilityZone === newcomer.availabilityZone)!;
    w.aws.autoScaling.terminateInstance(holder.instanceId, false);
    await waitFor(() => instanceRecord(w.app, newcomer.instanceId)?.status === 'paired', 'the newcomer to get the released pair', 20_000);
    await waitFor(() => w.aws.autoScaling.memberOf(newcomer.instanceId)?.member.lifecycleState === 'InService', 'the newcomer to go in service');
    assert.equal(w.logs.find('lifecycle action completed with ABANDON').length, 0);
  });

  it('a member on its way out (Terminating:Wait under another tool\'s hook) never takes a freed pair; the launch waiting beside it does (issue 13)', async () => {
    const w = await start({ pairs: { pairs: 3 }, lifecycle: { onNoPair: 'continue', noPairWaitSeconds: 0 } });
    const otherTopic = w.aws.sns.createTopic('another-tool');
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'other-tool', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', heartbeatTimeout: 300, notificationTargetArn: otherTopic });
    w.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await settle(w, 3);
    const waitingIn = (az: string) => w.app.controller.instances().filter((r) => r.status === 'waiting' && r.availabilityZone === az);
    // A fourth member finds no pair in its AZ and waits; then it is picked for scale-in, and the other tool holds it there, running.
    w.aws.autoScaling.setDesiredCapacity('etcd', 4);
    const leaving = await waitForValue(() => w.app.controller.instances().find((r) => r.status === 'waiting'), 'an instance waiting for a pair');
    const az = leaving.availabilityZone!;
    w.aws.autoScaling.terminateInstance(leaving.instanceId, false);
    await waitFor(() => w.aws.autoScaling.memberOf(leaving.instanceId)?.member.lifecycleState === 'Terminating:Wait', 'the leaving member to be held in Terminating:Wait');
    // Its replacement lands in the same AZ (the least populated) and waits too.
    const replacement = await waitForValue(() => waitingIn(az).find((r) => r.instanceId !== leaving.instanceId), 'the replacement to wait in the same AZ');
    // A holder there goes: once the other tool lets it go, its pair is released and both waiting instances are woken.
    const holder = checkPairs(w.aws).complete.find((p) => p.availabilityZone === az)!;
    w.aws.autoScaling.terminateInstance(holder.instanceId, true);
    await waitFor(() => w.aws.autoScaling.memberOf(holder.instanceId)?.member.lifecycleState === 'Terminating:Wait', 'the holder to be held');
    const held = w.aws.autoScaling.actions.list().find((a) => a.instanceId === holder.instanceId)!;
    w.aws.autoScaling.actions.complete({ groupName: 'etcd', hookName: 'other-tool', token: held.token }, 'CONTINUE');
    let attachedToLeaving = false;
    const pairVolumeOnLeaving = () => w.aws.ec2.volumes().some((v) => v.tags.has('NodeID') && v.attachment?.instanceId === leaving.instanceId);
    const watch = setInterval(() => (attachedToLeaving ||= pairVolumeOnLeaving()), 2);
    try {
      await waitFor(() => instanceRecord(w.app, replacement.instanceId)?.status === 'paired', 'the replacement to get the released pair', 20_000);
      await w.app.controller.idle();
    } finally {
      clearInterval(watch);
    }
    assert.equal(attachedToLeaving, false, 'no pair volume was ever attached to the leaving member');
    assert.equal(w.aws.autoScaling.memberOf(leaving.instanceId)?.member.lifecycleState, 'Terminating:Wait', 'the replacement was paired while the leaving member still stood there');
    assertInvariants(checkPairs(w.aws));
  });

  it('a launch abandoned while its pair is being attached gives the pair back when Auto Scaling reports the failed launch, not at the next resync (issue 15)', async () => {
    const w = await start({ pairs: { pairs: 3 }, fake: { ec2Timing: { attachDelayMs: 1500, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const first = await waitForValue(() => onlyMember(w)?.instanceId, 'an instance');
    await waitFor(async () => (await w.app.controller.claims()).some((c) => c.instanceId === first), 'the claim to be made');
    // Someone else (another replica, an operator) abandons the launch while the volume is still attaching.
    const action = w.aws.autoScaling.actions.list().find((a) => a.instanceId === first)!;
    w.aws.autoScaling.actions.complete({ groupName: 'etcd', hookName: HOOK, token: action.token }, 'ABANDON');
    await waitFor(() => w.aws.ec2.instance(first)?.state === 'terminated', 'Auto Scaling to terminate the abandoned instance');
    // The world's resync runs once an hour: only the launch-error message can release the claim in time.
    await waitFor(async () => !(await w.app.controller.claims()).some((c) => c.instanceId === first), "the abandoned instance's claim to be released");
  });

  it('a replica that found no pair never abandons a launch another replica holds a claim for (issue 15)', async () => {
    const w = await start({ claims: 'ssm', pairs: { pairs: 3 }, lifecycle: { noPairWaitSeconds: 1, heartbeatFraction: 0.03 } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await settle(w, 3);
    w.aws.autoScaling.setDesiredCapacity('etcd', 4);
    const newcomer = await waitForValue(() => w.app.controller.instances().find((r) => r.status === 'waiting'), 'an instance waiting for a pair');
    // Another replica, whose view differs, claims a pair for it (as after a release only that replica saw).
    const peer = new SsmClaimStore({ client: clientsFor(w.aws.url, w.aws.region).ssm, prefix: '/pairkeeper' });
    const now = new Date().toISOString();
    assert.equal(await peer.create({ group: 'etcd', nodeId: 'node-9', instanceId: newcomer.instanceId, state: 'claimed', since: now, updatedAt: now }), true);
    // Past noPairWaitSeconds: this replica looks once more before it would abandon, finds the claim, and leaves the work.
    await waitFor(() => instanceRecord(w.app, newcomer.instanceId)?.status === 'elsewhere', 'the replica to leave the launch to the claimant', 10_000);
    assert.equal(w.logs.find('lifecycle action completed with ABANDON').length, 0);
    assert.notEqual(w.aws.ec2.instance(newcomer.instanceId)?.state, 'terminated');
  });

  it('attaching that outlasts the hook timeout is kept alive with heartbeats', async () => {
    // The hook times out after 30 hook-seconds (1.5 s here); attaching takes 2.5 s; a heartbeat every 3% of it (45 ms).
    const w = await start({ lifecycle: { heartbeatFraction: 0.03 }, fake: { ec2Timing: { attachDelayMs: 1250, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } } });
    w.aws.faults.resetCounts();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => onlyMember(w)?.lifecycleState === 'InService', 'the instance to go in service', 20_000);
    assertInvariants(await settle(w, 1));
    assert.ok(w.aws.faults.count('AutoScaling', 'RecordLifecycleActionHeartbeat') >= 2, 'heartbeats were sent');
    assert.equal(w.logs.find('lifecycle action completed with CONTINUE').length, 1);
    const beats = w.aws.faults.count('AutoScaling', 'RecordLifecycleActionHeartbeat');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(w.aws.faults.count('AutoScaling', 'RecordLifecycleActionHeartbeat'), beats, 'no heartbeat after completion');
  });

  it('heartbeats stop when the action ends elsewhere (ValidationError), and the work carries on', async () => {
    const w = await start({ lifecycle: { heartbeatFraction: 0.03 }, fake: { ec2Timing: { attachDelayMs: 1000, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const action = await waitForValue(() => w.aws.autoScaling.actions.list()[0], 'the lifecycle action');
    await waitFor(() => w.app.controller.status().lifecycleHolds === 1, 'pairkeeper to hold it');
    // Someone else (an operator, another tool) completes it.
    w.aws.autoScaling.actions.complete({ groupName: 'etcd', hookName: HOOK, token: action.token }, 'CONTINUE');
    await waitFor(() => w.logs.find('lifecycle action ended elsewhere; no more heartbeats').length === 1, 'the heartbeat to notice');
    assert.equal(w.app.controller.status().lifecycleHolds, 0);
    assertInvariants(await settle(w, 1));
  });

  it("while another tool's hook keeps the instance in Pending:Wait, resync completes ours once, not at every run (issue 13)", async () => {
    const w = await start({ heartbeatTimeout: 300 });
    const otherTopic = w.aws.sns.createTopic('another-tool');
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'other-tool', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 300, notificationTargetArn: otherTopic });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    assertInvariants(await settle(w, 1));
    await waitFor(() => w.logs.find('lifecycle action completed with CONTINUE').length === 1, 'our hook to be completed');
    assert.equal(onlyMember(w)?.lifecycleState, 'Pending:Wait', 'the other tool still holds it');
    for (let i = 0; i < 3; i++) {
      await w.app.controller.resyncNow();
      await w.app.controller.idle();
    }
    assert.equal(w.aws.faults.count('AutoScaling', 'CompleteLifecycleAction'), 1, 'no completion sent again');
  });

  it('a terminating hook is completed with CONTINUE at once, and the pair is released once the instance is gone', async () => {
    const w = await start({ terminating: true });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    w.aws.autoScaling.terminateInstance(held.instanceId, true);
    await waitFor(async () => (await w.app.controller.claims()).length === 0, 'the claim to be released');
    const check = await settle(w, 0);
    assertInvariants(check);
    assert.equal(check.free, w.seeded.pairs.length);
    assert.equal(w.logs.find('lifecycle action completed with CONTINUE').length, 2, 'launch and terminate');
    assert.equal(w.app.controller.status().lifecycleHolds, 0);
  });

  it('a hook with no notification target (an EventBridge rule feeds the queue) is completed by resync when lifecycle.hookNames names it; an unnamed one is left alone', async () => {
    const w = await newWorld({
      fake: { autoScalingTiming: { msPerHookSecond: 50 } },
      config: { resync: { intervalSeconds: 0.3 }, groups: [{ name: 'etcd', filters: 'Service=etcd', lifecycle: { hookNames: ['eb-launch'] } }] },
    });
    // No target: no message tells pairkeeper of either action; only resync can find them.
    for (const name of ['eb-launch', 'someone-elses']) w.aws.autoScaling.putLifecycleHook('etcd', { name, transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 300 });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    assertInvariants(await settle(w, 1));
    await waitFor(() => w.logs.find('lifecycle action completed with CONTINUE').length === 1, 'the named hook to be completed', 10_000);
    for (let i = 0; i < 2; i++) await w.app.controller.resyncNow();
    await w.app.controller.idle();
    assert.deepEqual(w.logs.find('lifecycle action completed with CONTINUE').map((l) => l.hook), ['eb-launch']);
    assert.equal(onlyMember(w)?.lifecycleState, 'Pending:Wait', 'the unnamed hook is its own tool\'s to complete');
  });

  it('a hook-held instance whose message was lost is paired and let go by resync', async () => {
    const w = await start({ config: { resync: { intervalSeconds: 0.3 } } });
    w.aws.sns.chaos.dropRate = 1;
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => onlyMember(w)?.lifecycleState === 'InService', 'resync to let the instance go', 20_000);
    assertInvariants(await settle(w, 1));
    assert.deepEqual(w.eventKinds().filter((k) => k !== 'test'), [], 'no lifecycle or launch message reached pairkeeper');
    assert.equal(w.logs.find('lifecycle action completed with CONTINUE').length, 1);
  });
});
