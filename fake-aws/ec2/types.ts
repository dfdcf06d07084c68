/** The resources of the fake EC2, as plain records the service renders into EC2's XML. */

export type InstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** EC2's numeric state codes (the low byte of `instanceState.code`). */
export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type AttachmentState = 'attaching' | 'attached' | 'detaching';

export interface FakeInstance {
  instanceId: string;
  reservationId: string;
  availabilityZone: string;
  subnetId: string;
  state: InstanceStateName;
  launchTime: Date;
  tags: Map<string, string>;
  /** Creation order: stable sort key and pagination cursor. */
  seq: number;
}

export interface VolumeAttachment {
  instanceId: string;
  device: string;
  state: AttachmentState;
  attachTime: Date;
  deleteOnTermination: boolean;
}

export type VolumeType = 'standard' | 'gp2' | 'gp3' | 'io1' | 'io2' | 'st1' | 'sc1';

export interface FakeVolume {
  volumeId: string;
  availabilityZone: string;
  size: number;
  volumeType: VolumeType;
  /** Only for the types that have provisioned or baseline IOPS (gp3, io1, io2; gp2's baseline). */
  iops: number | undefined;
  throughput: number | undefined;
  encrypted: boolean;
  kmsKeyId: string | undefined;
  multiAttachEnabled: boolean;
  /** Between CreateVolume and `available`. */
  creating: boolean;
  createTime: Date;
  attachment: VolumeAttachment | undefined;
  tags: Map<string, string>;
  /** The snapshot it was created from, if any (DescribeVolumes says "" otherwise). */
  snapshotId: string | undefined;
  seq: number;
}

export interface NetworkInterfaceAttachment {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
  status: AttachmentState;
  attachTime: Date;
  deleteOnTermination: boolean;
}

export interface FakeNetworkInterface {
  networkInterfaceId: string;
  availabilityZone: string;
  subnetId: string;
  vpcId: string;
  privateIpAddress: string;
  macAddress: string;
  description: string;
  securityGroupIds: string[];
  attachment: NetworkInterfaceAttachment | undefined;
  tags: Map<string, string>;
  seq: number;
}

export interface FakeSubnet {
  subnetId: string;
  availabilityZone: string;
  vpcId: string;
  /** 10.0.(16·index).0/20. */
  index: number;
  cidrBlock: string;
  /** The next host number to hand out; AWS reserves the first four addresses. */
  nextHost: number;
  tags: Map<string, string>;
  seq: number;
}

export interface FakeSecurityGroup {
  groupId: string;
  groupName: string;
}

/** A volume is `creating` until EC2 has made it, then `in-use` from the moment an attach is accepted until the detach completes. */
export function volumeStatus(volume: FakeVolume): 'creating' | 'available' | 'in-use' {
  if (volume.creating) return 'creating';
  return volume.attachment ? 'in-use' : 'available';
}

/** EC2's NetworkInterfaceStatus follows the attachment: attaching, in-use, detaching, available. */
export function networkInterfaceStatus(eni: FakeNetworkInterface): 'available' | 'attaching' | 'in-use' | 'detaching' {
  const status = eni.attachment?.status;
  if (status === undefined) return 'available';
  return status === 'attached' ? 'in-use' : status;
}
