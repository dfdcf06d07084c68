/**
 * The fake EC2's creating side, as `pairkeeper pairs create` uses it through the real
 * EC2Client: DescribeSubnets, CreateVolume and CreateNetworkInterface tagged in the
 * create call, and attaches that take as long as AWS's (seeded jitter, scaled).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AttachVolumeCommand,
  CreateNetworkInterfaceCommand,
  CreateVolumeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type CreateNetworkInterfaceCommandInput,
  type CreateVolumeCommandInput,
} from '@aws-sdk/client-ec2';
import { DEFAULT_EC2_TIMING, Ec2State, REALISTIC_ATTACH_DURATIONS } from '../../fake-aws/ec2/state.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { waitFor, waitForValue } from '../helpers/wait-for.ts';

const AZ_A = 'us-east-1a';
const AZ_B = 'us-east-1b';

let fake: FakeAws;
let ec2: EC2Client;

before(async () => {
  fake = await startFakeAws();
  ec2 = new EC2Client(fakeAwsClientConfig(fake));
});
after(async () => {
  ec2.destroy();
  await fake.close();
});
beforeEach(() => {
  fake.ec2.reset();
  Object.assign(fake.ec2.timing, DEFAULT_EC2_TIMING);
  fake.faults.clear();
  fake.faults.resetCounts();
});

const tagged = (ResourceType: 'volume' | 'network-interface', tags: Record<string, string>) => [
  { ResourceType, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
];

describe('fake EC2: DescribeSubnets', () => {
  it('lists the subnets per AZ, by id, by AZ filter, with their CIDR and free addresses', async () => {
    const a = fake.ec2.subnetFor(AZ_A);
    const b = fake.ec2.subnetFor(AZ_B);
    const a2 = fake.ec2.createSubnet({ availabilityZone: AZ_A, tags: { Name: 'second' } }).subnetId;
    const all = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
    assert.deepEqual(
      all.map((s) => [s.SubnetId, s.AvailabilityZone, s.CidrBlock, s.VpcId, s.State]),
      [
        [a, AZ_A, '10.0.0.0/20', fake.ec2.vpcId, 'available'],
        [b, AZ_B, '10.0.16.0/20', fake.ec2.vpcId, 'available'],
        [a2, AZ_A, '10.0.32.0/20', fake.ec2.vpcId, 'available'],
      ],
    );
    assert.equal(all[2]?.Tags?.[0]?.Value, 'second');
    assert.equal(all[0]?.SubnetArn, `arn:aws:ec2:${fake.region}:${fake.accountId}:subnet/${a}`);
    const inA = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: [AZ_A] }] }));
    assert.deepEqual(inA.Subnets?.map((s) => s.SubnetId), [a, a2]);
    const byId = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [b] }));
    assert.equal(byId.Subnets?.[0]?.AvailableIpAddressCount, 4091);
  });

  it('an unknown subnet is InvalidSubnetID.NotFound; a malformed one InvalidSubnetID.Malformed', async () => {
    const missing = await failure(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0123456789abcdef0'] })));
    assert.deepEqual([missing.name, missing.status], ['InvalidSubnetID.NotFound', 400]);
    assert.equal((await failure(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['sub-1'] })))).name, 'InvalidSubnetID.Malformed');
  });
});

describe('fake EC2: CreateVolume', () => {
  it('creates the volume with its tags in the one call: creating, then available', async () => {
    fake.ec2.timing.createDelayMs = 60_000;
    const created = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: AZ_A,
        Size: 20,
        VolumeType: 'gp3',
        Iops: 4000,
        Throughput: 250,
        Encrypted: true,
        KmsKeyId: 'alias/etcd',
        TagSpecifications: tagged('volume', { NodeID: 'etcd-1', Service: 'etcd' }),
      }),
    );
    assert.equal(created.State, 'creating');
    assert.deepEqual(
      [created.Size, created.VolumeType, created.Iops, created.Throughput, created.Encrypted, created.KmsKeyId, created.MultiAttachEnabled],
      [20, 'gp3', 4000, 250, true, 'alias/etcd', false],
    );
    assert.deepEqual(created.Tags?.map((t) => [t.Key, t.Value]), [['NodeID', 'etcd-1'], ['Service', 'etcd']]);
    const found = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:NodeID', Values: ['etcd-1'] }] }));
    assert.deepEqual(found.Volumes?.map((v) => [v.VolumeId, v.State]), [[created.VolumeId, 'creating']]);

    const instance = fake.ec2.runInstance({ availabilityZone: AZ_A });
    await waitFor(() => instance.state === 'running', 'instance running');
    const early = await failure(ec2.send(new AttachVolumeCommand({ VolumeId: created.VolumeId, InstanceId: instance.instanceId, Device: '/dev/sdf' })));
    assert.equal(early.name, 'IncorrectState');

    fake.ec2.volume(created.VolumeId!)!.creating = false;
    const volume = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [created.VolumeId!] }));
    assert.equal(volume.Volumes?.[0]?.State, 'available');
    await ec2.send(new AttachVolumeCommand({ VolumeId: created.VolumeId, InstanceId: instance.instanceId, Device: '/dev/sdf' }));
  });

  it('defaults as AWS does: gp2, 3 IOPS per GiB, unencrypted; becomes available after createDelayMs', async () => {
    const created = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ_B, Size: 50 }));
    assert.deepEqual([created.VolumeType, created.Iops, created.Throughput, created.Encrypted], ['gp2', 150, undefined, false]);
    assert.equal(created.Tags, undefined);
    await waitForValue(async () => {
      const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [created.VolumeId!] }))).Volumes?.[0];
      return v?.State === 'available' ? v : undefined;
    }, 'the volume to become available');
  });

  it('refuses what EC2 refuses, before creating anything', async () => {
    const cases: [CreateVolumeCommandInput, string][] = [
      [{ AvailabilityZone: AZ_A, Size: 10, TagSpecifications: tagged('network-interface', { NodeID: 'x' }) }, 'InvalidParameterValue'],
      [{ AvailabilityZone: AZ_A, Size: 10, TagSpecifications: [{ Tags: [{ Key: 'NodeID', Value: 'x' }] }] }, 'InvalidTagSpecification.Malformed'],
      [{ AvailabilityZone: AZ_A, Size: 10, TagSpecifications: tagged('volume', { 'aws:x': 'y' }) }, 'InvalidParameterValue'],
      [{ AvailabilityZone: AZ_A }, 'MissingParameter'],
      [{ AvailabilityZone: 'eu-west-1a', Size: 10 }, 'InvalidParameterValue'],
      [{ AvailabilityZone: AZ_A, Size: 10, KmsKeyId: 'alias/k' }, 'InvalidParameterDependency'],
      [{ AvailabilityZone: AZ_A, Size: 10, VolumeType: 'io2' }, 'MissingParameter'],
      [{ AvailabilityZone: AZ_A, Size: 10, VolumeType: 'gp2', Iops: 3000 }, 'InvalidParameterCombination'],
      [{ AvailabilityZone: AZ_A, Size: 10, VolumeType: 'gp3', MultiAttachEnabled: true }, 'InvalidParameterCombination'],
      [{ AvailabilityZone: AZ_A, Size: 20_000, VolumeType: 'gp3' }, 'InvalidParameterValue'],
    ];
    for (const [input, code] of cases) {
      const err = await failure(ec2.send(new CreateVolumeCommand(input)));
      assert.deepEqual([err.name, err.status], [code, 400], JSON.stringify(input));
    }
    assert.equal(fake.ec2.volumes().length, 0);
  });

  it('Multi-Attach io2 volumes are created as such (pairkeeper must never use them as pairs)', async () => {
    const created = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ_A, Size: 10, VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true }));
    const found = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'multi-attach-enabled', Values: ['true'] }] }));
    assert.deepEqual(found.Volumes?.map((v) => [v.VolumeId, v.MultiAttachEnabled]), [[created.VolumeId, true]]);
  });
});

describe('fake EC2: CreateNetworkInterface', () => {
  it('creates the ENI in the subnet (its AZ follows) with its tags and the default security group', async () => {
    const subnetId = fake.ec2.subnetFor(AZ_B);
    const { NetworkInterface: created } = await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'etcd-1', TagSpecifications: tagged('network-interface', { NodeID: 'etcd-1' }) }),
    );
    assert.deepEqual([created?.SubnetId, created?.AvailabilityZone, created?.Status, created?.Description], [subnetId, AZ_B, 'available', 'etcd-1']);
    assert.deepEqual(created?.TagSet?.map((t) => [t.Key, t.Value]), [['NodeID', 'etcd-1']]);
    assert.deepEqual(created?.Groups?.map((g) => [g.GroupId, g.GroupName]), [[fake.ec2.defaultSecurityGroup.groupId, 'default']]);
    assert.match(created?.PrivateIpAddress ?? '', /^10\.0\.0\.\d+$/);
    const found = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:NodeID', Values: ['etcd-1'] }] }));
    assert.deepEqual(found.NetworkInterfaces?.map((e) => e.NetworkInterfaceId), [created?.NetworkInterfaceId]);
  });

  it('takes the security groups it is given; refuses unknown groups, subnets and other resource types', async () => {
    const subnetId = fake.ec2.subnetFor(AZ_A);
    const sg = fake.ec2.createSecurityGroup('etcd-peers');
    const { NetworkInterface: created } = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [sg.groupId] }));
    assert.deepEqual(created?.Groups?.map((g) => g.GroupName), ['etcd-peers']);
    const byGroup = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [sg.groupId] }] }));
    assert.equal(byGroup.NetworkInterfaces?.length, 1);

    const cases: [CreateNetworkInterfaceCommandInput, string][] = [
      [{ SubnetId: subnetId, Groups: ['sg-0123456789abcdef0'] }, 'InvalidGroup.NotFound'],
      [{ SubnetId: subnetId, Groups: ['default'] }, 'InvalidGroupId.Malformed'],
      [{ SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound'],
      [{ SubnetId: subnetId, TagSpecifications: tagged('volume', { NodeID: 'x' }) }, 'InvalidParameterValue'],
    ];
    for (const [input, code] of cases) assert.equal((await failure(ec2.send(new CreateNetworkInterfaceCommand(input)))).name, code, JSON.stringify(input));
    assert.equal(fake.ec2.networkInterfaces().length, 1);
  });
});

describe('fake EC2: creates are counted and throttled as mutating calls', () => {
  it('counts per action and in the mutating bucket', async () => {
    const subnetId = fake.ec2.subnetFor(AZ_A);
    await ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ_A, Size: 10 }));
    await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: [AZ_A] }] }));
    assert.deepEqual(fake.faults.mutatingCalls(), { 'EC2:CreateNetworkInterface': 1, 'EC2:CreateVolume': 1 });
    const stats = fake.ec2.throttling.stats();
    assert.deepEqual([stats['CreateVolume']?.category, stats['CreateNetworkInterface']?.category, stats['DescribeSubnets']?.category], ['mutating', 'mutating', 'describe']);
  });
});

describe('fake EC2: attach durations', () => {
  it('draws each attach from its AWS-like range, times the scale, repeatably for a seed', () => {
    const timing = { attachDurations: { ...REALISTIC_ATTACH_DURATIONS, scale: 0.01 } };
    const draw = (seed: number) => {
      const state = new Ec2State({ timing, seed });
      return [0, 1, 2, 3, 4, 5].map((n) => state.attachDuration(n % 2 ? 'network-interface' : 'volume'));
    };
    const first = draw(7);
    assert.deepEqual(draw(7), first);
    assert.notDeepEqual(draw(8), first);
    first.forEach((ms, n) => {
      const [min, max] = n % 2 ? [10, 20] : [20, 50];
      assert.ok(ms >= min && ms <= max, `attach ${n} took ${ms} ms`);
    });
    assert.equal(new Ec2State({ timing: { attachDelayMs: 33 } }).attachDuration('volume'), 33);
  });

  it('an attach stays attaching for its drawn duration, then is attached (through the SDK)', async () => {
    fake.ec2.timing.attachDurations = { volumeMs: [60_000, 60_000], networkInterfaceMs: [1, 1], scale: 1 };
    const instance = fake.ec2.runInstance({ availabilityZone: AZ_A });
    await waitFor(() => instance.state === 'running', 'instance running');
    const volume = fake.ec2.createVolume({ availabilityZone: AZ_A });
    const answer = await ec2.send(new AttachVolumeCommand({ VolumeId: volume.volumeId, InstanceId: instance.instanceId, Device: '/dev/sdf' }));
    assert.equal(answer.State, 'attaching');
    const described = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume.volumeId] }));
    assert.equal(described.Volumes?.[0]?.Attachments?.[0]?.State, 'attaching');
    fake.ec2.timing.attachDurations = { volumeMs: [1, 1], networkInterfaceMs: [1, 1], scale: 1 };
    const other = fake.ec2.createVolume({ availabilityZone: AZ_A });
    await ec2.send(new AttachVolumeCommand({ VolumeId: other.volumeId, InstanceId: instance.instanceId, Device: '/dev/sdg' }));
    await waitFor(() => other.attachment?.state === 'attached', 'the short attach to complete');
    assert.equal(volume.attachment?.state, 'attaching');
  });
});

describe('fake EC2: control API for subnets, security groups and attach durations', () => {
  const post = (path: string, body: unknown) => fetch(`${fake.url}/_fake/${path}`, { method: 'POST', body: JSON.stringify(body) });

  it('seeds a subnet and a security group that the API then sees', async () => {
    const subnet = (await (await post('subnets', { availabilityZone: AZ_B, tags: { Name: 'pairs-b' } })).json()) as { subnetId: string };
    const group = (await (await post('security-groups', { name: 'etcd' })).json()) as { groupId: string };
    const described = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.subnetId] }));
    assert.deepEqual([described.Subnets?.[0]?.AvailabilityZone, described.Subnets?.[0]?.Tags?.[0]?.Value], [AZ_B, 'pairs-b']);
    const { NetworkInterface } = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.subnetId, Groups: [group.groupId] }));
    assert.deepEqual(NetworkInterface?.Groups?.map((g) => g.GroupName), ['etcd']);
    assert.equal((await post('subnets', {})).status, 400);
  });

  it('turns AWS-like attach durations on (AWS ranges unless given) and off', async () => {
    assert.equal((await post('ec2/attach-durations', { scale: 0.01 })).status, 200);
    assert.deepEqual(fake.ec2.timing.attachDurations, { ...REALISTIC_ATTACH_DURATIONS, scale: 0.01 });
    assert.equal((await fetch(`${fake.url}/_fake/ec2/attach-durations`, { method: 'DELETE' })).status, 200);
    assert.equal(fake.ec2.timing.attachDurations, undefined);
  });
});
