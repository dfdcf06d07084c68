import assert from 'node:assert/strict';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fakeAwsClientConfig } from '../fake-aws/clients.ts';
import { startWorld, type World } from './helpers/world.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * The local AWS as a world for pairkeeper: scale a group, inject faults, read EC2
 * state and call counts back — all through real SDK clients and real HTTP, with
 * pairkeeper receiving signed Auto Scaling notifications over its subscription.
 */
describe('a world: local AWS + subscribed pairkeeper', () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(() => world.close());

  const kinds = () => world.eventKinds();
  const launched = () => world.app.recentEvents.list().filter((e) => e.kind === 'launch');

  it('scaling out delivers a launch event per instance', async () => {
    world.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await waitFor(() => kinds().filter((k) => k === 'launch').length === 3, 'three launch events');
    const instances = world.aws.ec2.instances();
    for (const event of launched()) {
      assert.ok(instances.some((i) => i.instanceId === event.instanceId), `${event.instanceId} exists in EC2`);
      assert.equal(event.group, 'etcd');
      assert.equal(event.outcome, 'accepted');
    }
  });

  it('terminating an instance delivers its terminate event', async () => {
    world.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => kinds().includes('launch'), 'the launch');
    const instanceId = launched()[0]!.instanceId!;
    world.aws.autoScaling.terminateInstance(instanceId, true);
    await waitFor(() => kinds().includes('terminate'), 'the terminate');
    const terminate = world.app.recentEvents.list().find((e) => e.kind === 'terminate');
    assert.equal(terminate?.instanceId, instanceId);
  });

  it('duplicated deliveries reach pairkeeper twice and are handled once', async () => {
    world.aws.sns.chaos = { duplicateRate: 1, dropRate: 0, delayMs: [0, 0] };
    world.aws.autoScaling.setDesiredCapacity('etcd', 2);
    await waitFor(() => world.aws.sns.deliveries.filter((d) => d.type === 'Notification' && d.status === 200).length === 4, 'four deliveries');
    assert.deepEqual(kinds(), ['launch', 'launch']);
  });

  it('faults injected in the fake reach the real SDK client, and calls are counted', async () => {
    const ec2 = new EC2Client(fakeAwsClientConfig(world.aws));
    world.aws.faults.resetCounts();
    world.aws.faults.set('EC2', 'DescribeVolumes', { failNext: 1, code: 'RequestLimitExceeded', status: 503 });
    await assert.rejects(ec2.send(new DescribeVolumesCommand({})), (err: Error & { $metadata: { httpStatusCode: number } }) => err.name === 'RequestLimitExceeded' && err.$metadata.httpStatusCode === 503);
    const { Volumes } = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag-key', Values: ['NodeID'] }] }));
    assert.equal(Volumes?.length, world.seeded.pairs.length);
    assert.equal(world.aws.faults.count('EC2', 'DescribeVolumes'), 2);
    ec2.destroy();
  });
});
