import { randomUUID } from 'node:crypto';
import type { AutoScalingGroup, InstancePlace, LifecycleHook, NotificationType } from './types.ts';

/**
 * The SNS messages Auto Scaling publishes, field for field as AWS sends them (see
 * "Amazon SNS notification options for Amazon EC2 Auto Scaling" and the lifecycle hook
 * notification examples in the Auto Scaling user guide). The key order follows
 * captured messages. Each builder returns the SNS Subject and the Message, which is a
 * JSON string, so a subscriber parses twice.
 */
export interface AutoScalingMessage {
  subject: string;
  message: string;
}

const SERVICE = 'AWS Auto Scaling';

/** Where the instance is: the activity notification's `Details`. */
export interface Placement {
  subnetId: string;
  availabilityZone: string;
}

export type ActivityKind = 'launch' | 'launch-error' | 'terminate' | 'terminate-error';

const ACTIVITY: Record<ActivityKind, { event: NotificationType; subject: string; origin: string; destination: string }> = {
  launch: { event: 'autoscaling:EC2_INSTANCE_LAUNCH', subject: 'launch', origin: 'EC2', destination: 'AutoScalingGroup' },
  'launch-error': { event: 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR', subject: 'failed launch', origin: 'EC2', destination: 'AutoScalingGroup' },
  terminate: { event: 'autoscaling:EC2_INSTANCE_TERMINATE', subject: 'termination', origin: 'AutoScalingGroup', destination: 'EC2' },
  'terminate-error': { event: 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR', subject: 'failed termination', origin: 'AutoScalingGroup', destination: 'EC2' },
};

export function activityEvent(kind: ActivityKind): NotificationType {
  return ACTIVITY[kind].event;
}

export interface ActivityInput {
  kind: ActivityKind;
  group: AutoScalingGroup;
  accountId: string;
  /** Empty when a launch failed before any instance existed. */
  instanceId: string;
  placement: Placement;
  cause: string;
  startTime: Date;
  /** InProgress, or MidTerminatingLifecycleAction when sent as a terminate hook completes. */
  statusCode?: string;
  statusMessage?: string;
  /** The activity a TerminateInstanceInAutoScalingGroup answer already named. */
  activityId?: string;
  /** Warm pool moves; the kind's usual pair (EC2 → AutoScalingGroup, or back) otherwise. */
  origin?: InstancePlace;
  destination?: InstancePlace;
}

export function activityMessage(input: ActivityInput): AutoScalingMessage {
  const spec = ACTIVITY[input.kind];
  const failed = input.kind === 'launch-error' || input.kind === 'terminate-error';
  const now = new Date().toISOString();
  const activityId = input.activityId ?? randomUUID();
  const description = {
    launch: `Launching a new EC2 instance: ${input.instanceId}`,
    // An abandoned launch hook fails the launch of an instance that exists; a failed RunInstances has none.
    'launch-error': `Launching a new EC2 instance${input.instanceId ? `: ${input.instanceId}` : ''}.  Status Reason: ${input.statusMessage ?? ''}`,
    terminate: `Terminating EC2 instance: ${input.instanceId}`,
    'terminate-error': `Terminating EC2 instance: ${input.instanceId}.  Status Reason: ${input.statusMessage ?? ''}`,
  }[input.kind];
  const statusCode = failed ? 'Failed' : (input.statusCode ?? 'InProgress');
  const body = {
    Origin: input.origin ?? spec.origin,
    Destination: input.destination ?? spec.destination,
    Progress: failed ? 100 : statusCode === 'MidTerminatingLifecycleAction' ? 60 : 50,
    AccountId: input.accountId,
    Description: description,
    RequestId: activityId,
    EndTime: now,
    AutoScalingGroupARN: input.group.arn,
    ActivityId: activityId,
    StartTime: input.startTime.toISOString(),
    Service: SERVICE,
    Time: now,
    EC2InstanceId: input.instanceId,
    StatusCode: statusCode,
    StatusMessage: input.statusMessage ?? '',
    Details: { 'Subnet ID': input.placement.subnetId, 'Availability Zone': input.placement.availabilityZone },
    AutoScalingGroupName: input.group.name,
    Cause: input.cause,
    Event: spec.event,
  };
  return { subject: `Auto Scaling: ${spec.subject} for group "${input.group.name}"`, message: JSON.stringify(body) };
}

/** Sent to a topic when a notification configuration or a lifecycle hook starts using it. */
export function testNotification(group: AutoScalingGroup, accountId: string): AutoScalingMessage {
  const body = {
    AccountId: accountId,
    RequestId: randomUUID(),
    AutoScalingGroupARN: group.arn,
    AutoScalingGroupName: group.name,
    Service: SERVICE,
    Event: 'autoscaling:TEST_NOTIFICATION',
    Time: new Date().toISOString(),
  };
  return { subject: `Auto Scaling: test notification for group "${group.name}"`, message: JSON.stringify(body) };
}

/** The message of a lifecycle action: no `Event`; the token is what CompleteLifecycleAction takes. */
export function lifecycleMessage(input: {
  group: AutoScalingGroup;
  hook: LifecycleHook;
  accountId: string;
  instanceId: string;
  token: string;
  /** Warm pool moves; EC2 → AutoScalingGroup (launching) or AutoScalingGroup → EC2 otherwise. */
  origin?: InstancePlace;
  destination?: InstancePlace;
}): AutoScalingMessage {
  const launching = input.hook.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING';
  const body = {
    Origin: input.origin ?? (launching ? 'EC2' : 'AutoScalingGroup'),
    LifecycleHookName: input.hook.name,
    Destination: input.destination ?? (launching ? 'AutoScalingGroup' : 'EC2'),
    AccountId: input.accountId,
    RequestId: randomUUID(),
    LifecycleTransition: input.hook.transition,
    AutoScalingGroupName: input.group.name,
    Service: SERVICE,
    Time: new Date().toISOString(),
    EC2InstanceId: input.instanceId,
    ...(input.hook.notificationMetadata === undefined ? {} : { NotificationMetadata: input.hook.notificationMetadata }),
    LifecycleActionToken: input.token,
  };
  // Two spaces after the colon: that is how AWS writes this subject.
  const subject = `Auto Scaling:  Lifecycle action '${launching ? 'LAUNCHING' : 'TERMINATING'}' for instance ${input.instanceId} in progress.`;
  return { subject, message: JSON.stringify(body) };
}
