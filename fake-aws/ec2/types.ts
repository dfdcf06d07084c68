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

export interface FakeVolume {
  volumeId: string;
  availabilityZone: string;
  size: number;
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
  attachment: NetworkInterfaceAttachment | undefined;
  tags: Map<string, string>;
  seq: number;
}

/** A volume is `in-use` from the moment an attach is accepted until the detach completes. */
export function volumeStatus(volume: FakeVolume): 'available' | 'in-use' {
  return volume.attachment ? 'in-use' : 'available';
}

/** EC2's NetworkInterfaceStatus follows the attachment: attaching, in-use, detaching, available. */
export function networkInterfaceStatus(eni: FakeNetworkInterface): 'available' | 'attaching' | 'in-use' | 'detaching' {
  const status = eni.attachment?.status;
  if (status === undefined) return 'available';
  return status === 'attached' ? 'in-use' : status;
}
