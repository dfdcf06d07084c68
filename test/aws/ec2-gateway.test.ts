import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedPairs } from '../../fake-aws/ec2/seed.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { AwsError } from '../../src/aws/aws-errors.ts';
import { Ec2Gateway } from '../../src/aws/ec2-gateway.ts';
import { RateLimiter, ec2BucketFor } from '../../src/aws/rate-limiter.ts';
import { pairFilters } from '../../src/domain/filters.ts';
import { clientsFor } from '../../fake-aws/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The EC2 gateway through the real SDK client against the local EC2. */
describe('Ec2Gateway', () => {
  let aws: FakeAws;
  let ec2: Ec2Gateway;
  before(async () => {
    aws = await startFakeAws();
    seedPairs(aws.ec2, { azs: ['us-east-1a', 'us-east-1b'], pairs: 1100, tags: { Service: 'etcd' } });
    ec2 = new Ec2Gateway({
      client: clientsFor(aws.url, aws.region).ec2,
      limiter: new RateLimiter({ sizeOf: ec2BucketFor, scale: 1000 }),
      retry: { attempts: 5, baseMs: 1, capMs: 5 },
      batchWindowMs: 10,
    });
  });
  after(() => aws.close());

  it('reads every page of a filtered Describe (1100 volumes: 3 pages of 500; 1100 ENIs: 2 of 1000)', async () => {
    aws.faults.resetCounts();
    const filters = pairFilters('Service=etcd', 'NodeID');
    const [volumes, enis] = await Promise.all([ec2.describeVolumes(filters), ec2.describeNetworkInterfaces(filters)]);
    assert.equal(volumes.length, 1100);
    assert.equal(new Set(volumes.map((v) => v.volumeId)).size, 1100);
    assert.equal(enis.length, 1100);
    assert.equal(aws.faults.count('EC2', 'DescribeVolumes'), 3);
    assert.equal(aws.faults.count('EC2', 'DescribeNetworkInterfaces'), 2);
    assert.equal(volumes[0]!.tags.Service, 'etcd');
  });

  it('reads single items of one moment with one call, and answers undefined for unknown ids', async () => {
    const [a, b] = aws.ec2.volumes();
    aws.faults.resetCounts();
    const [va, vb, missing] = await Promise.all([ec2.volumes.read(a!.volumeId), ec2.volumes.read(b!.volumeId), ec2.volumes.read('vol-00000000000000000')]);
    assert.equal(va?.volumeId, a!.volumeId);
    assert.equal(vb?.volumeId, b!.volumeId);
    assert.equal(missing, undefined);
    assert.equal(aws.faults.count('EC2', 'DescribeVolumes'), 1);
  });

  it('reads whether a volume has Multi-Attach enabled (such a volume is never a pair)', async () => {
    const multi = aws.ec2.createVolume({ availabilityZone: 'us-east-1a', volumeType: 'io2', iops: 1000, size: 8, multiAttachEnabled: true });
    const [plain] = aws.ec2.volumes();
    assert.equal((await ec2.volumes.read(multi.volumeId))?.multiAttachEnabled, true);
    assert.equal((await ec2.volumes.read(plain!.volumeId))?.multiAttachEnabled, false);
  });

  it('retries throttling and 5xx past the SDK, and passes other errors through at once, classified', async () => {
    const instance = aws.ec2.runInstance({ availabilityZone: 'us-east-1a' });
    aws.faults.set('EC2', 'DescribeInstances', { failNext: 3, code: 'RequestLimitExceeded', status: 503 });
    assert.equal((await ec2.instances.read(instance.instanceId))?.instanceId, instance.instanceId);
    aws.faults.clear();
    const volume = aws.ec2.volumes()[0]!;
    aws.faults.resetCounts();
    await assert.rejects(ec2.attachVolume(volume.volumeId, 'i-0123456789abcdef0', '/dev/sdf'), (err: unknown) => {
      assert.ok(err instanceof AwsError);
      assert.equal(err.kind, 'not-found');
      assert.equal(err.code, 'PK_AWS_NOT_FOUND');
      assert.equal((err.cause as Error).name, 'InvalidInstanceID.NotFound');
      return true;
    });
    assert.equal(aws.faults.count('EC2', 'AttachVolume'), 1);
  });

  it('reads, with the instance, what is attached or attaching to it: the volume by its device, the ENI by its index and attachment', async () => {
    const instance = aws.ec2.runInstance({ availabilityZone: 'us-east-1b' });
    const volume = aws.ec2.volumes().find((v) => v.availabilityZone === 'us-east-1b' && !v.attachment)!;
    const eni = aws.ec2.networkInterfaces().find((e) => e.availabilityZone === 'us-east-1b' && !e.attachment)!;
    await waitFor(async () => (await ec2.instances.read(instance.instanceId))?.state === 'running', 'running');
    const before = (await ec2.instances.read(instance.instanceId))!.attachments;
    assert.ok(!before.has(volume.volumeId) && !before.has(eni.networkInterfaceId), 'neither attached yet');
    await ec2.attachVolume(volume.volumeId, instance.instanceId, '/dev/sdf');
    await ec2.attachNetworkInterface(eni.networkInterfaceId, instance.instanceId, 1);
    await waitFor(async () => [...(await ec2.instances.read(instance.instanceId))!.attachments.values()].every((a) => a.state === 'attached'), 'both attached');
    const seen = (await ec2.instances.read(instance.instanceId))!.attachments;
    assert.deepEqual(seen.get(volume.volumeId), { instanceId: instance.instanceId, state: 'attached', device: '/dev/sdf', deleteOnTermination: false });
    const attachment = seen.get(eni.networkInterfaceId)!;
    assert.equal(attachment.state, 'attached');
    assert.equal(attachment.deviceIndex, 1);
    assert.equal(attachment.attachmentId, aws.ec2.networkInterfaces().find((e) => e.networkInterfaceId === eni.networkInterfaceId)!.attachment!.attachmentId);
  });

  it('reads which instance holds each ENI (none for a free one), and an instance by its primary ENI, with one DescribeInstances', async () => {
    const [a, b] = [aws.ec2.runInstance({ availabilityZone: 'us-east-1b' }), aws.ec2.runInstance({ availabilityZone: 'us-east-1b' })];
    const [held, free] = aws.ec2.networkInterfaces().filter((e) => e.availabilityZone === 'us-east-1b' && !e.attachment);
    assert.ok(held && free);
    await waitFor(async () => (await ec2.instances.read(a.instanceId))?.state === 'running' && (await ec2.instances.read(b.instanceId))?.state === 'running', 'running');
    await ec2.attachNetworkInterface(held.networkInterfaceId, a.instanceId, 1);
    const primaryOfB = [...(await ec2.instances.read(b.instanceId))!.attachments].find(([, x]) => x.deviceIndex === 0)![0];
    aws.faults.resetCounts();
    const [holder, none, byPrimary] = await Promise.all([held, free].map((e) => ec2.instancesByEni.read(e.networkInterfaceId)).concat(ec2.instancesByEni.read(primaryOfB)));
    assert.equal(holder?.instanceId, a.instanceId);
    assert.equal(holder?.attachments.get(held.networkInterfaceId)?.deviceIndex, 1);
    assert.equal(none, undefined);
    assert.equal(byPrimary?.instanceId, b.instanceId);
    assert.equal(aws.faults.count('EC2', 'DescribeInstances'), 1);
  });

  it("answers EC2's refusals of a volume as typed outcomes: in use elsewhere, or the device taken", async () => {
    const [a, b] = [aws.ec2.runInstance({ availabilityZone: 'us-east-1a' }), aws.ec2.runInstance({ availabilityZone: 'us-east-1a' })];
    const [v1, v2] = aws.ec2.volumes().filter((v) => v.availabilityZone === 'us-east-1a');
    assert.ok(v1 && v2);
    await waitFor(async () => (await ec2.instances.read(a.instanceId))?.state === 'running' && (await ec2.instances.read(b.instanceId))?.state === 'running', 'running');
    assert.equal(await ec2.attachVolume(v1.volumeId, a.instanceId, '/dev/sdf'), 'attaching');
    assert.equal(await ec2.attachVolume(v1.volumeId, b.instanceId, '/dev/sdf'), 'volume-in-use');
    assert.equal(await ec2.attachVolume(v2.volumeId, a.instanceId, '/dev/sdf'), 'device-in-use');
  });
});
