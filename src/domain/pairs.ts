/**
 * Pairs as pairkeeper sees them: EC2 volumes and ENIs read through the group's
 * filters, grouped by their NodeID tag. Adapters translate the SDK's shapes into
 * these; nothing here knows the SDK.
 */
export interface Attachment {
  instanceId: string;
  /** attaching | attached | detaching | detached (EC2's words for both kinds). */
  state: string;
  /** Volumes: the device name. */
  device?: string;
  /** ENIs: the device index and attachment id (needed to detach or modify). */
  deviceIndex?: number;
  attachmentId?: string;
  deleteOnTermination?: boolean;
}

export interface VolumeInfo {
  volumeId: string;
  availabilityZone: string;
  /** available | in-use | creating | deleting | error … */
  state: string;
  tags: Record<string, string>;
  attachment: Attachment | undefined;
  /** The snapshot it was created from; absent for a volume created empty. Such a volume is never formatted. */
  snapshotId?: string | undefined;
  /** EC2 lets such a volume have several holders, so its attachment is no lock: never a pair. */
  multiAttachEnabled?: boolean;
}

export interface EniInfo {
  networkInterfaceId: string;
  availabilityZone: string;
  /** available | in-use | attaching | detaching … */
  status: string;
  privateIpAddress: string | undefined;
  tags: Record<string, string>;
  attachment: Attachment | undefined;
}

export interface InstanceInfo {
  instanceId: string;
  /** pending | running | shutting-down | terminated | stopping | stopped */
  state: string;
  availabilityZone: string;
  /** Auto Scaling's own `aws:autoscaling:groupName` tag (no one else may write `aws:` tags): the group that launched it. */
  autoScalingGroup: string | undefined;
  /**
   * What EC2 shows attached or attaching to it (block device mappings, network
   * interfaces), by volume or ENI id: one read of the instance watches both
   * attachments of a pair, where reading the volume and the ENI takes two.
   */
  attachments: Map<string, Attachment>;
}

/** usable: exactly one volume and one ENI, same AZ. The rest are never used. */
export type PairCondition = 'usable' | 'incomplete' | 'broken';

export interface Pair {
  group: string;
  nodeId: string;
  condition: PairCondition;
  /** Why a pair is incomplete or broken, for operators. */
  problem: string | undefined;
  availabilityZone: string | undefined;
  volume: VolumeInfo | undefined;
  eni: EniInfo | undefined;
}

/** A claim: which instance holds a pair. Keyed by (group, nodeId). */
export interface Claim {
  group: string;
  nodeId: string;
  instanceId: string;
  /** claimed: attaching in progress; attached: both attachments done. */
  state: 'claimed' | 'attached';
  /** ISO time the claim was made, and last changed. */
  since: string;
  updatedAt: string;
}

/** The tag that shows a pair's holder in the AWS console. */
export const HOLDER_TAG = 'pairkeeper:instance-id';
/** On the volume: the instance it was last prepared on, so a repeat launch does not prepare it again. */
export const PREPARED_TAG = 'pairkeeper:prepared-on';
