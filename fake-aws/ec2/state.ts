import { FakeAwsError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { Timers } from '../timers.ts';
import { ec2Errors } from './errors.ts';
import { ec2Id, macAddress } from './ids.ts';
import { Ec2Throttling } from './throttling.ts';
import type {
  FakeInstance,
  FakeNetworkInterface,
  FakeSecurityGroup,
  FakeSubnet,
  FakeVolume,
  InstanceStateName,
  NetworkInterfaceAttachment,
  VolumeAttachment,
  VolumeType,
} from './types.ts';

/**
 * How long EC2's asynchronous transitions take. Real EC2 takes seconds to minutes;
 * the defaults are short so tests see every state without waiting.
 */
export interface Ec2Timing {
  /** attaching → attached and detaching → detached, unless `attachDurations` says otherwise for attaches. */
  attachDelayMs: number;
  /**
   * Attaches that take as long as on AWS: each attach draws its duration from its range
   * (seeded jitter), times `scale` so tests keep the shape at a faster pace. Off by default.
   */
  attachDurations?: AttachDurations | undefined;
  /** CreateVolume's `creating` → `available`. */
  createDelayMs: number;
  /** pending → running. */
  launchDelayMs: number;
  /** shutting-down → terminated. */
  terminateDelayMs: number;
  /** terminated → its volumes and ENIs released (detached, or deleted when DeleteOnTermination). */
  releaseDelayMs: number;
}

export interface AttachDurations {
  /** [min, max] ms from AttachVolume to `attached`. */
  volumeMs: [number, number];
  /** [min, max] ms from AttachNetworkInterface to `attached`. */
  networkInterfaceMs: [number, number];
  /** Multiplies every duration drawn: 1 is AWS's pace, 0.01 a hundred times faster. */
  scale: number;
}

/** What attaches take on AWS: an EBS volume about 2–5 s, an ENI about 1–2 s. */
export const REALISTIC_ATTACH_DURATIONS: Readonly<AttachDurations> = { volumeMs: [2000, 5000], networkInterfaceMs: [1000, 2000], scale: 1 };

export const DEFAULT_EC2_TIMING: Readonly<Ec2Timing> = {
  attachDelayMs: 20,
  attachDurations: undefined,
  createDelayMs: 20,
  launchDelayMs: 20,
  terminateDelayMs: 20,
  releaseDelayMs: 20,
};

export interface Ec2StateOptions {
  accountId?: string;
  region?: string;
  timing?: Partial<Ec2Timing>;
  /** Seeds the attach jitter. */
  seed?: number;
}

type Tags = Record<string, string>;

const ROOT_DEVICE = '/dev/xvda';
/** sd[f-p] is what AWS recommends; xvd* and sd* in general are accepted, as on Xen and Nitro. */
const EBS_DEVICE = /^\/dev\/(sd[a-z]|xvd[a-z]{1,2})\d{0,2}$/;

/** What CreateVolume sets besides its AZ; the defaults are AWS's (gp2, 3 IOPS per GiB with a floor of 100, unencrypted). */
export interface CreateVolumeInput {
  availabilityZone: string;
  size?: number;
  volumeType?: VolumeType;
  iops?: number | undefined;
  throughput?: number | undefined;
  encrypted?: boolean;
  kmsKeyId?: string | undefined;
  multiAttachEnabled?: boolean;
  tags?: Tags;
  /** Created from this snapshot (what pairkeeper must never format). */
  snapshotId?: string | undefined;
  /** A volume made by CreateVolume is `creating` for createDelayMs; seeded ones are ready at once. */
  creating?: boolean;
}

/**
 * In-memory EC2: instances, EBS volumes, ENIs and their attachments, with EC2's rules
 * (AZ affinity, one holder per volume/ENI, device names and indexes) and its
 * asynchronous state transitions on timers. Operations throw `FakeAwsError`s carrying
 * EC2's codes, so the query service only parses and renders.
 */
export class Ec2State {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId = ec2Id('vpc');
  /** Mutable: tests and benchmarks change timing between phases. */
  readonly timing: Ec2Timing;
  readonly throttling = new Ec2Throttling();
  /** Told of every instance state change (EventBridge's `EC2 Instance State-change Notification`). */
  onStateChange: (instance: FakeInstance) => void = () => {};

  private readonly instanceMap = new Map<string, FakeInstance>();
  private readonly volumeMap = new Map<string, FakeVolume>();
  private readonly eniMap = new Map<string, FakeNetworkInterface>();
  /** By id, in creation order; 10.0.(16·n).0/20 each, so a few thousand addresses. */
  private readonly subnetMap = new Map<string, FakeSubnet>();
  /** The subnet the fake uses for an AZ when none is named: the first one made there. */
  private readonly defaultSubnets = new Map<string, FakeSubnet>();
  private readonly securityGroupMap = new Map<string, FakeSecurityGroup>();
  private defaultGroup!: FakeSecurityGroup;
  private readonly usedIps = new Set<string>();
  /** CreateVolume's and CreateNetworkInterface's ClientTokens: token → the id the first call made. */
  readonly clientTokens = new Map<string, string>();
  private readonly timers = new Timers();
  private readonly random: () => number;
  private seq = 0;

  constructor(options: Ec2StateOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.timing = { ...DEFAULT_EC2_TIMING, ...options.timing };
    this.random = seededRandom(options.seed ?? 1);
    this.addDefaultSecurityGroup();
  }

  /** How long this attach stays `attaching`. */
  attachDuration(kind: 'volume' | 'network-interface'): number {
    const durations = this.timing.attachDurations;
    if (!durations) return this.timing.attachDelayMs;
    const [min, max] = kind === 'volume' ? durations.volumeMs : durations.networkInterfaceMs;
    return (min + this.random() * (max - min)) * durations.scale;
  }

  instance(id: string): FakeInstance | undefined {
    return this.instanceMap.get(id);
  }

  volume(id: string): FakeVolume | undefined {
    return this.volumeMap.get(id);
  }

  networkInterface(id: string): FakeNetworkInterface | undefined {
    return this.eniMap.get(id);
  }

  /** In creation order, which is also the order Describe* pages through. */
  instances(): FakeInstance[] {
    return [...this.instanceMap.values()];
  }

  volumes(): FakeVolume[] {
    return [...this.volumeMap.values()];
  }

  networkInterfaces(): FakeNetworkInterface[] {
    return [...this.eniMap.values()];
  }

  volumesOf(instanceId: string): FakeVolume[] {
    return this.volumes().filter((v) => v.attachment?.instanceId === instanceId);
  }

  networkInterfacesOf(instanceId: string): FakeNetworkInterface[] {
    return this.networkInterfaces().filter((e) => e.attachment?.instanceId === instanceId);
  }

  /** The subnet the fake uses for an AZ (created on first use). */
  subnetFor(availabilityZone: string): string {
    return this.defaultSubnet(availabilityZone).subnetId;
  }

  subnet(id: string): FakeSubnet | undefined {
    return this.subnetMap.get(id);
  }

  /** In creation order, which is also the order DescribeSubnets pages through. */
  subnets(): FakeSubnet[] {
    return [...this.subnetMap.values()];
  }

  /** Another subnet in the AZ (the first one of an AZ is also its default). */
  createSubnet(options: { availabilityZone: string; tags?: Tags }): FakeSubnet {
    const index = this.subnetMap.size;
    if (index >= 16) throw new FakeAwsError('InvalidSubnet.Range', 'The CIDR is invalid for this VPC: 10.0.0.0/16 holds 16 subnets of /20.');
    const subnet: FakeSubnet = {
      subnetId: ec2Id('subnet'),
      availabilityZone: options.availabilityZone,
      vpcId: this.vpcId,
      index,
      cidrBlock: `10.0.${index * 16}.0/20`,
      nextHost: 4,
      tags: new Map(Object.entries(options.tags ?? {})),
      seq: this.seq++,
    };
    this.subnetMap.set(subnet.subnetId, subnet);
    if (!this.defaultSubnets.has(subnet.availabilityZone)) this.defaultSubnets.set(subnet.availabilityZone, subnet);
    return subnet;
  }

  /** The VPC's `default` security group, which an ENI gets when its create names none. */
  get defaultSecurityGroup(): FakeSecurityGroup {
    return this.defaultGroup;
  }

  createSecurityGroup(groupName: string): FakeSecurityGroup {
    const group = { groupId: ec2Id('sg'), groupName };
    this.securityGroupMap.set(group.groupId, group);
    return group;
  }

  securityGroup(id: string): FakeSecurityGroup | undefined {
    return this.securityGroupMap.get(id);
  }

  securityGroups(): FakeSecurityGroup[] {
    return [...this.securityGroupMap.values()];
  }

  /** A `pending` instance with its primary ENI (device 0) and root volume, `running` after launchDelayMs. */
  runInstance(options: { availabilityZone: string; subnetId?: string; tags?: Tags }): FakeInstance {
    const instance: FakeInstance = {
      instanceId: ec2Id('i'),
      reservationId: ec2Id('r'),
      availabilityZone: options.availabilityZone,
      subnetId: options.subnetId ?? this.subnetFor(options.availabilityZone),
      state: 'pending',
      launchTime: new Date(),
      tags: new Map(Object.entries(options.tags ?? {})),
      seq: this.seq++,
    };
    this.instanceMap.set(instance.instanceId, instance);
    this.onStateChange(instance);
    const launchAttachment = { instanceId: instance.instanceId, attachTime: instance.launchTime, deleteOnTermination: true };
    const eni = this.createNetworkInterface({
      availabilityZone: instance.availabilityZone,
      subnetId: instance.subnetId,
      description: 'Primary network interface',
    });
    eni.attachment = { ...launchAttachment, attachmentId: ec2Id('eni-attach'), deviceIndex: 0, status: 'attached' };
    const root = this.createVolume({ availabilityZone: instance.availabilityZone, size: 8 });
    root.attachment = { ...launchAttachment, device: ROOT_DEVICE, state: 'attached' };
    this.timers.later(this.timing.launchDelayMs, () => {
      if (instance.state === 'pending') this.setState(instance, 'running');
    });
    return instance;
  }

  /** running → `stopping` → `stopped` after launchDelayMs (a warm pool's Warmed:Stopped instances). */
  stopInstance(instanceId: string): void {
    const instance = this.instanceMap.get(instanceId);
    if (!instance) throw ec2Errors.instancesNotFound([instanceId]);
    if (instance.state !== 'running') return;
    this.setState(instance, 'stopping');
    this.timers.later(this.timing.launchDelayMs, () => {
      if (instance.state === 'stopping') this.setState(instance, 'stopped');
    });
  }

  /** stopped → `pending` → `running` after launchDelayMs. */
  startInstance(instanceId: string): void {
    const instance = this.instanceMap.get(instanceId);
    if (!instance) throw ec2Errors.instancesNotFound([instanceId]);
    if (instance.state !== 'stopped') return;
    this.setState(instance, 'pending');
    this.timers.later(this.timing.launchDelayMs, () => {
      if (instance.state === 'pending') this.setState(instance, 'running');
    });
  }

  /**
   * `shutting-down`, `terminated` after terminateDelayMs, and releaseDelayMs later its
   * attachments go: DeleteOnTermination ones are deleted, the others detach and become
   * available (as volumes and ENIs attached after launch do on AWS).
   */
  terminateInstance(instanceId: string): void {
    const instance = this.instanceMap.get(instanceId);
    if (!instance) throw ec2Errors.instancesNotFound([instanceId]);
    if (instance.state === 'shutting-down' || instance.state === 'terminated') return;
    this.setState(instance, 'shutting-down');
    this.timers.later(this.timing.terminateDelayMs, () => {
      this.setState(instance, 'terminated');
      this.timers.later(this.timing.releaseDelayMs, () => this.release(instanceId));
    });
  }

  createVolume(options: CreateVolumeInput): FakeVolume {
    const size = options.size ?? 10;
    const volumeType = options.volumeType ?? 'gp2';
    const volume: FakeVolume = {
      volumeId: ec2Id('vol'),
      availabilityZone: options.availabilityZone,
      size,
      volumeType,
      iops: options.iops ?? defaultIops(volumeType, size),
      throughput: options.throughput ?? (volumeType === 'gp3' ? 125 : undefined),
      encrypted: options.encrypted ?? false,
      kmsKeyId: options.encrypted ? (options.kmsKeyId ?? 'alias/aws/ebs') : undefined,
      multiAttachEnabled: options.multiAttachEnabled ?? false,
      creating: options.creating ?? false,
      createTime: new Date(),
      attachment: undefined,
      tags: new Map(Object.entries(options.tags ?? {})),
      snapshotId: options.snapshotId,
      seq: this.seq++,
    };
    this.volumeMap.set(volume.volumeId, volume);
    if (volume.creating) this.timers.later(this.timing.createDelayMs, () => (volume.creating = false));
    return volume;
  }

  /** In the named subnet (its AZ follows), or else in the AZ's default subnet. */
  createNetworkInterface(
    options: (
      | { subnetId: string; availabilityZone?: undefined }
      | { availabilityZone: string; subnetId?: string | undefined }
    ) & {
      privateIpAddress?: string | undefined;
      description?: string | undefined;
      securityGroupIds?: string[] | undefined;
      tags?: Tags;
    },
  ): FakeNetworkInterface {
    const subnet = options.subnetId === undefined ? this.defaultSubnet(options.availabilityZone!) : this.requireSubnet(options.subnetId);
    if (options.availabilityZone !== undefined && options.availabilityZone !== subnet.availabilityZone) {
      throw ec2Errors.combination(`Subnet ${subnet.subnetId} is in ${subnet.availabilityZone}, not ${options.availabilityZone}`);
    }
    const securityGroupIds = options.securityGroupIds?.length ? [...new Set(options.securityGroupIds)] : [this.defaultSecurityGroup.groupId];
    const unknownGroup = securityGroupIds.find((id) => !this.securityGroupMap.has(id));
    if (unknownGroup) throw ec2Errors.securityGroupNotFound(unknownGroup, this.vpcId);
    const ip = options.privateIpAddress ?? this.allocateIp(subnet);
    if (this.usedIps.has(ip)) throw new FakeAwsError('InvalidIPAddress.InUse', 'The specified address is already in use.');
    this.usedIps.add(ip);
    const eni: FakeNetworkInterface = {
      networkInterfaceId: ec2Id('eni'),
      availabilityZone: subnet.availabilityZone,
      subnetId: subnet.subnetId,
      vpcId: this.vpcId,
      privateIpAddress: ip,
      macAddress: macAddress(),
      description: options.description ?? '',
      securityGroupIds,
      attachment: undefined,
      tags: new Map(Object.entries(options.tags ?? {})),
      seq: this.seq++,
    };
    this.eniMap.set(eni.networkInterfaceId, eni);
    return eni;
  }

  /** AttachVolume: answers with the volume in `attaching`; `attached` after attachDelayMs. */
  attachVolume(options: { volumeId: string; instanceId: string; device: string }): FakeVolume {
    const { volumeId, instanceId, device } = options;
    const volume = this.volumeMap.get(volumeId);
    if (!volume) throw ec2Errors.volumeNotFound(volumeId);
    const instance = this.requireInstance(instanceId);
    if (volume.creating) throw new FakeAwsError('IncorrectState', `${volumeId} is not 'available'.`);
    if (volume.attachment) throw new FakeAwsError('VolumeInUse', `${volumeId} is already attached to an instance`);
    if (volume.availabilityZone !== instance.availabilityZone) {
      throw new FakeAwsError(
        'InvalidVolume.ZoneMismatch',
        `The volume '${volumeId}' is not in the same availability zone as instance '${instanceId}'`,
      );
    }
    if (instance.state !== 'running') throw new FakeAwsError('IncorrectState', `Instance '${instanceId}' is not 'running'.`);
    if (!EBS_DEVICE.test(device)) {
      throw ec2Errors.invalidValue(`Value (${device}) for parameter device is invalid. ${device} is not a valid EBS device name.`);
    }
    if (this.volumesOf(instanceId).some((v) => v.attachment?.device === device)) {
      throw ec2Errors.invalidValue(`Attachment point ${device} is already in use`);
    }
    const attachment: VolumeAttachment = { instanceId, device, state: 'attaching', attachTime: new Date(), deleteOnTermination: false };
    volume.attachment = attachment;
    this.timers.later(this.attachDuration('volume'), () => {
      if (volume.attachment === attachment) attachment.state = 'attached';
    });
    return volume;
  }

  /** AttachNetworkInterface: `attaching`, then `attached`; DeleteOnTermination is false, as on AWS. */
  attachNetworkInterface(options: { networkInterfaceId: string; instanceId: string; deviceIndex: number }): NetworkInterfaceAttachment {
    const { networkInterfaceId, instanceId, deviceIndex } = options;
    const eni = this.eniMap.get(networkInterfaceId);
    if (!eni) throw ec2Errors.networkInterfaceNotFound(networkInterfaceId);
    const instance = this.requireInstance(instanceId);
    if (eni.attachment) throw new FakeAwsError('InvalidNetworkInterface.InUse', `Interface: [${networkInterfaceId}] in use.`);
    if (eni.availabilityZone !== instance.availabilityZone) {
      throw ec2Errors.combination(
        'You may not attach a network interface to an instance if they are not in the same availability zone',
      );
    }
    if (instance.state !== 'running') {
      throw new FakeAwsError('IncorrectState', `Instance '${instanceId}' is not 'running' or 'stopped'.`);
    }
    if (this.networkInterfacesOf(instanceId).some((e) => e.attachment?.deviceIndex === deviceIndex)) {
      throw ec2Errors.invalidValue(`Instance '${instanceId}' already has an interface attached at device index '${deviceIndex}'.`);
    }
    const attachment: NetworkInterfaceAttachment = {
      attachmentId: ec2Id('eni-attach'),
      instanceId,
      deviceIndex,
      status: 'attaching',
      attachTime: new Date(),
      deleteOnTermination: false,
    };
    eni.attachment = attachment;
    this.timers.later(this.attachDuration('network-interface'), () => {
      if (eni.attachment === attachment) attachment.status = 'attached';
    });
    return attachment;
  }

  /**
   * DetachNetworkInterface: `detaching`, then detached and `available`. `force` (EC2's
   * last resort for a stuck instance) detaches at once. The primary ENI never detaches.
   */
  detachNetworkInterface(options: { attachmentId: string; force: boolean }): void {
    const eni = this.networkInterfaceByAttachment(options.attachmentId);
    const attachment = eni.attachment!;
    if (attachment.deviceIndex === 0) {
      throw new FakeAwsError('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.');
    }
    if (options.force) {
      eni.attachment = undefined;
      return;
    }
    if (attachment.status === 'detaching') return;
    attachment.status = 'detaching';
    this.timers.later(this.timing.attachDelayMs, () => {
      if (eni.attachment === attachment) eni.attachment = undefined;
    });
  }

  /** ModifyNetworkInterfaceAttribute `Attachment.*`: the attachment must be this ENI's. */
  setNetworkInterfaceDeleteOnTermination(networkInterfaceId: string, attachmentId: string, value: boolean): void {
    const eni = this.eniMap.get(networkInterfaceId);
    if (!eni) throw ec2Errors.networkInterfaceNotFound(networkInterfaceId);
    if (eni.attachment?.attachmentId !== attachmentId) throw ec2Errors.attachmentNotFound(attachmentId);
    eni.attachment.deleteOnTermination = value;
  }

  /** The tag map of any taggable resource, by id (CreateTags/DeleteTags take mixed ids). */
  tagsOf(resourceId: string): Map<string, string> {
    const resource =
      this.instanceMap.get(resourceId) ?? this.volumeMap.get(resourceId) ?? this.eniMap.get(resourceId);
    if (resource) return resource.tags;
    if (resourceId.startsWith('vol-')) throw ec2Errors.volumeNotFound(resourceId);
    if (resourceId.startsWith('eni-')) throw ec2Errors.networkInterfaceNotFound(resourceId);
    if (resourceId.startsWith('i-')) throw ec2Errors.instancesNotFound([resourceId]);
    throw new FakeAwsError('InvalidID', `The ID '${resourceId}' is not valid`);
  }

  /** Forgets every resource and pending transition, and turns throttling off. */
  reset(): void {
    this.timers.clear();
    this.instanceMap.clear();
    this.volumeMap.clear();
    this.eniMap.clear();
    this.subnetMap.clear();
    this.defaultSubnets.clear();
    this.securityGroupMap.clear();
    this.addDefaultSecurityGroup();
    this.usedIps.clear();
    this.clientTokens.clear();
    this.throttling.reset();
  }

  private networkInterfaceByAttachment(attachmentId: string): FakeNetworkInterface {
    for (const eni of this.eniMap.values()) if (eni.attachment?.attachmentId === attachmentId) return eni;
    throw ec2Errors.attachmentNotFound(attachmentId);
  }

  private requireInstance(instanceId: string): FakeInstance {
    const instance = this.instanceMap.get(instanceId);
    if (!instance) throw ec2Errors.instancesNotFound([instanceId]);
    return instance;
  }

  private setState(instance: FakeInstance, state: InstanceStateName): void {
    instance.state = state;
    this.onStateChange(instance);
  }

  private release(instanceId: string): void {
    for (const volume of this.volumesOf(instanceId)) {
      if (volume.attachment!.deleteOnTermination) this.volumeMap.delete(volume.volumeId);
      else volume.attachment = undefined;
    }
    for (const eni of this.networkInterfacesOf(instanceId)) {
      if (eni.attachment!.deleteOnTermination) {
        this.eniMap.delete(eni.networkInterfaceId);
        this.usedIps.delete(eni.privateIpAddress);
      } else {
        eni.attachment = undefined;
      }
    }
  }

  private defaultSubnet(availabilityZone: string): FakeSubnet {
    return this.defaultSubnets.get(availabilityZone) ?? this.createSubnet({ availabilityZone });
  }

  private requireSubnet(subnetId: string): FakeSubnet {
    const subnet = this.subnetMap.get(subnetId);
    if (!subnet) throw ec2Errors.subnetNotFound(subnetId);
    return subnet;
  }

  private addDefaultSecurityGroup(): void {
    this.defaultGroup = this.createSecurityGroup('default');
  }

  private allocateIp(net: FakeSubnet): string {
    for (;;) {
      if (net.nextHost >= 4095) throw new FakeAwsError('InsufficientFreeAddressesInSubnet', `No free addresses in ${net.subnetId}`);
      const host = net.nextHost++;
      const ip = `10.0.${net.index * 16 + (host >> 8)}.${host & 255}`;
      if (!this.usedIps.has(ip)) return ip;
    }
  }
}

/** gp2's baseline is 3 IOPS per GiB (100 to 16,000); gp3 starts at 3,000; io1/io2 must say theirs. */
function defaultIops(volumeType: VolumeType, size: number): number | undefined {
  if (volumeType === 'gp2') return Math.min(16_000, Math.max(100, 3 * size));
  if (volumeType === 'gp3') return 3000;
  return undefined;
}
