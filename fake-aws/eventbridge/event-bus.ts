import { randomUUID } from 'node:crypto';
import { partitionOf } from '../call-recorder.ts';
import type { FakeSqs } from '../sqs/fake-sqs.ts';

/**
 * The default EventBridge bus of the fake account: Auto Scaling and EC2 put every
 * event on it, as AWS does, and rules with an SQS target copy the matching ones
 * into a queue as the message body (the event JSON, as EventBridge writes it), when
 * the queue's policy lets events.amazonaws.com send for the rule; otherwise the
 * invocation fails, as on AWS (its FailedInvocations metric), and is kept in
 * `failedInvocations`.
 * Patterns match the way EventBridge's do for plain values: each named field
 * must equal one of the listed strings (`detail` fields one level down).
 */
export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventPattern {
  source?: string[];
  'detail-type'?: string[];
  detail?: Record<string, string[]>;
}

export interface EventRule {
  name: string;
  pattern: EventPattern;
  /** The SQS queue the rule targets. */
  queueArn: string;
}

/** Who EventBridge is when it sends to a queue. */
const EVENTS_PRINCIPAL = 'events.amazonaws.com';

export class FakeEventBus {
  /** Every event put on the bus, matched or not, oldest first. */
  readonly events: EventBridgeEvent[] = [];
  /** Deliveries a target queue's policy refused, oldest first. */
  readonly failedInvocations: { rule: string; eventId: string }[] = [];
  private readonly rules = new Map<string, EventRule>();
  private readonly region: string;
  private readonly accountId: string;
  private readonly sqs: FakeSqs;

  constructor(options: { region: string; accountId: string; sqs: FakeSqs }) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.sqs = options.sqs;
  }

  /**
   * PutRule + PutTargets in one, as the console does it: creates or replaces the rule of
   * that name and adds to the target queue's policy a statement letting EventBridge send
   * for the rule (`queuePolicy: false` leaves the policy alone, as the API does).
   */
  putRule(rule: EventRule, options: { queuePolicy?: boolean } = {}): void {
    const queue = this.sqs.queueByArn(rule.queueArn);
    if (!queue) throw new Error(`no queue ${rule.queueArn}`);
    this.rules.set(rule.name, { ...rule });
    if (options.queuePolicy !== false) this.sqs.letServiceSend(queue, `AWSEvents_${rule.name}`, EVENTS_PRINCIPAL, this.ruleArn(rule.name));
  }

  ruleArn(name: string): string {
    return `arn:${partitionOf(this.region)}:events:${this.region}:${this.accountId}:rule/${name}`;
  }

  removeRule(name: string): void {
    this.rules.delete(name);
  }

  /** Wraps the detail in EventBridge's envelope and delivers it to every matching rule's queue. */
  put(input: { source: string; detailType: string; resources: string[]; detail: Record<string, unknown> }): EventBridgeEvent {
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': input.detailType,
      source: input.source,
      account: this.accountId,
      // EventBridge writes whole seconds.
      time: `${new Date().toISOString().slice(0, 19)}Z`,
      region: this.region,
      resources: input.resources,
      detail: input.detail,
    };
    this.events.push(event);
    for (const rule of this.rules.values()) {
      if (!matches(rule.pattern, event)) continue;
      const queue = this.sqs.queueByArn(rule.queueArn);
      // A target queue deleted since: EventBridge fails that delivery; the others go on.
      if (!queue) continue;
      if (this.sqs.letsServiceSend(queue, EVENTS_PRINCIPAL, this.ruleArn(rule.name))) this.sqs.send(queue, JSON.stringify(event));
      else this.failedInvocations.push({ rule: rule.name, eventId: event.id });
    }
    return event;
  }

  reset(): void {
    this.rules.clear();
    this.events.length = 0;
    this.failedInvocations.length = 0;
  }
}

function matches(pattern: EventPattern, event: EventBridgeEvent): boolean {
  if (pattern.source && !pattern.source.includes(event.source)) return false;
  if (pattern['detail-type'] && !pattern['detail-type'].includes(event['detail-type'])) return false;
  for (const [field, allowed] of Object.entries(pattern.detail ?? {})) {
    const value = event.detail[field];
    if (typeof value !== 'string' || !allowed.includes(value)) return false;
  }
  return true;
}
