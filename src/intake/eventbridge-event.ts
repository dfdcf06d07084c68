import type { ActivityEvent, InstanceState, IntakeEvent, LifecycleEvent } from '../domain/autoscaling-event.ts';
import { activityFrom, groupOf, isInstanceId, lifecycleFrom, preview, timeOf, unknown } from '../domain/autoscaling-fields.ts';
import { IntakeMessageError } from './intake-error.ts';

/**
 * Turns an EventBridge event (the body an EventBridge rule puts on an SQS queue)
 * into the events the SNS path produces, and EC2's state changes into a
 * `state-change` trigger. Real-format samples of every handled type sit in
 * ./samples. The envelope must be EventBridge's (version "0", id, detail-type,
 * source, account, time, region, resources, detail) or the body is refused with
 * an IntakeMessageError; a well-formed event pairkeeper does not handle (another
 * source, another detail-type, a detail out of bounds) becomes `unknown`, to be
 * acknowledged and counted like its SNS equivalent.
 */

/** EventBridge's own limit on an event (and SQS's on a message). */
export const MAX_EVENT_BYTES = 256 * 1024;

const AUTOSCALING_ACTIVITY: Record<string, ActivityEvent['kind']> = {
  'EC2 Instance Launch Successful': 'launch',
  'EC2 Instance Launch Unsuccessful': 'launch-error',
  'EC2 Instance Terminate Successful': 'terminate',
  'EC2 Instance Terminate Unsuccessful': 'terminate-error',
};

/** The lifecycle detail-types, with the LifecycleTransition their detail must carry. */
const AUTOSCALING_LIFECYCLE: Record<string, { kind: LifecycleEvent['kind']; transition: string }> = {
  'EC2 Instance-launch Lifecycle Action': { kind: 'lifecycle-launching', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' },
  'EC2 Instance-terminate Lifecycle Action': { kind: 'lifecycle-terminating', transition: 'autoscaling:EC2_INSTANCE_TERMINATING' },
};

const STATE_CHANGE = 'EC2 Instance State-change Notification';
const INSTANCE_STATES: readonly string[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

const EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const MAX_DETAIL_TYPE = 128;
const MAX_SOURCE = 256;
const MAX_RESOURCES = 20;
const MAX_RESOURCE = 2048;

/** True when a parsed body has EventBridge's two telling keys; the intake uses it to pick this parser. */
export function looksLikeEventBridgeEvent(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'detail-type' in value && 'source' in value;
}

export function parseEventBridgeEvent(body: string): IntakeEvent {
  if (Buffer.byteLength(body, 'utf8') > MAX_EVENT_BYTES) {
    throw new IntakeMessageError('PK_INTAKE_TOO_LARGE', `event is over ${MAX_EVENT_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw malformed('body is not JSON');
  }
  if (!isObject(parsed)) throw malformed('body is not a JSON object');
  const envelope = checkEnvelope(parsed);
  const detail = parsed.detail as Record<string, unknown>;

  if (envelope.source === 'aws.ec2' && envelope.detailType === STATE_CHANGE) return stateChange(detail, envelope.time);
  if (envelope.source !== 'aws.autoscaling') return unknown(`unhandled source ${preview(envelope.source)}`);

  const group = groupOf(detail);
  if (!group) return unknown(`${envelope.detailType} without a valid AutoScalingGroupName`);
  const activityKind = AUTOSCALING_ACTIVITY[envelope.detailType];
  if (activityKind) return activityFrom(activityKind, group, envelope.time, detail, envelope.detailType);
  const lifecycle = AUTOSCALING_LIFECYCLE[envelope.detailType];
  if (lifecycle) {
    // The transition is redundant with the detail-type; a body where they disagree is not one AWS wrote.
    if (detail.LifecycleTransition !== undefined && detail.LifecycleTransition !== lifecycle.transition) {
      return unknown(`${envelope.detailType} with LifecycleTransition other than ${lifecycle.transition}`, group);
    }
    return lifecycleFrom(lifecycle.kind, group, envelope.time, detail, envelope.detailType);
  }
  return unknown(`unhandled detail-type ${preview(envelope.detailType)}`, group);
}

/** The envelope's fields, each checked; the first that fails names itself in the error. */
function checkEnvelope(e: Record<string, unknown>): { source: string; detailType: string; time: string | undefined } {
  if (e.version !== '0') throw malformed('version is not "0"');
  if (typeof e.id !== 'string' || !EVENT_ID.test(e.id)) throw malformed('id is missing or not an event id');
  const detailType = e['detail-type'];
  if (typeof detailType !== 'string' || detailType === '' || detailType.length > MAX_DETAIL_TYPE) throw malformed('detail-type is missing or too long');
  if (typeof e.source !== 'string' || e.source === '' || e.source.length > MAX_SOURCE) throw malformed('source is missing or too long');
  if (typeof e.account !== 'string' || !ACCOUNT.test(e.account)) throw malformed('account is not a 12-digit account id');
  if (typeof e.region !== 'string' || !REGION.test(e.region)) throw malformed('region is not a region name');
  const time = timeOf(e.time);
  if (time === undefined) throw malformed('time is missing or not a date');
  const resources = e.resources;
  if (!Array.isArray(resources) || resources.length > MAX_RESOURCES || resources.some((r) => typeof r !== 'string' || r.length > MAX_RESOURCE)) {
    throw malformed(`resources is not a list of at most ${MAX_RESOURCES} strings`);
  }
  if (!isObject(e.detail)) throw malformed('detail is not a JSON object');
  return { source: e.source, detailType, time };
}

function stateChange(detail: Record<string, unknown>, time: string | undefined): IntakeEvent {
  const instanceId = detail['instance-id'];
  const state = detail.state;
  if (typeof instanceId !== 'string' || !isInstanceId(instanceId)) return unknown(`${STATE_CHANGE} without a valid instance-id`);
  if (typeof state !== 'string' || !INSTANCE_STATES.includes(state)) return unknown(`${STATE_CHANGE} with an unknown state`);
  return { kind: 'state-change', instanceId, state: state as InstanceState, time };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(reason: string): IntakeMessageError {
  return new IntakeMessageError('PK_INTAKE_MALFORMED', `not an EventBridge event: ${reason}`);
}
