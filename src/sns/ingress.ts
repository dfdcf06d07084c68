import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { instanceOf, type AutoScalingEvent, type EventSink } from '../domain/autoscaling-event.ts';
import { PairkeeperError, SnsRejection } from '../errors.ts';
import type { RecentEvent, RecentEvents } from './recent-messages.ts';
import type { Metrics } from '../metrics.ts';
import { parseAutoScalingMessage } from './autoscaling-message.ts';
import { parseEnvelope, type SnsEnvelope } from './envelope.ts';
import { EnvelopeVerifier } from './envelope-verifier.ts';
import { SeenMessages } from './seen-messages.ts';
import { confirmSubscription } from './subscription-confirmer.ts';
import type { SubscriptionLog } from './subscriptions.ts';

export interface SnsAnswer {
  status: number;
  body: { status: string; messageId?: string } | { code: string; message: string };
}

export interface SnsIngressDeps {
  config: Config['sns'];
  /** The signature and topic check, shared with the SQS intake. */
  verifier: EnvelopeVerifier;
  sink: EventSink;
  logger: Logger;
  metrics: Metrics;
  recentEvents: RecentEvents;
  subscriptions: SubscriptionLog;
  now?: () => number;
}

/**
 * One SNS delivery in, one honest answer out (DESIGN.md rule 5). The checks run
 * cheapest first, and nothing is fetched for a message from a topic we do not trust.
 */
export class SnsIngress {
  private readonly deps: SnsIngressDeps;
  private readonly verifier: EnvelopeVerifier;
  private readonly seen: SeenMessages;

  constructor(deps: SnsIngressDeps) {
    this.deps = deps;
    this.verifier = deps.verifier;
    this.seen = new SeenMessages({
      windowMs: (deps.config.maxMessageAgeSeconds + deps.config.clockSkewSeconds) * 1000,
      capacity: deps.config.seenMessageIds,
      now: deps.now ?? Date.now,
    });
  }

  async handle(body: string, headers: Record<string, string | string[] | undefined>): Promise<SnsAnswer> {
    const started = performance.now();
    let envelope: SnsEnvelope | undefined;
    let subscribeUrl: URL | undefined;
    try {
      envelope = parseEnvelope(body);
      subscribeUrl = await this.authenticate(envelope, headers);
    } catch (err) {
      return this.refuse(err, { envelope, authenticated: false, started }, headers);
    }

    const admission = this.seen.begin(envelope.MessageId);
    if (admission !== 'new') {
      // Not listed: a captured genuine message replayed many times must not fill /v1/events.
      this.settle({ envelope, authenticated: true, started }, { counted: 'duplicate', level: 'info', msg: 'duplicate SNS message ignored', fields: { admission } });
      return { status: 200, body: { status: 'duplicate', messageId: envelope.MessageId } };
    }
    try {
      const status = await this.dispatch(envelope, subscribeUrl, started);
      this.seen.commit(envelope.MessageId);
      return { status: 200, body: { status, messageId: envelope.MessageId } };
    } catch (err) {
      this.seen.release(envelope.MessageId);
      return this.refuse(err, { envelope, authenticated: true, started }, headers);
    }
  }

  /** The HTTP headers must agree with the envelope; then the check every envelope gets. Returns the validated SubscribeURL of a SubscriptionConfirmation. */
  private async authenticate(envelope: SnsEnvelope, headers: Record<string, string | string[] | undefined>): Promise<URL | undefined> {
    const headerType = headers['x-amz-sns-message-type'];
    if (headerType !== undefined && headerType !== envelope.Type) {
      throw new SnsRejection('PK_SNS_HEADER_MISMATCH', `x-amz-sns-message-type ${headerText(headerType)} disagrees with Type ${envelope.Type}`);
    }
    const headerTopic = headers['x-amz-sns-topic-arn'];
    if (headerTopic !== undefined && headerTopic !== envelope.TopicArn) {
      throw new SnsRejection('PK_SNS_HEADER_MISMATCH', 'x-amz-sns-topic-arn disagrees with TopicArn');
    }
    return this.verifier.verify(envelope);
  }

  private async dispatch(envelope: SnsEnvelope, subscribeUrl: URL | undefined, started: number): Promise<string> {
    const message = { envelope, authenticated: true, started };
    switch (envelope.Type) {
      case 'SubscriptionConfirmation':
        return this.confirm(envelope, subscribeUrl!, started);
      case 'UnsubscribeConfirmation':
        // Never resubscribe on our own: an operator unsubscribed on purpose, or should know.
        this.deps.subscriptions.add({ at: new Date().toISOString(), topicArn: envelope.TopicArn, messageId: envelope.MessageId, outcome: 'unsubscribed' });
        this.settle(message, { counted: 'accepted', listed: 'unsubscribed', level: 'warn', msg: 'subscription removed; pairkeeper will receive no more messages from this topic' });
        return 'unsubscribed';
      case 'Notification': {
        const event = parseAutoScalingMessage(envelope.Message);
        this.deps.metrics.autoScalingEvents.inc({ kind: event.kind });
        const fields = { kind: event.kind, group: event.group, instanceId: instanceOf(event), ...(event.kind === 'unknown' ? { reason: event.reason } : {}) };
        if (event.kind === 'test' || event.kind === 'unknown') {
          const msg = event.kind === 'test' ? 'Auto Scaling test notification acknowledged' : 'notification is not an Auto Scaling event; acknowledged';
          this.settle(message, { counted: 'ignored', listed: 'ignored', event, detail: event.kind === 'unknown' ? event.reason : undefined, level: 'info', msg, fields });
          return 'ignored';
        }
        const taken = await this.deps.sink.accept(event, { messageId: envelope.MessageId, topicArn: envelope.TopicArn, everyReplica: true });
        const why = taken.outcome === 'ignored' ? taken.reason : undefined;
        const msg = taken.outcome === 'accepted' ? 'Auto Scaling event accepted' : 'Auto Scaling event acknowledged and ignored';
        this.settle(message, { counted: taken.outcome, listed: taken.outcome, event, detail: why, level: 'info', msg, fields: { ...fields, ...(why ? { why } : {}) } });
        return taken.outcome;
      }
    }
  }

  private async confirm(envelope: SnsEnvelope, url: URL, started: number): Promise<string> {
    const message = { envelope, authenticated: true, started };
    const base = { at: new Date().toISOString(), topicArn: envelope.TopicArn, messageId: envelope.MessageId };
    if (!this.deps.config.autoConfirm) {
      this.deps.subscriptions.add({ ...base, outcome: 'awaiting-manual-confirmation' });
      const msg = 'subscription awaits manual confirmation (sns.autoConfirm is false): confirm it in the SNS console or with `aws sns confirm-subscription`';
      this.settle(message, { counted: 'ignored', listed: 'awaiting-manual-confirmation', level: 'warn', msg });
      return 'awaiting-manual-confirmation';
    }
    try {
      const { subscriptionArn } = await confirmSubscription(url, { timeoutMs: this.deps.config.confirmTimeoutMs, attempts: 2, retryDelayMs: 500 });
      this.deps.subscriptions.add({ ...base, outcome: 'confirmed', ...(subscriptionArn ? { subscriptionArn } : {}) });
      this.settle(message, { counted: 'accepted', listed: 'confirmed', level: 'info', msg: 'subscription confirmed', fields: { subscriptionArn } });
      return 'confirmed';
    } catch (err) {
      this.deps.subscriptions.add({ ...base, outcome: 'confirm-failed', error: (err as Error).message });
      throw err;
    }
  }

  private refuse(err: unknown, message: HandledMessage, headers: Record<string, string | string[] | undefined>): SnsAnswer {
    if (!(err instanceof PairkeeperError)) {
      // A bug or an unexpected failure in a dependency: SNS should retry, and we want to know.
      this.settle(message, { counted: 'failed', listed: 'failed', detail: 'internal error', level: 'error', msg: 'unexpected error handling SNS message', fields: { err } });
      return { status: 500, body: { code: 'PK_INTERNAL', message: 'internal error; SNS will retry' } };
    }
    const status = err instanceof SnsRejection ? err.status : err.retryable ? 503 : 400;
    const reason = err instanceof SnsRejection ? err.reason : err.code;
    // Every field of a parsed envelope is bounded; the text and the header are clipped as well.
    const text = clip(err.message, MAX_REFUSAL_CHARS);
    this.deps.metrics.snsRejections.inc({ reason });
    const outcome = status >= 500 ? 'failed' : 'rejected';
    this.settle(message, {
      counted: outcome,
      listed: outcome,
      detail: err.code,
      level: status >= 500 ? 'error' : 'warn',
      msg: `SNS message refused: ${text}`,
      fields: { code: err.code, reason, headerMessageId: headerText(headers['x-amz-sns-message-id']) },
    });
    return { status, body: { code: err.code, message: text } };
  }

  /** The one place a handled message is counted, logged and listed in /v1/events. */
  private settle(message: HandledMessage, how: Settlement): void {
    const { envelope, authenticated, started } = message;
    const type = envelope?.Type ?? 'unparsed';
    this.deps.metrics.snsMessages.inc({ type, outcome: how.counted });
    // Fields, not a child logger: a child per message costs more than the line itself.
    this.deps.logger[how.level]({ messageId: envelope?.MessageId, topicArn: envelope?.TopicArn, type, ...how.fields }, how.msg);
    if (how.listed === undefined) return;
    const instanceId = how.event ? instanceOf(how.event) : undefined;
    const recent: RecentEvent = {
      at: new Date().toISOString(),
      ...(envelope ? { messageId: envelope.MessageId } : {}),
      type,
      ...(how.event ? { kind: how.event.kind } : {}),
      ...(how.event?.group ? { group: how.event.group } : {}),
      ...(instanceId ? { instanceId } : {}),
      outcome: how.listed,
      ...(how.detail ? { detail: how.detail } : {}),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
    if (authenticated) this.deps.recentEvents.add(recent);
    else this.deps.recentEvents.addRefused(recent);
  }
}

/** A message on its way through the ingress: what is known of it so far. */
interface HandledMessage {
  envelope: SnsEnvelope | undefined;
  /** Whether its signature verified; refusals before that are listed apart. */
  authenticated: boolean;
  started: number;
}

/** What became of a message: the metric outcome, the /v1/events outcome (none: not listed), the log line. */
interface Settlement {
  counted: 'accepted' | 'ignored' | 'duplicate' | 'rejected' | 'failed';
  listed?: string;
  event?: AutoScalingEvent;
  detail?: string | undefined;
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
}

const MAX_REFUSAL_CHARS = 1024;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A header as text fit for a log line: headers are unauthenticated too. */
function headerText(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : clip(Array.isArray(value) ? value.join(',') : value, 64);
}
