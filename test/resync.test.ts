import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPairs } from '../fake-aws/ec2/pair-check.ts';
import { assertInvariants, members, settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { type World, worldsClosedAfterEach } from './helpers/world.ts';

/**
 * Resync against the local AWS: what SNS lost, resync heals; what only a person
 * should touch, it reports and leaves alone. Resync runs are started by hand here
 * (the world's interval is an hour), so each test shows that resync, not a late
 * message, did the work.
 */
const start = worldsClosedAfterEach();

async function inService(w: World, count: number): Promise<void> {
  await waitFor(() => members(w).length === count, `${count} instances in service`);
  await w.aws.sns.idle();
}

describe('resync', () => {
  it('a lost launch message is healed: the instances get their pairs', async () => {
    const w = await start();
    w.aws.sns.chaos.dropRate = 1;
    w.aws.autoScaling.setDesiredCapacity('etcd', 2);
    await inService(w, 2);
    assert.equal(checkPairs(w.aws).complete.length, 0, 'nothing paired before resync');
    const run = await w.app.controller.resyncNow();
    assert.equal(run.actions.pair, 2);
    assertInvariants(await settle(w, 2));
  });

  it('a lost terminate message is healed: the claim is released and the pair is free again', async () => {
    const w = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    w.aws.sns.chaos.dropRate = 1;
    w.aws.autoScaling.terminateInstance(held.instanceId, true);
    await waitFor(() => w.aws.ec2.instance(held.instanceId)?.state === 'terminated', 'the instance to terminate');
    assert.equal((await w.app.controller.claims()).length, 1, 'the claim outlives the lost message');
    const run = await w.app.controller.resyncNow();
    assert.equal(run.actions.release, 1);
    await waitFor(async () => (await w.app.controller.claims()).length === 0, 'the claim to be released');
    const check = await settle(w, 0);
    assert.equal(check.free, w.seeded.pairs.length);
  });

  it('a leftover second claim (a replica race or a crash between create and release) is released, and its pair is free again (issue 13 #2)', async () => {
    const w = await start({ claims: 'ssm' });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    const other = w.seeded.pairs.find((p) => p.nodeId !== held.nodeId)!;
    const now = new Date().toISOString();
    const leftover = { group: 'etcd', nodeId: other.nodeId, instanceId: held.instanceId, state: 'claimed', since: now, updatedAt: now };
    w.aws.ssm.parameters.put({ name: `/pairkeeper/etcd/${other.nodeId}`, value: JSON.stringify(leftover), type: 'String' });
    const run = await w.app.controller.resyncNow();
    assert.equal(run.actions['drop-claim'], 1);
    await w.app.controller.idle();
    const claims = await w.app.controller.claims('etcd');
    assert.deepEqual(claims.map((c) => [c.nodeId, c.instanceId]), [[held.nodeId, held.instanceId]]);
    const rows = await w.app.controller.pairRows();
    assert.equal(rows.find((r) => r.nodeId === other.nodeId)?.status, 'free');
    assertInvariants(checkPairs(w.aws));
  });

  it('a whole pair with no claim (a lost claim store) is adopted, not attached again', async () => {
    const w = await start({ claims: 'ssm' });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    // The claim store loses the claim behind pairkeeper's back.
    w.aws.ssm.parameters.delete(`/pairkeeper/etcd/${held.nodeId}`);
    w.aws.faults.resetCounts();
    const run = await w.app.controller.resyncNow();
    assert.equal(run.actions.adopt, 1);
    await w.app.controller.idle();
    const claims = await w.app.controller.claims('etcd');
    assert.deepEqual(claims.map((c) => [c.nodeId, c.instanceId, c.state]), [[held.nodeId, held.instanceId, 'claimed']]);
    assert.equal(w.aws.faults.count('EC2', 'AttachVolume'), 0);
    assertInvariants(await settle(w, 1));
  });

  it('a split pair is reported and left alone: nothing is detached', async () => {
    const w = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    // Someone attached another pair's ENI by hand.
    const other = w.seeded.pairs.find((p) => p.az === held.availabilityZone && p.nodeId !== held.nodeId)!;
    w.aws.ec2.attachNetworkInterface({ networkInterfaceId: other.eniId, instanceId: held.instanceId, deviceIndex: 2 });
    await waitFor(() => checkPairs(w.aws).inTransition === 0, 'the ENI to attach');
    w.aws.faults.resetCounts();
    const run = await w.app.controller.resyncNow();
    await w.app.controller.idle();
    assert.deepEqual(
      run.reports.map((r) => [r.problem, r.nodeId, r.instanceId]),
      [['split-pair', other.nodeId, held.instanceId]],
    );
    assert.equal(w.aws.faults.count('EC2', 'DetachNetworkInterface'), 0);
    assert.equal(w.aws.ec2.networkInterface(other.eniId)?.attachment?.instanceId, held.instanceId);
    assert.equal(w.logs.find(/^resync: ENI on/).length, 1);
  });

  it('/readyz is 503 until a resync completes, says why, and turns 200 once AWS answers', async () => {
    const w = await start();
    assert.equal((await w.app.adminApp.inject({ url: '/readyz' })).statusCode, 200);
    w.aws.faults.set('AutoScaling', 'DescribeAutoScalingGroups', { errorRate: 1, code: 'ServiceUnavailable', status: 503, message: 'down' });
    const replica = await w.addReplica();
    assert.equal((await replica.app.publicApp.inject({ url: '/readyz' })).statusCode, 503);
    const body = (await replica.app.adminApp.inject({ url: '/readyz' })).json<{ status: string; reason: string }>();
    assert.equal(body.status, 'not ready');
    assert.match(body.reason, /first resync|resync failed/);
    assert.equal((await replica.app.publicApp.inject({ url: '/healthz' })).statusCode, 200, 'alive all the same');
    w.aws.faults.clear();
    await waitFor(async () => (await replica.app.publicApp.inject({ url: '/readyz' })).statusCode === 200, 'readiness once AWS answers', 15_000);
  });

  it('two replicas resyncing at once agree: one pair per instance, no pair shared', async () => {
    const w = await start({ claims: 'ssm', pairs: { pairs: 9 } });
    const second = await w.addReplica();
    w.aws.sns.chaos.dropRate = 1;
    w.aws.autoScaling.setDesiredCapacity('etcd', 6);
    await inService(w, 6);
    await Promise.all([w.app.controller.resyncNow(), second.app.controller.resyncNow()]);
    // A replica that stepped back for an instance leaves it to the other; a second round settles any such.
    await Promise.all(w.replicas.map((r) => r.app.controller.idle()));
    await Promise.all([w.app.controller.resyncNow(), second.app.controller.resyncNow()]);
    const check = await settle(w, 6);
    assertInvariants(check);
    const claims = await w.app.controller.claims('etcd');
    assert.equal(new Set(claims.map((c) => c.instanceId)).size, 6);
    assert.equal(claims.length, 6);
  });
});
