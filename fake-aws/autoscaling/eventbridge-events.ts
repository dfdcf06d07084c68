import type { AutoScalingMessage, ActivityKind } from './messages.ts';
import type { AutoScalingGroup } from './types.ts';

/**
 * Auto Scaling's EventBridge events, built from the SNS message of the same
 * moment: AWS puts the same fields in the event's `detail` (see "Amazon EC2 Auto
 * Scaling event reference" and "Warm pool event types and patterns"), without
 * the SNS-only ones (AccountId, Service, Time, Event, Progress).
 */
export interface AutoScalingBusEvent {
  source: 'aws.autoscaling';
  detailType: string;
  resources: string[];
  detail: Record<string, unknown>;
}

const ACTIVITY_DETAIL_TYPES: Record<ActivityKind, string> = {
  launch: 'EC2 Instance Launch Successful',
  'launch-error': 'EC2 Instance Launch Unsuccessful',
  terminate: 'EC2 Instance Terminate Successful',
  'terminate-error': 'EC2 Instance Terminate Unsuccessful',
};

const ACTIVITY_FIELDS = [
  'Origin',
  'Destination',
  'StatusCode',
  'Description',
  'AutoScalingGroupName',
  'ActivityId',
  'Details',
  'RequestId',
  'StatusMessage',
  'EndTime',
  'EC2InstanceId',
  'StartTime',
  'Cause',
];

const LIFECYCLE_FIELDS = [
  'LifecycleActionToken',
  'AutoScalingGroupName',
  'LifecycleHookName',
  'EC2InstanceId',
  'LifecycleTransition',
  'NotificationMetadata',
  'Origin',
  'Destination',
];

export function activityBusEvent(kind: ActivityKind, group: AutoScalingGroup, built: AutoScalingMessage, instanceArn: string | undefined): AutoScalingBusEvent {
  return {
    source: 'aws.autoscaling',
    detailType: ACTIVITY_DETAIL_TYPES[kind],
    resources: instanceArn === undefined ? [group.arn] : [group.arn, instanceArn],
    detail: pick(built, ACTIVITY_FIELDS),
  };
}

export function lifecycleBusEvent(group: AutoScalingGroup, launching: boolean, built: AutoScalingMessage): AutoScalingBusEvent {
  return {
    source: 'aws.autoscaling',
    detailType: launching ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    resources: [group.arn],
    detail: pick(built, LIFECYCLE_FIELDS),
  };
}

function pick(built: AutoScalingMessage, fields: string[]): Record<string, unknown> {
  const body = JSON.parse(built.message) as Record<string, unknown>;
  return Object.fromEntries(fields.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
}
