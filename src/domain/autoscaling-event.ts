/**
 * What an Auto Scaling message means to pairkeeper, whatever carried it (an SNS
 * notification or, for the controller's own work, resync), and the port every
 * intake hands such events to. Instance ids and AZs are as AWS wrote them.
 */

interface GroupEvent {
  group: string;
  /** When Auto Scaling says it happened. */
  time: string | undefined;
}

export interface ActivityEvent extends GroupEvent {
  kind: 'launch' | 'launch-error' | 'terminate' | 'terminate-error';
  /** Empty for a launch error: no instance came to be. */
  instanceId: string | undefined;
  availabilityZone: string | undefined;
  subnetId: string | undefined;
  activityId: string | undefined;
  statusMessage: string | undefined;
}

export interface LifecycleEvent extends GroupEvent {
  kind: 'lifecycle-launching' | 'lifecycle-terminating';
  instanceId: string;
  hookName: string;
  token: string;
  metadata: string | undefined;
}

export interface TestEvent extends GroupEvent {
  kind: 'test';
}

export interface UnknownEvent {
  kind: 'unknown';
  /** Why it is not one of the above, for the log. */
  reason: string;
  group: string | undefined;
}

export type AutoScalingEvent = ActivityEvent | LifecycleEvent | TestEvent | UnknownEvent;
export type AutoScalingEventKind = AutoScalingEvent['kind'];

export function instanceOf(event: AutoScalingEvent): string | undefined {
  return event.kind === 'test' || event.kind === 'unknown' ? undefined : event.instanceId;
}

/** What a sink did with an event: took it, or had no use for it (another group, say). */
export type SinkOutcome = { outcome: 'accepted' } | { outcome: 'ignored'; reason: string };

/** Where intakes hand events (the controller implements it). Throwing a retryable PairkeeperError makes the sender retry. */
export interface EventSink {
  accept(event: AutoScalingEvent, source: { messageId: string; topicArn: string }): Promise<SinkOutcome> | SinkOutcome;
}
