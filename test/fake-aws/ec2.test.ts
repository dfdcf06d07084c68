import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  paginateDescribeVolumes,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import { seedPairs } from '../../fake-aws/ec2/seed.ts';
import { DEFAULT_EC2_TIMING, type Ec2Timing } from '../../fake-aws/ec2/state.ts';
import { Ec2Throttling } from '../../fake-aws/ec2/throttling.ts';
import type { FakeInstance } from '../../fake-aws/ec2/types.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';

const AZ_A = 'us-east-1a';
const AZ_B = 'us-east-1b';

let fake: FakeAws;
/** No SDK retries, so every error the fake answers reaches the assertion. */
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

/**
 * Makes the given transitions never complete within this test (until the next reset), so
 * a transitional state (pending, attaching, detaching, shutting-down) can be asserted
 * without racing its timer.
 */
function hold(...delays: Exclude<keyof Ec2Timing, 'attachDurations'>[]): void {
  for (const d of delays) fake.ec2.timing[d] = 60_000;
}

/** Asserts an EC2 error as the SDK surfaces it: code (name and Code) and HTTP status. */
function assertEc2Error(err: unknown, code: string, status = 400, message?: RegExp): void {
  assert.ok(err instanceof Error, `expected an error, got ${String(err)}`);
  const e = err as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
  assert.equal(e.name, code);
  assert.equal(e.Code, code);
  assert.equal(e.$metadata?.httpStatusCode, status);
  if (message) assert.match(e.message, message);
}

async function rejectsWith(promise: Promise<unknown>, code: string, status = 400, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err) => {
    assertEc2Error(err, code, status, message);
    return true;
  });
}

/** Polls until `check` returns a value (not undefined), bounded so a broken transition fails the test. */
async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runningInstance(az = AZ_A, tags?: Record<string, string>): Promise<FakeInstance> {
  const instance = fake.ec2.runInstance({ availabilityZone: az, ...(tags && { tags }) });
  await waitFor(() => (instance.state === 'running' ? true : undefined), 'instance running');
  return instance;
}

async function volumeIds(Filters?: Filter[], VolumeIds?: string[]): Promise<string[]> {
  const out = await ec2.send(new DescribeVolumesCommand({ Filters, VolumeIds }));
  return (out.Volumes ?? []).map((v) => v.VolumeId!).sort();
}

async function eniIds(Filters?: Filter[]): Promise<string[]> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters }));
  return (out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId!).sort();
}

async function instanceIds(Filters?: Filter[]): Promise<string[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).sort();
}

const sorted = (...ids: string[]) => [...ids].sort();
const volumeState = async (id: string) => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
const eni = async (id: string) =>
  (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces?.[0];
const instanceView = async (id: string) =>
  (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
const tagsOf = (tags: Tag[] | undefined): Record<string, string | undefined> =>
  Object.fromEntries((tags ?? []).map((t): [string, string | undefined] => [t.Key!, t.Value]));

describe('fake EC2: DescribeVolumes', () => {
  it('lists volumes with their attachments and tags, and by id', async () => {
    const { pairs } = seedPairs(fake.ec2, { azs: [AZ_A, AZ_B], pairs: 2, tags: { Service: 'etcd' } });
    const out = await ec2.send(new DescribeVolumesCommand({}));
    assert.equal(out.Volumes?.length, 2);
    const v = out.Volumes.find((x) => x.VolumeId === pairs[0]!.volumeId)!;
    assert.equal(v.AvailabilityZone, AZ_A);
    assert.equal(v.State, 'available');
    assert.deepEqual(v.Attachments, []);
    assert.deepEqual(tagsOf(v.Tags), { Service: 'etcd', NodeID: 'node-1' });
    assert.ok(v.CreateTime instanceof Date);
    assert.equal(out.NextToken, undefined);
    assert.deepEqual(await volumeIds(undefined, [pairs[1]!.volumeId]), [pairs[1]!.volumeId]);
  });

  it('answers InvalidVolume.NotFound for an unknown id and InvalidVolumeID.Malformed for a bad one', async () => {
    await rejectsWith(volumeIds(undefined, ['vol-0123456789abcdef0']), 'InvalidVolume.NotFound', 400, /vol-0123456789abcdef0/);
    await rejectsWith(volumeIds(undefined, ['volume-1']), 'InvalidVolumeID.Malformed');
  });
});

describe('fake EC2: filters', () => {
  it('volumes: every supported filter, OR within a filter, AND across filters', async () => {
    const i = await runningInstance();
    const [a, b, c] = [
      fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { NodeID: 'node-1', Env: 'dev' } }),
      fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { NodeID: 'node-2', Env: 'prod' }, size: 20 }),
      fake.ec2.createVolume({ availabilityZone: AZ_B, tags: { Other: 'x' } }),
    ];
    const root = fake.ec2.volumesOf(i.instanceId)[0]!;
    await ec2.send(new AttachVolumeCommand({ VolumeId: a.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' }));

    const cases: [Filter[], string[]][] = [
      [[{ Name: 'tag:NodeID', Values: ['node-1'] }], [a.volumeId]],
      [[{ Name: 'tag:NodeID', Values: ['node-1', 'node-2'] }], [a.volumeId, b.volumeId]],
      [[{ Name: 'tag:NodeID', Values: ['node-*'] }, { Name: 'tag:Env', Values: ['prod'] }], [b.volumeId]],
      [[{ Name: 'tag:NodeID', Values: ['node-?'] }], [a.volumeId, b.volumeId]],
      [[{ Name: 'tag-key', Values: ['Other'] }], [c.volumeId]],
      [[{ Name: 'tag-value', Values: ['de*'] }], [a.volumeId]],
      [[{ Name: 'availability-zone', Values: [AZ_B] }], [c.volumeId]],
      [[{ Name: 'status', Values: ['available'] }], [b.volumeId, c.volumeId]],
      [[{ Name: 'status', Values: ['in-use'] }], [a.volumeId, root.volumeId]],
      [[{ Name: 'attachment.instance-id', Values: [i.instanceId] }], [a.volumeId, root.volumeId]],
      [[{ Name: 'attachment.status', Values: ['attaching', 'attached'] }], [a.volumeId, root.volumeId]],
      [[{ Name: 'attachment.device', Values: ['/dev/sdf'] }], [a.volumeId]],
      [[{ Name: 'attachment.delete-on-termination', Values: ['true'] }], [root.volumeId]],
      [[{ Name: 'volume-id', Values: [b.volumeId, c.volumeId] }], [b.volumeId, c.volumeId]],
      [[{ Name: 'size', Values: ['20'] }], [b.volumeId]],
      [[{ Name: 'tag:NodeID', Values: ['node-1'] }, { Name: 'availability-zone', Values: [AZ_B] }], []],
      [[{ Name: 'tag:Missing', Values: ['*'] }], []],
    ];
    for (const [filters, expected] of cases) {
      assert.deepEqual(await volumeIds(filters), sorted(...expected), JSON.stringify(filters));
    }
  });

  it('wildcards can be escaped with a backslash', async () => {
    const star = fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { Name: 'a*b' } });
    fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { Name: 'axxb' } });
    assert.deepEqual(await volumeIds([{ Name: 'tag:Name', Values: ['a\\*b'] }]), [star.volumeId]);
    assert.equal((await volumeIds([{ Name: 'tag:Name', Values: ['a*b'] }])).length, 2);
  });

  it('network interfaces: every supported filter', async () => {
    const i = await runningInstance();
    hold('attachDelayMs');
    const x = fake.ec2.createNetworkInterface({ availabilityZone: AZ_A, tags: { NodeID: 'node-1' } });
    const y = fake.ec2.createNetworkInterface({ availabilityZone: AZ_B, privateIpAddress: '10.0.99.9' });
    const primary = fake.ec2.networkInterfacesOf(i.instanceId)[0]!;
    const { AttachmentId } = await ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: x.networkInterfaceId, InstanceId: i.instanceId, DeviceIndex: 1 }),
    );

    const cases: [Filter[], string[]][] = [
      [[{ Name: 'tag:NodeID', Values: ['node-1'] }], [x.networkInterfaceId]],
      [[{ Name: 'tag-key', Values: ['NodeID'] }], [x.networkInterfaceId]],
      [[{ Name: 'availability-zone', Values: [AZ_B] }], [y.networkInterfaceId]],
      [[{ Name: 'status', Values: ['available'] }], [y.networkInterfaceId]],
      [[{ Name: 'status', Values: ['attaching'] }], [x.networkInterfaceId]],
      [[{ Name: 'status', Values: ['in-use'] }], [primary.networkInterfaceId]],
      [[{ Name: 'attachment.instance-id', Values: [i.instanceId] }], [x.networkInterfaceId, primary.networkInterfaceId]],
      [[{ Name: 'attachment.status', Values: ['attached'] }], [primary.networkInterfaceId]],
      [[{ Name: 'attachment.device-index', Values: ['1'] }], [x.networkInterfaceId]],
      [[{ Name: 'attachment.attachment-id', Values: [AttachmentId!] }], [x.networkInterfaceId]],
      [[{ Name: 'attachment.delete-on-termination', Values: ['false'] }], [x.networkInterfaceId]],
      [[{ Name: 'network-interface-id', Values: [y.networkInterfaceId] }], [y.networkInterfaceId]],
      [[{ Name: 'subnet-id', Values: [fake.ec2.subnetFor(AZ_B)] }], [y.networkInterfaceId]],
      [[{ Name: 'vpc-id', Values: [fake.ec2.vpcId] }], [x.networkInterfaceId, y.networkInterfaceId, primary.networkInterfaceId]],
      [[{ Name: 'private-ip-address', Values: ['10.0.99.*'] }], [y.networkInterfaceId]],
    ];
    for (const [filters, expected] of cases) {
      assert.deepEqual(await eniIds(filters), sorted(...expected), JSON.stringify(filters));
    }
  });

  it('instances: every supported filter', async () => {
    const a = await runningInstance(AZ_A, { Name: 'etcd-1' });
    hold('launchDelayMs');
    const b = fake.ec2.runInstance({ availabilityZone: AZ_B });
    const aEni = fake.ec2.networkInterfacesOf(a.instanceId)[0]!;
    const aRoot = fake.ec2.volumesOf(a.instanceId)[0]!;

    const cases: [Filter[], string[]][] = [
      [[{ Name: 'instance-id', Values: [b.instanceId] }], [b.instanceId]],
      [[{ Name: 'instance-state-name', Values: ['running'] }], [a.instanceId]],
      [[{ Name: 'instance-state-name', Values: ['pending', 'running'] }], [a.instanceId, b.instanceId]],
      [[{ Name: 'availability-zone', Values: [AZ_B] }], [b.instanceId]],
      [[{ Name: 'subnet-id', Values: [fake.ec2.subnetFor(AZ_A)] }], [a.instanceId]],
      [[{ Name: 'private-ip-address', Values: [aEni.privateIpAddress] }], [a.instanceId]],
      [[{ Name: 'tag:Name', Values: ['etcd-*'] }], [a.instanceId]],
      [[{ Name: 'network-interface.network-interface-id', Values: [aEni.networkInterfaceId] }], [a.instanceId]],
      [[{ Name: 'block-device-mapping.volume-id', Values: [aRoot.volumeId] }], [a.instanceId]],
    ];
    for (const [filters, expected] of cases) {
      assert.deepEqual(await instanceIds(filters), sorted(...expected), JSON.stringify(filters));
    }
  });

  it('refuses an unknown filter name with InvalidParameterValue, as EC2 does', async () => {
    await rejectsWith(volumeIds([{ Name: 'bogus', Values: ['x'] }]), 'InvalidParameterValue', 400, /The filter 'bogus' is invalid/);
    await rejectsWith(eniIds([{ Name: 'instance-state-name', Values: ['running'] }]), 'InvalidParameterValue');
    await rejectsWith(instanceIds([{ Name: 'attachment.device', Values: ['x'] }]), 'InvalidParameterValue');
  });
});

describe('fake EC2: pagination', () => {
  it('pages DescribeVolumes with MaxResults/NextToken and through the SDK paginator', async () => {
    const made = Array.from({ length: 12 }, () => fake.ec2.createVolume({ availabilityZone: AZ_A }).volumeId);
    const first = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5 }));
    assert.deepEqual(first.Volumes?.map((v) => v.VolumeId), made.slice(0, 5));
    assert.ok(first.NextToken);
    // A resource created between pages does not shift the boundary.
    const late = fake.ec2.createVolume({ availabilityZone: AZ_A }).volumeId;
    const second = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5, NextToken: first.NextToken }));
    assert.deepEqual(second.Volumes?.map((v) => v.VolumeId), made.slice(5, 10));

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 5 }, {})) {
      pages++;
      seen.push(...(page.Volumes ?? []).map((v) => v.VolumeId!));
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...made, late]);
  });

  it('pages DescribeNetworkInterfaces and DescribeInstances through the SDK paginators', async () => {
    for (let n = 0; n < 7; n++) fake.ec2.runInstance({ availabilityZone: AZ_A });
    let enis = 0;
    for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5 }, {})) {
      enis += page.NetworkInterfaces?.length ?? 0;
    }
    assert.equal(enis, 7);
    let instances = 0;
    let pages = 0;
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, {})) {
      pages++;
      instances += (page.Reservations ?? []).flatMap((r) => r.Instances ?? []).length;
    }
    assert.deepEqual([pages, instances], [2, 7]);
  });

  it('filters before paging', async () => {
    for (let n = 0; n < 8; n++) fake.ec2.createVolume({ availabilityZone: n % 2 ? AZ_A : AZ_B });
    const out = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5, Filters: [{ Name: 'availability-zone', Values: [AZ_A] }] }));
    assert.equal(out.Volumes?.length, 4);
    assert.equal(out.NextToken, undefined);
  });

  it('enforces the MaxResults ranges and the ids rule', async () => {
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_A }).volumeId;
    await rejectsWith(ec2.send(new DescribeVolumesCommand({ MaxResults: 4 })), 'InvalidParameterValue', 400, /maxResults/);
    await rejectsWith(ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 4 })), 'InvalidParameterValue');
    await rejectsWith(ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 1001 })), 'InvalidParameterValue');
    await rejectsWith(ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 })), 'InvalidParameterValue');
    await rejectsWith(
      ec2.send(new DescribeVolumesCommand({ MaxResults: 5, VolumeIds: [vol] })),
      'InvalidParameterCombination',
      400,
      /volumeSet cannot be used with the parameter maxResults/,
    );
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: ['i-0123456789abcdef0'] })),
      'InvalidParameterCombination',
    );
    await rejectsWith(ec2.send(new DescribeVolumesCommand({ NextToken: 'garbage' })), 'InvalidPaginationToken');
  });

  it('DescribeVolumes serves at most 500 a page when asked for more, as its docs say', async () => {
    for (let n = 0; n < 502; n++) fake.ec2.createVolume({ availabilityZone: AZ_A });
    const out = await ec2.send(new DescribeVolumesCommand({ MaxResults: 1000 }));
    assert.equal(out.Volumes?.length, 500);
    assert.ok(out.NextToken);
  });
});

describe('fake EC2: AttachVolume', () => {
  it('answers attaching, then the volume turns attached and shows on the instance', async () => {
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_A });
    const i = await runningInstance();
    const out = await ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' }));
    assert.equal(out.State, 'attaching');
    assert.equal(out.Device, '/dev/sdf');
    assert.equal(out.DeleteOnTermination, false);
    assert.equal((await volumeState(vol.volumeId))?.State, 'in-use');
    await waitFor(async () => ((await volumeState(vol.volumeId))?.Attachments?.[0]?.State === 'attached' ? true : undefined), 'attached');
    const mappings = (await instanceView(i.instanceId))?.BlockDeviceMappings;
    assert.deepEqual(
      mappings?.map((m) => m.DeviceName),
      ['/dev/xvda', '/dev/sdf'],
    );
    assert.equal(mappings?.[1]?.Ebs?.VolumeId, vol.volumeId);
    assert.equal(mappings?.[1]?.Ebs?.Status, 'attached');
  });

  it('refuses a volume already attached anywhere with VolumeInUse', async () => {
    const [i, j] = [await runningInstance(), await runningInstance()];
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_A });
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' }));
    const again = (instanceId: string, Device: string) =>
      ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: instanceId, Device }));
    await rejectsWith(again(j.instanceId, '/dev/sdf'), 'VolumeInUse', 400, new RegExp(`${vol.volumeId} is already attached to an instance`));
    await rejectsWith(again(i.instanceId, '/dev/sdg'), 'VolumeInUse');
  });

  it('refuses a volume in another AZ with InvalidVolume.ZoneMismatch', async () => {
    const i = await runningInstance(AZ_A);
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_B });
    await rejectsWith(
      ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' })),
      'InvalidVolume.ZoneMismatch',
      400,
      /is not in the same availability zone as instance/,
    );
  });

  it('refuses a device name in use or invalid with InvalidParameterValue', async () => {
    const i = await runningInstance();
    const [v1, v2] = [fake.ec2.createVolume({ availabilityZone: AZ_A }), fake.ec2.createVolume({ availabilityZone: AZ_A })];
    await ec2.send(new AttachVolumeCommand({ VolumeId: v1.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' }));
    const attach = (Device: string) => ec2.send(new AttachVolumeCommand({ VolumeId: v2.volumeId, InstanceId: i.instanceId, Device }));
    await rejectsWith(attach('/dev/sdf'), 'InvalidParameterValue', 400, /Attachment point \/dev\/sdf is already in use/);
    await rejectsWith(attach('/dev/xvda'), 'InvalidParameterValue', 400, /already in use/);
    await rejectsWith(attach('sdf'), 'InvalidParameterValue', 400, /not a valid EBS device name/);
  });

  it('refuses instances that are not running with IncorrectState', async () => {
    const doomed = await runningInstance();
    hold('launchDelayMs');
    const pending = fake.ec2.runInstance({ availabilityZone: AZ_A });
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_A });
    const attach = (InstanceId: string) => ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId, Device: '/dev/sdf' }));
    await rejectsWith(attach(pending.instanceId), 'IncorrectState', 400, /is not 'running'/);
    fake.ec2.terminateInstance(doomed.instanceId);
    await rejectsWith(attach(doomed.instanceId), 'IncorrectState');
    await waitFor(() => (doomed.state === 'terminated' ? true : undefined), 'terminated');
    await rejectsWith(attach(doomed.instanceId), 'IncorrectState');
  });

  it('answers NotFound for unknown volumes and instances, MissingParameter without a device', async () => {
    const i = await runningInstance();
    const vol = fake.ec2.createVolume({ availabilityZone: AZ_A });
    await rejectsWith(
      ec2.send(new AttachVolumeCommand({ VolumeId: 'vol-0123456789abcdef0', InstanceId: i.instanceId, Device: '/dev/sdf' })),
      'InvalidVolume.NotFound',
    );
    await rejectsWith(
      ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf' })),
      'InvalidInstanceID.NotFound',
      400,
      /The instance ID 'i-0123456789abcdef0' does not exist/,
    );
    await rejectsWith(
      ec2.send(new AttachVolumeCommand({ VolumeId: vol.volumeId, InstanceId: i.instanceId, Device: '' })),
      'MissingParameter',
    );
  });
});

describe('fake EC2: network interfaces', () => {
  async function attachSecondary(az = AZ_A) {
    const i = await runningInstance(az);
    const x = fake.ec2.createNetworkInterface({ availabilityZone: az });
    const { AttachmentId } = await ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: x.networkInterfaceId, InstanceId: i.instanceId, DeviceIndex: 1 }),
    );
    return { i, x, attachmentId: AttachmentId! };
  }

  it('AttachNetworkInterface answers at once with the ENI attaching, DeleteOnTermination false', async () => {
    hold('attachDelayMs');
    const { i, x, attachmentId } = await attachSecondary();
    assert.match(attachmentId, /^eni-attach-[0-9a-f]{17}$/);
    const during = await eni(x.networkInterfaceId);
    assert.equal(during?.Status, 'attaching');
    assert.equal(during?.Attachment?.Status, 'attaching');
    assert.equal(during?.Attachment?.AttachmentId, attachmentId);
    assert.equal(during?.Attachment?.InstanceId, i.instanceId);
    assert.equal(during?.Attachment?.DeleteOnTermination, false);
    assert.equal(during?.Attachment?.DeviceIndex, 1);
    const onInstance = (await instanceView(i.instanceId))?.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Attachment?.DeviceIndex]);
    assert.deepEqual(onInstance, [
      [fake.ec2.networkInterfacesOf(i.instanceId).find((e) => e !== x)?.networkInterfaceId, 0],
      [x.networkInterfaceId, 1],
    ]);
  });

  it('AttachNetworkInterface: the ENI turns in-use / attached', async () => {
    const { x } = await attachSecondary();
    await waitFor(async () => ((await eni(x.networkInterfaceId))?.Status === 'in-use' ? true : undefined), 'in-use');
    assert.equal((await eni(x.networkInterfaceId))?.Attachment?.Status, 'attached');
  });

  it('AttachNetworkInterface refuses an ENI in use, another AZ, a taken index, a pending instance', async () => {
    const { i, x } = await attachSecondary();
    const attach = (NetworkInterfaceId: string, InstanceId: string, DeviceIndex: number) =>
      ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId, InstanceId, DeviceIndex }));
    const j = await runningInstance();
    await rejectsWith(attach(x.networkInterfaceId, j.instanceId, 1), 'InvalidNetworkInterface.InUse', 400, /in use/);
    const far = fake.ec2.createNetworkInterface({ availabilityZone: AZ_B });
    await rejectsWith(attach(far.networkInterfaceId, i.instanceId, 2), 'InvalidParameterCombination', 400, /same availability zone/);
    const free = fake.ec2.createNetworkInterface({ availabilityZone: AZ_A });
    await rejectsWith(attach(free.networkInterfaceId, i.instanceId, 1), 'InvalidParameterValue', 400, /device index '1'/);
    await rejectsWith(attach(free.networkInterfaceId, i.instanceId, 0), 'InvalidParameterValue');
    hold('launchDelayMs');
    const pending = fake.ec2.runInstance({ availabilityZone: AZ_A });
    await rejectsWith(attach(free.networkInterfaceId, pending.instanceId, 1), 'IncorrectState');
    await rejectsWith(attach('eni-0123456789abcdef0', i.instanceId, 2), 'InvalidNetworkInterfaceID.NotFound');
  });

  it('AttachNetworkInterface without DeviceIndex is MissingParameter', async () => {
    const body = new URLSearchParams({ Action: 'AttachNetworkInterface', Version: '2016-11-15', NetworkInterfaceId: 'eni-1', InstanceId: 'i-1' });
    const res = await fetch(fake.url, { method: 'POST', body });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>MissingParameter<\/Code>/);
  });

  it('DetachNetworkInterface answers with the ENI detaching', async () => {
    const { x, attachmentId } = await attachSecondary();
    await waitFor(() => (x.attachment?.status === 'attached' ? true : undefined), 'attached');
    hold('attachDelayMs');
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId }));
    const during = await eni(x.networkInterfaceId);
    assert.deepEqual([during?.Status, during?.Attachment?.Status], ['detaching', 'detaching']);
  });

  it('DetachNetworkInterface: the ENI turns available, without an attachment', async () => {
    const { x, attachmentId } = await attachSecondary();
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId }));
    await waitFor(async () => ((await eni(x.networkInterfaceId))?.Status === 'available' ? true : undefined), 'available');
    assert.equal((await eni(x.networkInterfaceId))?.Attachment, undefined);
  });

  it('DetachNetworkInterface with Force detaches at once', async () => {
    const { x, attachmentId } = await attachSecondary();
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId, Force: true }));
    assert.equal((await eni(x.networkInterfaceId))?.Status, 'available');
  });

  it('DetachNetworkInterface refuses the primary ENI and unknown attachments', async () => {
    const i = await runningInstance();
    const primary = fake.ec2.networkInterfacesOf(i.instanceId)[0]!;
    await rejectsWith(
      ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: primary.attachment!.attachmentId })),
      'OperationNotPermitted',
      400,
      /device index 0 cannot be detached/,
    );
    await rejectsWith(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: 'eni-attach-0123456789abcdef0' })), 'InvalidAttachmentID.NotFound');
  });

  it('ModifyNetworkInterfaceAttribute sets the attachment DeleteOnTermination', async () => {
    const { x, attachmentId } = await attachSecondary();
    const modify = (AttachmentId: string) =>
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: x.networkInterfaceId,
          Attachment: { AttachmentId, DeleteOnTermination: true },
        }),
      );
    await modify(attachmentId);
    assert.equal((await eni(x.networkInterfaceId))?.Attachment?.DeleteOnTermination, true);
    await rejectsWith(modify('eni-attach-0123456789abcdef0'), 'InvalidAttachmentID.NotFound');
    await rejectsWith(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: x.networkInterfaceId, Description: { Value: 'x' } })),
      'InvalidParameterValue',
    );
  });

  it('DescribeNetworkInterfaces answers NotFound for an unknown id', async () => {
    await rejectsWith(
      ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0123456789abcdef0'] })),
      'InvalidNetworkInterfaceID.NotFound',
      400,
      /The networkInterface ID 'eni-0123456789abcdef0' does not exist/,
    );
  });
});

describe('fake EC2: instance lifecycle', () => {
  it('a new instance is pending, with a primary ENI and a root volume', async () => {
    hold('launchDelayMs');
    const i = fake.ec2.runInstance({ availabilityZone: AZ_B, tags: { Name: 'n1' } });
    const first = await instanceView(i.instanceId);
    assert.deepEqual(first?.State, { Code: 0, Name: 'pending' });
    assert.equal(first?.Placement?.AvailabilityZone, AZ_B);
    assert.deepEqual(tagsOf(first?.Tags), { Name: 'n1' });
    assert.equal(first?.NetworkInterfaces?.[0]?.Attachment?.DeviceIndex, 0);
    assert.equal(first?.NetworkInterfaces?.[0]?.Attachment?.DeleteOnTermination, true);
    assert.equal(first?.PrivateIpAddress, first?.NetworkInterfaces?.[0]?.PrivateIpAddress);
    assert.equal(first?.RootDeviceName, '/dev/xvda');
    assert.equal(first?.BlockDeviceMappings?.[0]?.DeviceName, '/dev/xvda');
  });

  it('pending turns running', async () => {
    const i = fake.ec2.runInstance({ availabilityZone: AZ_A });
    await waitFor(async () => ((await instanceView(i.instanceId))?.State?.Name === 'running' ? true : undefined), 'running');
    assert.equal((await instanceView(i.instanceId))?.State?.Code, 16);
  });

  it('a terminating instance is shutting-down', async () => {
    const i = await runningInstance();
    hold('terminateDelayMs');
    fake.ec2.terminateInstance(i.instanceId);
    assert.deepEqual((await instanceView(i.instanceId))?.State, { Code: 32, Name: 'shutting-down' });
  });

  it('termination: shutting-down → terminated, then attachments released (DeleteOnTermination ones deleted)', async () => {
    const i = await runningInstance();
    const root = fake.ec2.volumesOf(i.instanceId)[0]!;
    const primary = fake.ec2.networkInterfacesOf(i.instanceId)[0]!;
    const data = fake.ec2.createVolume({ availabilityZone: AZ_A });
    const keep = fake.ec2.createNetworkInterface({ availabilityZone: AZ_A });
    const drop = fake.ec2.createNetworkInterface({ availabilityZone: AZ_A });
    await ec2.send(new AttachVolumeCommand({ VolumeId: data.volumeId, InstanceId: i.instanceId, Device: '/dev/sdf' }));
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: keep.networkInterfaceId, InstanceId: i.instanceId, DeviceIndex: 1 }));
    const { AttachmentId } = await ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: drop.networkInterfaceId, InstanceId: i.instanceId, DeviceIndex: 2 }),
    );
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: drop.networkInterfaceId,
        Attachment: { AttachmentId, DeleteOnTermination: true },
      }),
    );

    fake.ec2.terminateInstance(i.instanceId);
    await waitFor(async () => ((await instanceView(i.instanceId))?.State?.Name === 'terminated' ? true : undefined), 'terminated');
    await waitFor(async () => ((await volumeState(data.volumeId))?.State === 'available' ? true : undefined), 'volume released');
    await waitFor(async () => ((await eni(keep.networkInterfaceId))?.Status === 'available' ? true : undefined), 'ENI released');
    assert.deepEqual(await volumeIds(), [data.volumeId], 'the root volume is deleted');
    assert.deepEqual(await eniIds(), [keep.networkInterfaceId], 'primary and DeleteOnTermination ENIs are deleted');
    assert.ok(!fake.ec2.volume(root.volumeId) && !fake.ec2.networkInterface(primary.networkInterfaceId) && !fake.ec2.networkInterface(drop.networkInterfaceId));
    const gone = await instanceView(i.instanceId);
    assert.deepEqual([gone?.State?.Code, gone?.NetworkInterfaces, gone?.BlockDeviceMappings], [48, [], []]);
  });

  it('DescribeInstances answers InvalidInstanceID.NotFound naming every unknown id', async () => {
    const i = fake.ec2.runInstance({ availabilityZone: AZ_A });
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.instanceId, 'i-0123456789abcdef0', 'i-0123456789abcdef1'] })),
      'InvalidInstanceID.NotFound',
      400,
      /'i-0123456789abcdef0, i-0123456789abcdef1' do not exist/,
    );
    await rejectsWith(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] })), 'InvalidInstanceID.Malformed');
  });
});

describe('fake EC2: tags', () => {
  it('CreateTags tags volumes, ENIs and instances in one call and overwrites values', async () => {
    const i = fake.ec2.runInstance({ availabilityZone: AZ_A });
    const v = fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { Owner: 'old' } });
    const e = fake.ec2.createNetworkInterface({ availabilityZone: AZ_A });
    await ec2.send(
      new CreateTagsCommand({
        Resources: [i.instanceId, v.volumeId, e.networkInterfaceId],
        Tags: [{ Key: 'Owner', Value: 'pairkeeper' }, { Key: 'Empty', Value: '' }],
      }),
    );
    assert.deepEqual(tagsOf((await volumeState(v.volumeId))?.Tags), { Owner: 'pairkeeper', Empty: '' });
    assert.deepEqual(tagsOf((await eni(e.networkInterfaceId))?.TagSet), { Owner: 'pairkeeper', Empty: '' });
    assert.deepEqual(tagsOf((await instanceView(i.instanceId))?.Tags), { Owner: 'pairkeeper', Empty: '' });
  });

  it('CreateTags with an unknown resource changes nothing; reserved and empty keys are refused', async () => {
    const v = fake.ec2.createVolume({ availabilityZone: AZ_A });
    const create = (Resources: string[], Key: string) => ec2.send(new CreateTagsCommand({ Resources, Tags: [{ Key, Value: 'x' }] }));
    await rejectsWith(create([v.volumeId, 'vol-0123456789abcdef0'], 'A'), 'InvalidVolume.NotFound');
    await rejectsWith(create([v.volumeId, 'eni-0123456789abcdef0'], 'A'), 'InvalidNetworkInterfaceID.NotFound');
    await rejectsWith(create([v.volumeId, 'i-0123456789abcdef0'], 'A'), 'InvalidInstanceID.NotFound');
    await rejectsWith(create([v.volumeId, 'sg-0123'], 'A'), 'InvalidID');
    assert.equal(v.tags.size, 0);
    await rejectsWith(create([v.volumeId], 'aws:cloudformation:stack-name'), 'InvalidParameterValue');
    await rejectsWith(create([v.volumeId], ''), 'InvalidParameterValue');
  });

  it('DeleteTags: no value deletes whatever the value; a value (even empty) only when it matches; no tags deletes all', async () => {
    const v = fake.ec2.createVolume({ availabilityZone: AZ_A, tags: { A: '1', B: '2', C: '', D: 'x', E: 'e' } });
    await ec2.send(
      new DeleteTagsCommand({
        Resources: [v.volumeId],
        Tags: [{ Key: 'A' }, { Key: 'B', Value: 'not-2' }, { Key: 'C', Value: '' }, { Key: 'D', Value: '' }],
      }),
    );
    assert.deepEqual(Object.fromEntries(v.tags), { B: '2', D: 'x', E: 'e' });
    await ec2.send(new DeleteTagsCommand({ Resources: [v.volumeId] }));
    assert.equal(v.tags.size, 0);
  });
});

describe('fake EC2: protocol', () => {
  it('answers InvalidAction for an action it does not serve', async () => {
    const res = await fetch(fake.url, { method: 'POST', body: new URLSearchParams({ Action: 'RunInstances', Version: '2016-11-15' }) });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>InvalidAction<\/Code>/);
  });

  it('answers DryRunOperation (412) when DryRun is set', async () => {
    await rejectsWith(ec2.send(new DescribeVolumesCommand({ DryRun: true })), 'DryRunOperation', 412);
  });

  it('is reachable through the fault injector as service EC2', async () => {
    fake.faults.set('EC2', 'AttachVolume', { failNext: 1, code: 'InternalError', status: 500 });
    await rejectsWith(ec2.send(new AttachVolumeCommand({ VolumeId: 'vol-0123456789abcdef0', InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf' })), 'InternalError', 500);
    assert.equal(fake.faults.count('EC2', 'AttachVolume'), 1);
  });
});

describe('fake EC2: throttling', () => {
  const filtered = () => ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:NodeID', Values: ['*'] }] }));

  it('is off by default but still counts calls per bucket', async () => {
    for (let n = 0; n < 120; n++) await filtered();
    assert.equal(fake.ec2.throttling.enabled, false);
    assert.deepEqual(fake.ec2.throttling.stats()['DescribeVolumes'], {
      category: 'describe',
      capacity: 100,
      refillPerSecond: 20,
      calls: 120,
      throttled: 0,
    });
    assert.equal(fake.ec2.throttling.minimumSeconds(), 1);
  });

  it('an empty bucket answers RequestLimitExceeded (503); other buckets are unaffected; it refills', async () => {
    fake.ec2.throttling.enable();
    let failure: unknown;
    let calls = 0;
    while (failure === undefined && calls < 400) {
      calls++;
      failure = await filtered().then(
        () => undefined,
        (err: unknown) => err,
      );
    }
    assertEc2Error(failure, 'RequestLimitExceeded', 503, /Request limit exceeded/);
    assert.ok(calls > 100, `throttled after ${calls} calls`);
    assert.equal(fake.ec2.throttling.stats()['DescribeVolumes']?.throttled, 1);
    // The unfiltered listing draws from its own (smaller) bucket.
    await ec2.send(new DescribeVolumesCommand({}));
    assert.equal(fake.ec2.throttling.stats()['DescribeVolumes (unfiltered)']?.calls, 1);
    // At 20 tokens/s the next token comes within ~50 ms.
    await waitFor(() => filtered().then(() => true, () => undefined), 'refill');
  });

  it('buckets by category and scales the refill rate (unit, with a manual clock)', () => {
    let now = 0;
    const t = new Ec2Throttling({ now: () => now });
    const attach = new URLSearchParams({ VolumeId: 'vol-1' });
    t.enable({ scale: 10, scope: 'category' });
    for (let n = 0; n < 50; n++) t.take('AttachVolume', attach);
    assert.throws(() => t.take('AttachNetworkInterface', attach), { code: 'RequestLimitExceeded', status: 503 });
    now += 10; // 5/s × 10 = one token per 20 ms
    assert.throws(() => t.take('DetachNetworkInterface', attach), { code: 'RequestLimitExceeded' });
    now += 10;
    t.take('ModifyNetworkInterfaceAttribute', attach);
    t.take('CreateTags', attach);
    t.take('DeleteTags', attach);
    const stats = t.stats();
    assert.deepEqual(Object.keys(stats).sort(), ['mutating', 'tags']);
    assert.deepEqual([stats['mutating']?.calls, stats['mutating']?.throttled, stats['tags']?.calls], [51, 2, 2]);
    assert.equal(t.minimumSeconds(), 1 / 5);
  });

  it('which bucket a call uses', () => {
    const t = new Ec2Throttling();
    const p = (init: Record<string, string>) => new URLSearchParams(init);
    assert.deepEqual(t.bucketFor('DescribeInstances', p({})), { key: 'DescribeInstances (unfiltered)', category: 'describe-unfiltered' });
    assert.deepEqual(t.bucketFor('DescribeInstances', p({ MaxResults: '5' })), { key: 'DescribeInstances', category: 'describe' });
    assert.deepEqual(t.bucketFor('DescribeInstances', p({ 'InstanceId.1': 'i-1' })), { key: 'DescribeInstances', category: 'describe' });
    assert.deepEqual(t.bucketFor('DescribeVolumes', p({ 'Filter.1.Name': 'x' })), { key: 'DescribeVolumes', category: 'describe' });
    assert.deepEqual(t.bucketFor('CreateTags', p({})), { key: 'CreateTags', category: 'tags' });
    assert.equal(t.bucketFor('RunInstances', p({})), undefined);
  });
});

describe('fake EC2: seedPairs', () => {
  it('creates NodeID pairs round-robin over AZs, plus the broken kinds', async () => {
    const seeded = seedPairs(fake.ec2, {
      azs: [AZ_A, AZ_B, 'us-east-1c'],
      pairs: 6,
      tags: { Service: 'etcd', Env: 'dev' },
      broken: [{ kind: 'volume-only' }, { kind: 'eni-only' }, { kind: 'split-az' }, { kind: 'duplicate-volume' }],
    });
    assert.deepEqual(
      seeded.pairs.map((p) => [p.nodeId, p.az]),
      [
        ['node-1', AZ_A],
        ['node-2', AZ_B],
        ['node-3', 'us-east-1c'],
        ['node-4', AZ_A],
        ['node-5', AZ_B],
        ['node-6', 'us-east-1c'],
      ],
    );
    const p1 = seeded.pairs[0]!;
    const e1 = await eni(p1.eniId);
    assert.deepEqual([e1?.PrivateIpAddress, e1?.SubnetId, e1?.AvailabilityZone], [p1.privateIp, p1.subnetId, AZ_A]);
    assert.match(p1.privateIp, /^10\.0\.\d+\.\d+$/);
    assert.deepEqual(tagsOf(e1?.TagSet), { Service: 'etcd', Env: 'dev', NodeID: 'node-1' });
    assert.deepEqual(await volumeIds([{ Name: 'tag:NodeID', Values: ['node-4'] }]), [seeded.pairs[3]!.volumeId]);

    const [volumeOnly, eniOnly, split, dup] = seeded.broken;
    assert.deepEqual([volumeOnly?.nodeId, volumeOnly?.volumeIds.length, volumeOnly?.eniIds.length], ['node-7', 1, 0]);
    assert.deepEqual([eniOnly?.nodeId, eniOnly?.volumeIds.length, eniOnly?.eniIds.length], ['node-8', 0, 1]);
    assert.deepEqual(split?.azs, ['us-east-1c', AZ_A]);
    assert.equal((await eni(split.eniIds[0]!))?.AvailabilityZone, AZ_A);
    assert.equal((await volumeIds([{ Name: 'tag:NodeID', Values: [dup!.nodeId] }])).length, 2);
    assert.equal((await volumeIds([{ Name: 'tag:Service', Values: ['etcd'] }])).length, 6 + 1 + 1 + 2);
  });
});
