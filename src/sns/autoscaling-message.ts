import type { ActivityEvent, AutoScalingEvent, LifecycleEvent } from '../domain/autoscaling-event.ts';

/**
 * Turns the `Message` of an SNS notification (itself a JSON string) into an event.
 * Samples of every kind sit in ./samples. Anything that is not a message Auto
 * Scaling sends becomes `unknown`: acknowledged and counted, never an error,
 * because SNS must not retry it.
 */
const ACTIVITY_KINDS: Record<string, ActivityEvent['kind']> = {
  'autoscaling:EC2_INSTANCE_LAUNCH': 'launch',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR': 'launch-error',
  'autoscaling:EC2_INSTANCE_TERMINATE': 'terminate',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR': 'terminate-error',
};

const LIFECYCLE_KINDS: Record<string, LifecycleEvent['kind']> = {
  'autoscaling:EC2_INSTANCE_LAUNCHING': 'lifecycle-launching',
  'autoscaling:EC2_INSTANCE_TERMINATING': 'lifecycle-terminating',
};

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

export function parseAutoScalingMessage(message: string): AutoScalingEvent {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return unknown('Message is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return unknown('Message is not a JSON object');
  const m = body as Record<string, unknown>;
  const group = text(m.AutoScalingGroupName);
  if (!group) return unknown('no AutoScalingGroupName');
  const time = text(m.Time);

  const event = text(m.Event);
  if (event === 'autoscaling:TEST_NOTIFICATION') return { kind: 'test', group, time };
  const activityKind = event === undefined ? undefined : ACTIVITY_KINDS[event];
  if (activityKind) {
    const details = typeof m.Details === 'object' && m.Details !== null ? (m.Details as Record<string, unknown>) : {};
    const instanceId = text(m.EC2InstanceId);
    if (instanceId !== undefined && !INSTANCE_ID.test(instanceId)) return unknown(`EC2InstanceId "${instanceId}" is not an instance id`, group);
    if (instanceId === undefined && activityKind !== 'launch-error') return unknown(`${event} without EC2InstanceId`, group);
    return {
      kind: activityKind,
      group,
      time,
      instanceId,
      availabilityZone: text(details['Availability Zone']),
      subnetId: text(details['Subnet ID']),
      activityId: text(m.ActivityId),
      statusMessage: text(m.StatusMessage),
    };
  }

  const transition = text(m.LifecycleTransition);
  const lifecycleKind = transition === undefined ? undefined : LIFECYCLE_KINDS[transition];
  if (lifecycleKind) {
    const instanceId = text(m.EC2InstanceId);
    const hookName = text(m.LifecycleHookName);
    const token = text(m.LifecycleActionToken);
    if (!instanceId || !INSTANCE_ID.test(instanceId)) return unknown(`${transition} without a valid EC2InstanceId`, group);
    if (!hookName || !token) return unknown(`${transition} without LifecycleHookName or LifecycleActionToken`, group);
    return { kind: lifecycleKind, group, time, instanceId, hookName, token, metadata: text(m.NotificationMetadata) };
  }

  return unknown(event ? `unhandled Event ${event}` : transition ? `unhandled LifecycleTransition ${transition}` : 'neither Event nor LifecycleTransition', group);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function unknown(reason: string, group?: string): AutoScalingEvent {
  return { kind: 'unknown', reason, group };
}
