/**
 * Turns the `Message` of an SNS notification (itself a JSON string) into an event.
 * Samples of every kind sit in ./samples. Anything that is not a message Auto
 * Scaling sends becomes `unknown`: acknowledged and counted, never an error,
 * because SNS must not retry it.
 */
import type { ActivityEvent, AutoScalingEvent, LifecycleEvent } from '../domain/autoscaling-event.ts';
import { activityFrom, groupOf, lifecycleFrom, preview, timeOf, unknown } from '../domain/autoscaling-fields.ts';

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

export function parseAutoScalingMessage(message: string): AutoScalingEvent {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return unknown('Message is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return unknown('Message is not a JSON object');
  const m = body as Record<string, unknown>;
  const group = groupOf(m);
  if (!group) return unknown('no valid AutoScalingGroupName');
  const time = timeOf(m.Time);

  const event = typeof m.Event === 'string' ? m.Event : undefined;
  if (event === 'autoscaling:TEST_NOTIFICATION') return { kind: 'test', group, time };
  const activityKind = event === undefined ? undefined : ACTIVITY_KINDS[event];
  if (activityKind) return activityFrom(activityKind, group, time, m, event!);

  const transition = typeof m.LifecycleTransition === 'string' ? m.LifecycleTransition : undefined;
  const lifecycleKind = transition === undefined ? undefined : LIFECYCLE_KINDS[transition];
  if (lifecycleKind) return lifecycleFrom(lifecycleKind, group, time, m, transition!);

  return unknown(
    event ? `unhandled Event ${preview(event)}` : transition ? `unhandled LifecycleTransition ${preview(transition)}` : 'neither Event nor LifecycleTransition',
    group,
  );
}
