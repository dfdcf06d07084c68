import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FakeAwsOptions } from '../fake-aws/index.ts';
import { ownerOf } from '../src/domain/replica-owner.ts';
import { assertInvariants, settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { type Intake, type World, worldsClosedAfterEach } from './helpers/world.ts';

/**
 * Two replicas told they are two (replicas.count 2, index 0 and 1) on the SSM store,
 * every message delivered to both: each instance's owner does its work, and the other
 * takes it over only when the owner has not done it within takeoverSeconds. Hook
 * seconds run 20× faster in the fake (msPerHookSecond: 50).
 */
const newWorld = worldsClosedAfterEach();

async function twoReplicas(options: { takeoverSeconds: number; pairs?: number; fake?: FakeAwsOptions; intake?: Intake }): Promise<World> {
  const w = await newWorld({
    claims: 'ssm',
    ...(options.intake ? { intake: options.intake } : {}),
    replicas: 0,
    pairs: { pairs: options.pairs ?? 12, tags: { Service: 'etcd' } },
    fake: { autoScalingTiming: { msPerHookSecond: 50 }, ...options.fake },
  });
  w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 300, notificationTargetArn: w.topicArn });
  for (const index of [0, 1]) await w.addReplica({ replicas: { count: 2, index, takeoverSeconds: options.takeoverSeconds } });
  return w;
}

function memberIds(w: World): string[] {
  return [...w.aws.autoScaling.groups()[0]!.members.keys()];
}

function inService(w: World): number {
  return [...w.aws.autoScaling.groups()[0]!.members.values()].filter((m) => m.lifecycleState === 'InService').length;
}

describe('replicas that split the work', () => {
  it('a replica that is down: the other takes its instances over after takeoverSeconds, pairs them, and lets their hooks go', async () => {
    const w = await twoReplicas({ takeoverSeconds: 0.5, pairs: 24 });
    await w.replicas[0]!.kill();
    // Instance ids are random: scale out until some belong to the replica that is down.
    let desired = 0;
    while (memberIds(w).filter((id) => ownerOf(id, 2) === 0).length < 2) {
      desired += 4;
      assert.ok(desired <= 24, 'two of 24 instances belong to replica 0');
      w.aws.autoScaling.setDesiredCapacity('etcd', desired);
      await waitFor(() => memberIds(w).length === desired, `${desired} members`);
    }
    assertInvariants(await settle(w, desired, 30_000));
    await waitFor(() => inService(w) === desired, 'every hook completed with CONTINUE', 30_000);
    const survivor = w.replicas[1]!;
    const takenOver = survivor.logs.find(/: taking over$/).map((l) => String(l.instanceId));
    assert.deepEqual(takenOver.sort(), memberIds(w).filter((id) => ownerOf(id, 2) === 0).sort());
    // The instances it took over count as its own: the dead replica's part of Parameter Store is the survivor's.
    assert.equal(survivor.app.controller.status().parameterStoreShare, (desired + 1) / (desired + 2));
  });

  it("taking over while the owner is still attaching (slow attaches): the two finish the one pair together; nothing abandoned", async () => {
    // Takeover after the shared inventory (2 s) has expired, so the taker sees the owner's volume attaching before it sees its claim.
    const w = await twoReplicas({
      takeoverSeconds: 2.5,
      fake: { ec2Timing: { attachDelayMs: 5000, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } },
    });
    w.aws.autoScaling.setDesiredCapacity('etcd', 6);
    assertInvariants(await settle(w, 6, 30_000));
    await waitFor(() => inService(w) === 6, 'every hook completed with CONTINUE', 30_000);
    const logs = w.replicas.flatMap((r) => r.logs.lines);
    const takenOver = w.replicas.flatMap((r) => r.logs.find(/: taking over$/).map((l) => String(l.instanceId)));
    assert.deepEqual(takenOver.sort(), memberIds(w).sort(), "every launch taken over by the other replica mid-attach");
    assert.deepEqual(logs.filter((l) => /abandon|holds parts of pairs/.test(String(l.msg))), []);
    assert.equal(w.aws.faults.count('EC2', 'AttachVolume'), 6, 'one AttachVolume per launch');
  });

  it('messages from a queue reach one replica each: whoever gets one does the work at once, owner or not', async () => {
    const w = await twoReplicas({ takeoverSeconds: 60, intake: 'sqs-envelope' });
    w.aws.autoScaling.setDesiredCapacity('etcd', 6);
    // Left to the owner, the instances whose message the other replica received would wait the 60 s takeover.
    assertInvariants(await settle(w, 6, 20_000));
    await waitFor(() => inService(w) === 6, 'every hook completed with CONTINUE', 20_000);
    assert.ok(w.replicas.every((r) => r.app.controller.status().leftToOtherReplicas === 0), 'nothing left to another replica');
    // A queue's message reaches one replica: the other cannot count it, so neither does (equal parts of Parameter Store).
    assert.deepEqual(
      w.replicas.map((r) => r.app.controller.status().parameterStoreShare),
      [0.5, 0.5],
    );
  });

  it("each replica takes a part of Parameter Store's rate in proportion to the instances it owns, and the parts add up to the whole", async () => {
    const w = await twoReplicas({ takeoverSeconds: 60 });
    assert.deepEqual(
      w.replicas.map((r) => r.app.controller.status().parameterStoreShare),
      [0.5, 0.5],
      'equal parts before any message',
    );
    // Seven: two replicas never own an odd count evenly, so equal parts would fail here.
    w.aws.autoScaling.setDesiredCapacity('etcd', 7);
    assertInvariants(await settle(w, 7, 30_000));
    await w.aws.sns.idle(); // every message delivered to both replicas
    const owned = (index: number) => memberIds(w).filter((id) => ownerOf(id, 2) === index).length;
    // Each instance counted once (its notification and its hook message alike), and one more for each replica.
    assert.deepEqual(
      w.replicas.map((r) => r.app.controller.status().parameterStoreShare),
      [0, 1].map((i) => (owned(i) + 1) / (7 + 2)),
    );
    const text = await w.replicas[0]!.app.adminApp.inject({ url: '/v1/status', headers: { accept: 'text/plain' } });
    assert.ok(text.body.split('\n').includes(`claims: ${Math.round(((owned(0) + 1) / 9) * 100)}% of the account's Parameter Store rate is this replica's`), text.body);
  });

  it("resync leaves an instance to its owner until the takeover is due: only the owner attaches", async () => {
    const w = await twoReplicas({
      takeoverSeconds: 30,
      fake: { ec2Timing: { attachDelayMs: 3000, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } },
    });
    w.aws.autoScaling.setDesiredCapacity('etcd', 6);
    // Every claim made, the attaches still under way: each replica's resync sees members whose pair is not whole yet.
    await waitFor(async () => (await w.app.controller.claims('etcd')).length === 6, 'six claims', 30_000);
    await Promise.all(w.replicas.map((r) => r.app.controller.resyncNow()));
    assertInvariants(await settle(w, 6, 30_000));
    await waitFor(() => inService(w) === 6, 'every hook completed with CONTINUE', 30_000);
    w.replicas.forEach((r, index) => {
      const attachedHere = r.logs.find('pair attached').map((l) => String(l.instanceId));
      assert.deepEqual(attachedHere.filter((id) => ownerOf(id, 2) !== index), [], `replica ${index} attached only its own instances' pairs`);
    });
    assert.equal(w.aws.faults.count('EC2', 'AttachNetworkInterface'), 6, 'one ENI attach per launch');
  });

  it('a release: the owner releases, and the other replica, finding the claim gone, calls nothing that changes anything', async () => {
    const w = await twoReplicas({ takeoverSeconds: 2 });
    w.aws.autoScaling.setDesiredCapacity('etcd', 6);
    assertInvariants(await settle(w, 6, 30_000));
    await waitFor(() => inService(w) === 6, 'every hook completed', 30_000);
    // Each replica's resync lists the claims, so each knows the other's: a takeover of a release has one to check.
    await Promise.all(w.replicas.map((r) => r.app.controller.resyncNow()));
    await waitFor(() => w.replicas.every((r) => r.app.controller.status().leftToOtherReplicas === 0), 'the launch takeover checks');
    await Promise.all(w.replicas.map((r) => r.app.controller.idle()));
    w.aws.faults.resetCounts();
    w.aws.autoScaling.setDesiredCapacity('etcd', 0);
    await waitFor(async () => (await w.app.controller.claims('etcd')).length === 0, 'every claim released', 30_000);
    const checked = () => w.replicas.flatMap((r) => r.logs.find(/^takeover: the claim is gone already/));
    await waitFor(() => checked().length === 6, 'the other replica to check each release', 30_000);
    await Promise.all(w.replicas.map((r) => r.app.controller.idle()));
    assert.equal(w.aws.faults.count('SSM', 'DeleteParameter'), 6, 'one delete per release');
    assert.equal(w.aws.faults.count('EC2', 'DeleteTags'), 6, 'one untag per release');
  });
});
