/**
 * What an Auto Scaling message means to pairkeeper, whatever carried it (SNS, an
 * SQS queue, EventBridge, or resync for the controller's own work), and the port
 * every intake hands such events to. Instance ids and AZs are as AWS wrote them.
 */

interface GroupEvent {
  group: string;
  /** When Auto Scaling says it happened. */
  time: string | undefined;
}

/**
 * Where an instance comes from and goes to (Auto Scaling's `Origin` and
 * `Destination`): with a warm pool, `EC2 → WarmPool` is a launch into the pool and
 * `WarmPool → AutoScalingGroup` a scale-out from it. Undefined when the message
 * does not say (older messages, groups without a warm pool).
 */
export type InstancePlace = 'EC2' | 'AutoScalingGroup' | 'WarmPool';

interface Movement {
  origin: InstancePlace | undefined;
  destination: InstancePlace | undefined;
}

export interface ActivityEvent extends GroupEvent, Movement {
  kind: 'launch' | 'launch-error' | 'terminate' | 'terminate-error';
  /** Empty for a launch error: no instance came to be. */
  instanceId: string | undefined;
  availabilityZone: string | undefined;
  subnetId: string | undefined;
  activityId: string | undefined;
  statusMessage: string | undefined;
}

export interface LifecycleEvent extends GroupEvent, Movement {
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

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/**
 * EC2 says an instance changed state (EventBridge `EC2 Instance State-change
 * Notification`). It names no group, so it is only a trigger: look the instance up
 * (or resync), never act on the state it reports.
 */
export interface StateChangeEvent {
  kind: 'state-change';
  instanceId: string;
  state: InstanceState;
  time: string | undefined;
}

/** Everything an intake (SNS, SQS) can hand on. */
export type IntakeEvent = AutoScalingEvent | StateChangeEvent;

export function instanceOf(event: AutoScalingEvent): string | undefined {
  return event.kind === 'test' || event.kind === 'unknown' ? undefined : event.instanceId;
}

/** What a sink did with an event: took it, or had no use for it (another group, say). */
export type SinkOutcome = { outcome: 'accepted' } | { outcome: 'ignored'; reason: string };

/**
 * Where a message came from. `everyReplica`: the same message reaches every replica
 * (each is subscribed to the topic), so the instance's owner among them does the
 * work; false for a queue, whose consumers share the messages: whoever gets one acts.
 */
export interface EventSource {
  messageId: string;
  topicArn: string;
  everyReplica: boolean;
}

/** Where intakes hand events (the controller implements it). Throwing a retryable PairkeeperError makes the sender retry. */
export interface EventSink {
  accept(event: AutoScalingEvent, source: EventSource): Promise<SinkOutcome> | SinkOutcome;
}
