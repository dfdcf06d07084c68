import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { instanceOf, type AutoScalingEvent, type EventSink } from '../domain/autoscaling-event.ts';
import { PairkeeperError, SnsRejection } from '../errors.ts';
import type { RecentEvents } from './recent-messages.ts';
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
      return this.refuse(err, envelope, headers, started);
    }

    const admission = this.seen.begin(envelope.MessageId);
    if (admission !== 'new') {
      this.deps.metrics.snsMessages.inc({ type: envelope.Type, outcome: 'duplicate' });
      this.deps.logger.info({ messageId: envelope.MessageId, type: envelope.Type, admission }, 'duplicate SNS message ignored');
      return { status: 200, body: { status: 'duplicate', messageId: envelope.MessageId } };
    }
    try {
      const status = await this.dispatch(envelope, subscribeUrl, started);
      this.seen.commit(envelope.MessageId);
      return { status: 200, body: { status, messageId: envelope.MessageId } };
    } catch (err) {
      this.seen.release(envelope.MessageId);
      return this.refuse(err, envelope, headers, started);
    }
  }

  /** The HTTP headers must agree with the envelope; then the check every envelope gets. Returns the validated SubscribeURL of a SubscriptionConfirmation. */
  private async authenticate(envelope: SnsEnvelope, headers: Record<string, string | string[] | undefined>): Promise<URL | undefined> {
    const headerType = headers['x-amz-sns-message-type'];
    if (headerType !== undefined && headerType !== envelope.Type) {
      throw new SnsRejection('PK_SNS_HEADER_MISMATCH', `x-amz-sns-message-type ${String(headerType)} disagrees with Type ${envelope.Type}`);
    }
    const headerTopic = headers['x-amz-sns-topic-arn'];
    if (headerTopic !== undefined && headerTopic !== envelope.TopicArn) {
      throw new SnsRejection('PK_SNS_HEADER_MISMATCH', 'x-amz-sns-topic-arn disagrees with TopicArn');
    }
    return this.verifier.verify(envelope);
  }

  private async dispatch(envelope: SnsEnvelope, subscribeUrl: URL | undefined, started: number): Promise<string> {
    const { logger, metrics } = this.deps;
    // Fields, not a child logger: a child per message costs more than the line itself.
    const ids = { messageId: envelope.MessageId, topicArn: envelope.TopicArn };
    switch (envelope.Type) {
      case 'SubscriptionConfirmation':
        return this.confirm(envelope, subscribeUrl!, ids, started);
      case 'UnsubscribeConfirmation':
        // Never resubscribe on our own: an operator unsubscribed on purpose, or should know.
        logger.warn({ ...ids, type: envelope.Type }, 'subscription removed; pairkeeper will receive no more messages from this topic');
        this.deps.subscriptions.add({ at: new Date().toISOString(), topicArn: envelope.TopicArn, messageId: envelope.MessageId, outcome: 'unsubscribed' });
        this.record(envelope, started, 'unsubscribed');
        metrics.snsMessages.inc({ type: envelope.Type, outcome: 'accepted' });
        return 'unsubscribed';
      case 'Notification': {
        const event = parseAutoScalingMessage(envelope.Message);
        metrics.autoScalingEvents.inc({ kind: event.kind });
        const instanceId = instanceOf(event);
        const fields = { ...ids, kind: event.kind, group: event.group, instanceId, ...(event.kind === 'unknown' ? { reason: event.reason } : {}) };
        if (event.kind === 'test' || event.kind === 'unknown') {
          logger.info(fields, event.kind === 'test' ? 'Auto Scaling test notification acknowledged' : 'notification is not an Auto Scaling event; acknowledged');
          this.record(envelope, started, 'ignored', event, event.kind === 'unknown' ? event.reason : undefined);
          metrics.snsMessages.inc({ type: envelope.Type, outcome: 'ignored' });
          return 'ignored';
        }
        const taken = await this.deps.sink.accept(event, { messageId: envelope.MessageId, topicArn: envelope.TopicArn });
        const outcome = taken.outcome;
        const why = taken.outcome === 'ignored' ? taken.reason : undefined;
        logger.info({ ...fields, ...(why ? { why } : {}) }, outcome === 'accepted' ? 'Auto Scaling event accepted' : 'Auto Scaling event acknowledged and ignored');
        this.record(envelope, started, outcome, event, why);
        metrics.snsMessages.inc({ type: envelope.Type, outcome });
        return outcome;
      }
    }
  }

  private async confirm(envelope: SnsEnvelope, url: URL, ids: { messageId: string; topicArn: string }, started: number): Promise<string> {
    const log = this.deps.logger;
    const at = new Date().toISOString();
    const base = { at, topicArn: envelope.TopicArn, messageId: envelope.MessageId };
    if (!this.deps.config.autoConfirm) {
      log.warn(ids, 'subscription awaits manual confirmation (sns.autoConfirm is false): confirm it in the SNS console or with `aws sns confirm-subscription`');
      this.deps.subscriptions.add({ ...base, outcome: 'awaiting-manual-confirmation' });
      this.record(envelope, started, 'awaiting-manual-confirmation');
      this.deps.metrics.snsMessages.inc({ type: envelope.Type, outcome: 'ignored' });
      return 'awaiting-manual-confirmation';
    }
    try {
      const { subscriptionArn } = await confirmSubscription(url, { timeoutMs: this.deps.config.confirmTimeoutMs, attempts: 2, retryDelayMs: 500 });
      log.info({ ...ids, subscriptionArn }, 'subscription confirmed');
      this.deps.subscriptions.add({ ...base, outcome: 'confirmed', ...(subscriptionArn ? { subscriptionArn } : {}) });
      this.record(envelope, started, 'confirmed');
      this.deps.metrics.snsMessages.inc({ type: envelope.Type, outcome: 'accepted' });
      return 'confirmed';
    } catch (err) {
      this.deps.subscriptions.add({ ...base, outcome: 'confirm-failed', error: (err as Error).message });
      throw err;
    }
  }

  private refuse(err: unknown, envelope: SnsEnvelope | undefined, headers: Record<string, string | string[] | undefined>, started: number): SnsAnswer {
    const { metrics, logger } = this.deps;
    const type = envelope?.Type ?? 'unparsed';
    if (!(err instanceof PairkeeperError)) {
      // A bug or an unexpected failure in a dependency: SNS should retry, and we want to know.
      logger.error({ err, messageId: envelope?.MessageId, type }, 'unexpected error handling SNS message');
      metrics.snsMessages.inc({ type, outcome: 'failed' });
      if (envelope) this.record(envelope, started, 'failed', undefined, 'internal error');
      return { status: 500, body: { code: 'PK_INTERNAL', message: 'internal error; SNS will retry' } };
    }
    const status = err instanceof SnsRejection ? err.status : err.retryable ? 503 : 400;
    const reason = err instanceof SnsRejection ? err.reason : err.code;
    metrics.snsRejections.inc({ reason });
    metrics.snsMessages.inc({ type, outcome: status >= 500 ? 'failed' : 'rejected' });
    logger[status >= 500 ? 'error' : 'warn'](
      { code: err.code, reason, messageId: envelope?.MessageId, topicArn: envelope?.TopicArn, type, headerMessageId: headers['x-amz-sns-message-id'] },
      `SNS message refused: ${err.message}`,
    );
    if (envelope) this.record(envelope, started, status >= 500 ? 'failed' : 'rejected', undefined, err.code);
    return { status, body: { code: err.code, message: err.message } };
  }

  private record(envelope: SnsEnvelope, started: number, outcome: string, event?: AutoScalingEvent, detail?: string): void {
    const instanceId = event ? instanceOf(event) : undefined;
    this.deps.recentEvents.add({
      at: new Date().toISOString(),
      messageId: envelope.MessageId,
      type: envelope.Type,
      ...(event ? { kind: event.kind } : {}),
      ...(event?.group ? { group: event.group } : {}),
      ...(instanceId ? { instanceId } : {}),
      outcome,
      ...(detail ? { detail } : {}),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}
