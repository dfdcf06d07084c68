/**
 * The fields Auto Scaling writes about an activity or a lifecycle action. They
 * have the same names in the SNS `Message` and in an EventBridge event's `detail`,
 * so both parsers read them here. Every field is bounded before it is kept: a body
 * from a queue carries no signature, and even a signed one is only a trigger.
 * A field that breaks its bound makes the whole message `unknown` (never a
 * truncated id); free text is cut to its bound instead.
 */
import type { ActivityEvent, InstancePlace, LifecycleEvent, UnknownEvent } from './autoscaling-event.ts';

type Fields = Record<string, unknown>;

/** Auto Scaling's own limits: names up to 255, NotificationMetadata up to 1023. */
// eslint-disable-next-line no-control-regex
const GROUP_NAME = /^[^\u0000-\u001f]{1,255}$/;
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
/** `us-east-1a`, `us-gov-west-1b`, local zones like `us-west-2-lax-1a`. */
const AVAILABILITY_ZONE = /^[a-z]{2}(-[a-z0-9]+){2,4}[a-z]?$/;
/** Lifecycle action tokens and activity ids are UUID-like (AWS's examples end in `EXAMPLE`). */
const TOKEN = /^[A-Za-z0-9-]{1,64}$/;
const MAX_METADATA = 1023;
const MAX_STATUS_MESSAGE = 1024;
const MAX_TIME = 40;
const PLACES: readonly string[] = ['EC2', 'AutoScalingGroup', 'WarmPool'];

/** The group a message is about, or undefined when missing or out of bounds. */
export function groupOf(m: Fields): string | undefined {
  return matching(m.AutoScalingGroupName, GROUP_NAME);
}

/** An ISO time as AWS writes it, or undefined. */
export function timeOf(value: unknown): string | undefined {
  const time = text(value);
  return time !== undefined && time.length <= MAX_TIME && !Number.isNaN(Date.parse(time)) ? time : undefined;
}

export function isInstanceId(value: string): boolean {
  return INSTANCE_ID.test(value);
}

/** A launch, terminate or their errors; `unknown` when an id is missing or malformed. */
export function activityFrom(kind: ActivityEvent['kind'], group: string, time: string | undefined, m: Fields, what: string): ActivityEvent | UnknownEvent {
  const details = typeof m.Details === 'object' && m.Details !== null && !Array.isArray(m.Details) ? (m.Details as Fields) : {};
  const instanceId = text(m.EC2InstanceId);
  if (instanceId !== undefined && !INSTANCE_ID.test(instanceId)) return unknown(`EC2InstanceId "${preview(instanceId)}" is not an instance id`, group);
  if (instanceId === undefined && kind !== 'launch-error') return unknown(`${what} without EC2InstanceId`, group);
  const movement = movementOf(m);
  if (typeof movement === 'string') return unknown(movement, group);
  return {
    kind,
    group,
    time,
    instanceId,
    availabilityZone: matching(details['Availability Zone'], AVAILABILITY_ZONE),
    subnetId: matching(details['Subnet ID'], SUBNET_ID),
    activityId: matching(m.ActivityId, TOKEN),
    statusMessage: cut(text(m.StatusMessage), MAX_STATUS_MESSAGE),
    ...movement,
  };
}

/** A lifecycle action: instance, hook and token are required and bounded. */
export function lifecycleFrom(kind: LifecycleEvent['kind'], group: string, time: string | undefined, m: Fields, what: string): LifecycleEvent | UnknownEvent {
  const instanceId = text(m.EC2InstanceId);
  if (!instanceId || !INSTANCE_ID.test(instanceId)) return unknown(`${what} without a valid EC2InstanceId`, group);
  const hookName = matching(m.LifecycleHookName, HOOK_NAME);
  const token = matching(m.LifecycleActionToken, TOKEN);
  if (!hookName || !token) return unknown(`${what} without a valid LifecycleHookName or LifecycleActionToken`, group);
  const metadata = text(m.NotificationMetadata);
  if (metadata !== undefined && metadata.length > MAX_METADATA) return unknown(`${what} with NotificationMetadata over ${MAX_METADATA} characters`, group);
  const movement = movementOf(m);
  if (typeof movement === 'string') return unknown(movement, group);
  return { kind, group, time, instanceId, hookName, token, metadata, ...movement };
}

export function unknown(reason: string, group?: string): UnknownEvent {
  return { kind: 'unknown', reason, group };
}

/** Origin and Destination, each absent or one of the three places; a reason when one is something else. */
function movementOf(m: Fields): { origin: InstancePlace | undefined; destination: InstancePlace | undefined } | string {
  const origin = text(m.Origin);
  const destination = text(m.Destination);
  for (const [name, value] of [['Origin', origin], ['Destination', destination]] as const) {
    if (value !== undefined && !PLACES.includes(value)) return `${name} "${preview(value)}" is not one of ${PLACES.join(', ')}`;
  }
  return { origin: origin as InstancePlace | undefined, destination: destination as InstancePlace | undefined };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function matching(value: unknown, pattern: RegExp): string | undefined {
  const t = text(value);
  return t !== undefined && pattern.test(t) ? t : undefined;
}

function cut(value: string | undefined, max: number): string | undefined {
  return value === undefined || value.length <= max ? value : value.slice(0, max);
}

/** A hostile value in a reason (which is logged) is shortened and stripped of control characters. */
export function preview(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length <= 64 ? clean : `${clean.slice(0, 64)}…`;
}
