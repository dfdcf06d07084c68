import assert from 'node:assert/strict';
import { checkPairs } from '../fake-aws/ec2/pair-check.ts';
import { describe, it } from 'node:test';
import { HOLDER_TAG } from '../src/domain/pairs.ts';
import { AZS, worldsClosedAfterEach, instanceRecord } from './helpers/world.ts';
import { waitFor, waitForValue } from './helpers/wait-for.ts';
import { assertInvariants, members, settle } from './helpers/settle.ts';

/**
 * Pairing end to end: Auto Scaling in the local AWS launches and terminates, SNS
 * delivers signed notifications to pairkeeper over HTTP, and pairkeeper attaches
 * through the real SDK. Every test ends by checking the invariants on EC2's own
 * state: no split pair, no pair on two instances, no instance with two pairs.
 */
const start = worldsClosedAfterEach();

for (const store of ['file', 'ssm'] as const) {
  describe(`pairing with the ${store} claim store`, () => {
    it('a launched instance gets a pair in its AZ: volume first at /dev/sdf, ENI at index 1, holder tags, one claim (never rewritten)', async () => {
      const w = await start({ claims: store });
      w.aws.autoScaling.setDesiredCapacity('etcd', 1);
      const check = await settle(w, 1);
      assertInvariants(check);
      const [instance] = members(w);
      const held = check.complete[0]!;
      assert.equal(held.instanceId, instance!.instanceId);
      assert.equal(held.availabilityZone, instance!.availabilityZone);
      const volume = w.aws.ec2.volume(held.volumeIds[0]!)!;
      const eni = w.aws.ec2.networkInterface(held.networkInterfaceIds[0]!)!;
      assert.equal(volume.attachment?.device, '/dev/sdf');
      assert.equal(eni.attachment?.deviceIndex, 1);
      assert.equal(eni.attachment?.deleteOnTermination, false);
      assert.ok(volume.attachment.attachTime <= eni.attachment.attachTime, 'the volume was attached first');
      assert.equal(volume.tags.get(HOLDER_TAG), instance!.instanceId);
      assert.equal(eni.tags.get(HOLDER_TAG), instance!.instanceId);
      const claims = await w.app.controller.claims('etcd');
      assert.deepEqual(claims.map((c) => [c.nodeId, c.instanceId, c.state]), [[held.nodeId, instance!.instanceId, 'claimed']]);
    });

    it('a terminated instance’s pair is released: ENI detached, claim gone, holder tags cleared, pair free again', async () => {
      const w = await start({ claims: store });
      w.aws.autoScaling.setDesiredCapacity('etcd', 1);
      const held = (await settle(w, 1)).complete[0]!;
      w.aws.autoScaling.terminateInstance(held.instanceId, true);
      await waitFor(async () => (await w.app.controller.claims()).length === 0, 'the claim to be released');
      const check = await settle(w, 0);
      assertInvariants(check);
      assert.equal(check.free, w.seeded.pairs.length);
      assert.equal(w.aws.ec2.volume(held.volumeIds[0]!)!.tags.has(HOLDER_TAG), false);
      assert.equal(w.aws.ec2.networkInterface(held.networkInterfaceIds[0]!)!.tags.has(HOLDER_TAG), false);
      assert.equal(instanceRecord(w.app, held.instanceId)?.status, 'released');
    });
  });
}

describe('pairing', () => {
  it('keeps pairs within AZs: 18 instances over 18 pairs in 3 AZs each get one in their own AZ', async () => {
    const w = await start({ pairs: { pairs: 18, tags: { Service: 'etcd' } } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 18);
    const check = await settle(w, 18);
    assertInvariants(check);
    const azOf = new Map(members(w).map((m) => [m.instanceId, m.availabilityZone]));
    for (const h of check.complete) assert.equal(h.availabilityZone, azOf.get(h.instanceId), `${h.nodeId} in ${h.instanceId}'s AZ`);
  });

  it('exhaustion: an instance with no free pair in its AZ waits, and gets the pair a terminate releases', async () => {
    const w = await start({ pairs: { pairs: 3, tags: { Service: 'etcd' } } }); // one pair per AZ
    w.aws.autoScaling.setDesiredCapacity('etcd', 6); // two instances per AZ
    const check = await settle(w, 3);
    assertInvariants(check);
    const waiting = w.app.controller.instances().filter((r) => r.status === 'waiting');
    assert.equal(waiting.length, 3);
    const waiter = waiting[0]!;
    const holderInSameAz = check.complete.find((h) => h.availabilityZone === waiter.availabilityZone)!;
    w.aws.autoScaling.terminateInstance(holderInSameAz.instanceId, true);
    await waitFor(() => instanceRecord(w.app, waiter.instanceId)?.status === 'paired', 'the waiting instance to get the released pair', 20_000);
    const after = await settle(w, 3);
    assertInvariants(after);
    assert.ok(after.complete.some((h) => h.instanceId === waiter.instanceId && h.nodeId === holderInSameAz.nodeId));
  });

  it('never uses broken or incomplete pairs', async () => {
    const w = await start({
      pairs: { pairs: 0, tags: { Service: 'etcd' }, broken: [{ kind: 'volume-only' }, { kind: 'eni-only' }, { kind: 'split-az' }, { kind: 'duplicate-volume' }] },
    });
    w.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await waitFor(() => w.app.controller.instances().filter((r) => r.status === 'waiting').length === 3, 'three waiting instances');
    const check = checkPairs(w.aws);
    assert.equal(check.complete.length, 0);
    assert.equal(w.aws.ec2.volumes().filter((v) => v.tags.has('NodeID') && v.attachment).length, 0, 'no broken pair volume attached');
    const res = await w.app.adminApp.inject({ method: 'GET', url: '/v1/pairs' });
    const statuses = res.json<{ pairs: { status: string }[] }>().pairs.map((p) => p.status).sort();
    assert.deepEqual(statuses, ['broken', 'broken', 'incomplete', 'incomplete']);
  });

  it('detaches an ENI left on a terminated instance and takes the pair; never takes one from a running instance', async () => {
    const w = await start({ pairs: { pairs: 2, tags: { Service: 'etcd' } }, fake: { ec2Timing: { attachDelayMs: 5, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 60_000 } } });
    const [stale, busy] = w.seeded.pairs; // node-1 in AZ a, node-2 in AZ b
    // node-1's ENI stays on a terminated instance (AWS has not released it yet);
    // node-2's ENI is on a running instance outside the group.
    const dead = w.aws.ec2.runInstance({ availabilityZone: stale!.az });
    const alive = w.aws.ec2.runInstance({ availabilityZone: busy!.az });
    await waitFor(() => dead.state === 'running' && alive.state === 'running', 'the outsiders to run');
    w.aws.ec2.attachNetworkInterface({ networkInterfaceId: stale!.eniId, instanceId: dead.instanceId, deviceIndex: 1 });
    w.aws.ec2.attachNetworkInterface({ networkInterfaceId: busy!.eniId, instanceId: alive.instanceId, deviceIndex: 1 });
    w.aws.ec2.terminateInstance(dead.instanceId);
    await waitFor(() => dead.state === 'terminated', 'the outsider to terminate');

    w.aws.autoScaling.setDesiredCapacity('etcd', 2); // one instance in AZ a, one in AZ b
    await waitFor(() => w.app.controller.instances().filter((r) => ['paired', 'waiting'].includes(r.status)).length === 2, 'both instances handled', 20_000);
    const inA = members(w).find((m) => m.availabilityZone === stale!.az)!;
    const inB = members(w).find((m) => m.availabilityZone === busy!.az)!;
    assert.equal(w.aws.ec2.networkInterface(stale!.eniId)!.attachment?.instanceId, inA.instanceId, 'the stale ENI moved to the new instance');
    assert.equal(w.aws.ec2.volume(stale!.volumeId)!.attachment?.instanceId, inA.instanceId);
    assert.equal(w.aws.ec2.networkInterface(busy!.eniId)!.attachment?.instanceId, alive.instanceId, 'the running holder keeps its ENI');
    assert.equal(w.aws.ec2.volume(busy!.volumeId)!.attachment, undefined, 'and the pair’s volume was not touched');
    assert.equal(instanceRecord(w.app, inB.instanceId)?.status, 'waiting');
    assert.equal((await w.app.controller.claims()).length, 1);
  });

  it('duplicated, delayed and reordered deliveries converge: every member ends with exactly one pair', async () => {
    const w = await start({ pairs: { pairs: 12, tags: { Service: 'etcd' } } });
    w.aws.sns.reseed(42);
    w.aws.sns.chaos = { duplicateRate: 0.5, dropRate: 0, delayMs: [0, 150] };
    w.aws.autoScaling.setDesiredCapacity('etcd', 9);
    await settle(w, 9);
    w.aws.autoScaling.setDesiredCapacity('etcd', 4); // terminations, also duplicated and reordered
    await waitFor(async () => (await w.app.controller.claims()).length === 4, 'claims of the terminated to go', 20_000);
    const check = await settle(w, 4);
    assertInvariants(check);
    assert.deepEqual(check.complete.map((h) => h.instanceId).sort(), members(w).map((m) => m.instanceId).sort());
  });

  it('a terminate that arrives before its launch: the instance ends with no pair and no claim', async () => {
    const w = await start();
    const instance = w.aws.ec2.runInstance({ availabilityZone: AZS[0]! });
    w.aws.ec2.terminateInstance(instance.instanceId);
    await waitFor(() => instance.state === 'terminated', 'the instance to terminate');
    const message = (event: string) =>
      JSON.stringify({ Event: event, AutoScalingGroupName: 'etcd', EC2InstanceId: instance.instanceId, Details: { 'Availability Zone': AZS[0] } });
    for (const event of ['autoscaling:EC2_INSTANCE_TERMINATE', 'autoscaling:EC2_INSTANCE_LAUNCH']) w.aws.sns.publish(w.topicArn, message(event));
    await w.aws.sns.idle();
    await w.app.controller.idle();
    assert.equal(instanceRecord(w.app, instance.instanceId)?.status, 'gone');
    assert.deepEqual(await w.app.controller.claims(), []);
    assertInvariants(checkPairs(w.aws));
  });

  it('ignores a terminate for an instance that is still running: its pair stays', async () => {
    const w = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    w.aws.sns.publish(w.topicArn, JSON.stringify({ Event: 'autoscaling:EC2_INSTANCE_TERMINATE', AutoScalingGroupName: 'etcd', EC2InstanceId: held.instanceId }));
    await w.aws.sns.idle();
    await w.app.controller.idle();
    assertInvariants(checkPairs(w.aws));
    assert.equal(checkPairs(w.aws).complete[0]?.instanceId, held.instanceId);
    assert.equal((await w.app.controller.claims()).length, 1);
    assert.equal(w.aws.faults.count('EC2', 'DetachNetworkInterface'), 0);
  });

  it('re-reads the ENI before attaching: one taken by a running instance after the inventory was read is left alone', async () => {
    const w = await start({ pairs: { pairs: 1, tags: { Service: 'etcd' } } });
    const [pair] = w.seeded.pairs;
    await w.app.adminApp.inject({ method: 'GET', url: '/v1/pairs' }); // the shared inventory now shows the pair free
    const outsider = w.aws.ec2.runInstance({ availabilityZone: pair!.az });
    await waitFor(() => outsider.state === 'running', 'the outsider to run');
    w.aws.ec2.attachNetworkInterface({ networkInterfaceId: pair!.eniId, instanceId: outsider.instanceId, deviceIndex: 1 });
    // A member in the pair's AZ (the group's first, where a group of one launches).
    assert.equal(pair!.az, AZS[0]);
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const instance = await waitForValue(() => [...w.aws.autoScaling.groups()[0]!.members.values()][0], 'a member');
    await waitFor(() => instanceRecord(w.app, instance.instanceId)?.status === 'waiting', 'the instance to wait');
    assert.equal(w.aws.ec2.networkInterface(pair!.eniId)!.attachment?.instanceId, outsider.instanceId);
    assert.equal(w.aws.ec2.volume(pair!.volumeId)!.attachment, undefined, 'the volume was not attached either');
    assert.deepEqual(await w.app.controller.claims(), []);
  });

  it('turns DeleteOnTermination off when the ENI attachment says it is on', async () => {
    const w = await start();
    const attach = w.aws.ec2.attachNetworkInterface.bind(w.aws.ec2);
    w.aws.ec2.attachNetworkInterface = (options) => Object.assign(attach(options), { deleteOnTermination: true });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    assert.equal(w.aws.ec2.networkInterface(held.networkInterfaceIds[0]!)!.attachment?.deleteOnTermination, false);
    assert.equal(w.aws.faults.count('EC2', 'ModifyNetworkInterfaceAttribute'), 1);
  });

  it('acknowledges and counts launches of groups it does not manage, and touches nothing', async () => {
    const w = await start();
    const stranger = w.aws.ec2.runInstance({ availabilityZone: AZS[0]! });
    const message = JSON.stringify({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH', AutoScalingGroupName: 'kafka', EC2InstanceId: stranger.instanceId });
    w.aws.sns.publish(w.topicArn, message);
    await w.aws.sns.idle();
    const [event] = w.app.recentEvents.list();
    assert.equal(event?.outcome, 'ignored');
    assert.match(event?.detail ?? '', /group kafka is not configured/);
    assert.equal(w.aws.sns.deliveries.at(-1)?.status, 200);
    const metrics = (await w.app.adminApp.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /pairkeeper_sns_messages_total\{type="Notification",outcome="ignored"\} 1/);
    assert.deepEqual(await w.app.controller.claims(), []);
    assert.equal(instanceRecord(w.app, stranger.instanceId), undefined);
  });

  it('refuses a genuine launch message naming a running instance outside the group: no claim, no attach (a topic shared or abused)', async () => {
    const w = await start();
    // Running, in the group's AZ, but not launched by the group: anyone with sns:Publish could name it.
    const stranger = w.aws.ec2.runInstance({ availabilityZone: AZS[0]! });
    w.aws.faults.resetCounts();
    const message = JSON.stringify({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH', AutoScalingGroupName: 'etcd', EC2InstanceId: stranger.instanceId });
    w.aws.sns.publish(w.topicArn, message);
    await w.aws.sns.idle();
    await waitFor(() => instanceRecord(w.app, stranger.instanceId)?.status === 'refused', 'the launch to be refused');
    assert.match(instanceRecord(w.app, stranger.instanceId)?.reason ?? '', /not a member of etcd/);
    assert.deepEqual(await w.app.controller.claims(), []);
    assert.equal(w.aws.faults.count('EC2', 'AttachVolume'), 0);
    assert.equal(w.aws.faults.count('EC2', 'AttachNetworkInterface'), 0);
    assert.equal(w.logs.find('launch refused: the instance is not a member of the group').length, 1);
  });

  it("refuses an instance whose tag names the group but Auto Scaling does not count as a member (one detached from the group keeps the tag)", async () => {
    const w = await start();
    const detached = w.aws.ec2.runInstance({ availabilityZone: AZS[0]!, tags: { 'aws:autoscaling:groupName': 'etcd' } });
    await waitFor(() => detached.state === 'running', 'the instance to run');
    w.aws.sns.publish(w.topicArn, JSON.stringify({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH', AutoScalingGroupName: 'etcd', EC2InstanceId: detached.instanceId }));
    await waitFor(() => instanceRecord(w.app, detached.instanceId)?.status === 'refused', 'the launch to be refused');
    assert.match(instanceRecord(w.app, detached.instanceId)?.reason ?? '', /Auto Scaling does not count .* as a member of etcd/);
    assert.deepEqual(await w.app.controller.claims(), []);
    assert.equal(w.aws.faults.count('EC2', 'AttachVolume'), 0);
  });

  it('rides out a throttling storm: 40% of EC2 calls answer RequestLimitExceeded (503), and every instance is still paired', async () => {
    const w = await start({ pairs: { pairs: 30, tags: { Service: 'etcd' } } });
    const actions = ['DescribeInstances', 'DescribeVolumes', 'DescribeNetworkInterfaces', 'AttachVolume', 'AttachNetworkInterface', 'CreateTags'];
    for (const action of actions) w.aws.faults.set('EC2', action, { errorRate: 0.4, code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
    w.aws.autoScaling.setDesiredCapacity('etcd', 30);
    const check = await settle(w, 30);
    assertInvariants(check);
    assert.ok(w.aws.faults.count('EC2', 'AttachVolume') > 30, 'some attaches were throttled and retried');
  });

  it('100 launches at once with two replicas sharing the SSM store: no pair is shared', async () => {
    // A replica stepping back frees a pair the other replica may already have judged taken;
    // its waiting instances learn of it at the next resync, kept short here.
    const w = await start({ claims: 'ssm', pairs: { pairs: 102, tags: { Service: 'etcd' } }, config: { resync: { intervalSeconds: 0.5 } } });
    await w.addReplica();
    w.aws.autoScaling.setDesiredCapacity('etcd', 100);
    const check = await settle(w, 100);
    assertInvariants(check);
    const claims = await w.app.controller.claims('etcd');
    assert.equal(claims.length, 100);
    assert.equal(new Set(claims.map((c) => c.instanceId)).size, 100);
    // The replicas keep apart through the claims (the later claim for an instance steps back);
    // only claims made at the same moment reach EC2's device check, the last line. Without the
    // step-back this burst sees 28-45 such refusals; with it, 0-4.
    const refusedSecondVolume = w.replicas.flatMap((r) => r.logs.find('pair unavailable; trying the next')).filter((l) => /already in use on/.test(String(l.reason)));
    assert.ok(refusedSecondVolume.length <= 10, `${refusedSecondVolume.length} second volumes refused by EC2`);
  });

  it('/v1/pairs, /v1/claims, /v1/instances as JSON and as aligned text for curl', async () => {
    const w = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    // /v1/pairs answers from reads up to 2 s old (shared with the launch): the pair shows attached within that.
    const pairsNow = async () => (await w.app.adminApp.inject({ method: 'GET', url: '/v1/pairs' })).json<{ pairs: Record<string, string>[] }>();
    await waitFor(async () => (await pairsNow()).pairs.find((p) => p.nodeId === held.nodeId)?.status === 'attached', '/v1/pairs to show the pair attached');
    const json = await pairsNow();
    const row = json.pairs.find((p) => p.nodeId === held.nodeId)!;
    assert.equal(row.status, 'attached');
    assert.equal(row.holder, held.instanceId);
    assert.equal(json.pairs.filter((p) => p.status === 'free').length, w.seeded.pairs.length - 1);
    const text = await w.app.adminApp.inject({ method: 'GET', url: '/v1/pairs', headers: { accept: 'text/plain' } });
    assert.match(text.headers['content-type'] ?? '', /^text\/plain/);
    const lines = text.body.trimEnd().split('\n');
    assert.match(lines[0]!, /^GROUP\s+NODEID\s+AVAILABILITYZONE\s+VOLUMEID/);
    assert.equal(lines.length, w.seeded.pairs.length + 1);
    assert.ok(lines.some((l) => l.includes(held.nodeId) && l.includes('attached') && l.includes(held.instanceId)));
    const claims = (await w.app.adminApp.inject({ method: 'GET', url: '/v1/claims', headers: { accept: 'text/plain' } })).body;
    assert.match(claims, new RegExp(`etcd\\s+${held.nodeId}\\s+${held.instanceId}\\s+claimed`));
    const instances = (await w.app.adminApp.inject({ method: 'GET', url: '/v1/instances' })).json<{ instances: { instanceId: string; status: string }[] }>();
    assert.deepEqual(instances.instances.map((i) => [i.instanceId, i.status]), [[held.instanceId, 'paired']]);
  });
});
