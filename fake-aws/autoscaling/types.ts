/** The records of the fake Auto Scaling, rendered into its XML by render.ts. */

export type LifecycleState =
  | 'Pending'
  | 'Pending:Wait'
  | 'Pending:Proceed'
  | 'InService'
  | 'Terminating'
  | 'Terminating:Wait'
  | 'Terminating:Proceed'
  | 'Terminated'
  | WarmedState;

/** A warm pool member's states: the same walk as a member's, prefixed, plus where it rests. */
export type WarmedState =
  | 'Warmed:Pending'
  | 'Warmed:Pending:Wait'
  | 'Warmed:Pending:Proceed'
  | 'Warmed:Stopped'
  | 'Warmed:Running'
  | 'Warmed:Terminating'
  | 'Warmed:Terminating:Wait'
  | 'Warmed:Terminating:Proceed'
  | 'Warmed:Terminated';

/** Where an instance comes from and goes to, in lifecycle messages and events. */
export type InstancePlace = 'EC2' | 'AutoScalingGroup' | 'WarmPool';

/** PutWarmPool's settings. Hibernated pools are not modelled. */
export interface WarmPool {
  minSize: number;
  /** Instances in the group and the pool together; the group's MaxSize when unset. */
  maxGroupPreparedCapacity: number | undefined;
  poolState: 'Stopped' | 'Running';
  /** Scale-in puts instances back into the pool (stopped) instead of terminating them. */
  reuseOnScaleIn: boolean;
}

export type LifecycleTransition = 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
export type LifecycleResult = 'CONTINUE' | 'ABANDON';

export const NOTIFICATION_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
  'autoscaling:TEST_NOTIFICATION',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface GroupMember {
  instanceId: string;
  availabilityZone: string;
  subnetId: string;
  lifecycleState: LifecycleState;
  healthStatus: 'Healthy' | 'Unhealthy';
  /** Launch order, for scale-in choice and stable listings. */
  seq: number;
  /** Set once the member is picked for termination (possibly while still launching). */
  termination: Activity | undefined;
}

/** A scaling activity as the notifications and API answers describe it. */
export interface Activity {
  activityId: string;
  startTime: Date;
  cause: string;
}

export interface LifecycleHook {
  name: string;
  transition: LifecycleTransition;
  heartbeatTimeout: number;
  globalTimeout: number;
  defaultResult: LifecycleResult;
  notificationTargetArn: string | undefined;
  notificationMetadata: string | undefined;
  roleArn: string | undefined;
}

export interface AutoScalingGroup {
  name: string;
  arn: string;
  availabilityZones: string[];
  /** One subnet per AZ, as VPCZoneIdentifier lists them. */
  subnets: Map<string, string>;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  createdTime: Date;
  tags: Map<string, string>;
  members: Map<string, GroupMember>;
  hooks: Map<string, LifecycleHook>;
  /** Topic ARN to the notification types sent to it. */
  notifications: Map<string, Set<NotificationType>>;
  /** The next N launches fail (scripted), each with a LAUNCH_ERROR notification. */
  failLaunches: { count: number; reason: string };
  /** The next N terminations fail (scripted), each with a TERMINATE_ERROR notification. */
  failTerminations: { count: number; reason: string };
  warmPool: WarmPool | undefined;
}
