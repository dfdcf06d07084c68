/**
 * The SQS intake: long-polls one queue and hands each message's event to the sink,
 * for hosts SNS cannot reach (nothing inbound). A message is deleted only once its
 * event is accepted (or knowingly ignored) — the same rule as the 2xx to SNS: no
 * loss, and a duplicate after a crash between receive and delete is harmless
 * because the controller's work is idempotent. While a message is being handled its
 * visibility is extended, so no second receiver takes it meanwhile. A poison
 * message (unparseable, forged, failing for good) is logged with bounded fields,
 * counted and left alone: it comes back after its visibility timeout, and the
 * queue's redrive policy moves it to the dead-letter queue after maxReceiveCount.
 * Receive errors back off; nothing here loops tightly.
 */
import type { HandledMessage } from '../domain/handled-message.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '../aws/sdk/sqs.js';
import type { Message } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../backoff.ts';
import type { Config } from '../config/schema.ts';
import { instanceOf, type EventSink, type SinkOutcome } from '../domain/autoscaling-event.ts';
import { PairkeeperError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { decodeQueueMessage, type QueueMessage, type SnsReader } from './queue-message.ts';

export type SqsIntakeConfig = NonNullable<Config['intake']['sqs']>;

export interface SqsPollerDeps {
  client: SQSClient;
  config: SqsIntakeConfig;
  sns: SnsReader;
  sink: EventSink;
  /** EC2's state changes name no group: they only trigger a resync. */
  resync: () => Promise<unknown>;
  logger: Logger;
  metrics: Metrics;
  /** Told of each message handled, for the operators' list of recent events (GET /v1/events). */
  onHandled?: (entry: HandledMessage) => void;
  backoff?: Backoff;
}

const RECEIVE_BACKOFF: Backoff = { baseMs: 1000, capMs: 60_000 };
/** Longest error text a poison message's log line carries: its fields stay bounded whatever the body held. */
const MAX_LOGGED_ERROR = 300;

export class SqsPoller {
  private readonly deps: SqsPollerDeps;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(deps: SqsPollerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops receiving (ending a long poll at once) and waits for the messages in hand to be handled. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { client, config, logger, metrics } = this.deps;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: config.queueUrl,
            MaxNumberOfMessages: config.maxMessages,
            WaitTimeSeconds: config.waitTimeSeconds,
            VisibilityTimeout: config.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const delayMs = backoffDelay(failures++, this.deps.backoff ?? RECEIVE_BACKOFF);
        metrics.queueReceiveErrors.inc();
        logger.error({ err, queueUrl: config.queueUrl, delayMs }, 'receiving from the SQS queue failed; backing off');
        await sleep(delayMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
        continue;
      }
      // The batch is handled before the next receive: at most maxMessages in hand at once.
      await Promise.all(messages.map((m) => this.handle(m)));
    }
  }

  private async handle(message: Message): Promise<void> {
    const { logger, metrics } = this.deps;
    const started = performance.now();
    const ids = { sqsMessageId: message.MessageId, receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0) };
    const heartbeat = this.keepInvisible(message);
    let decoded: QueueMessage | undefined;
    try {
      decoded = await decodeQueueMessage(message.Body ?? '', this.deps.sns);
      const taken = await this.deliver(decoded, message);
      await this.delete(message);
      const why = taken.outcome === 'ignored' ? taken.reason : undefined;
      metrics.queueMessages.inc({ format: decoded.format, outcome: taken.outcome });
      logger.info({ ...ids, ...this.describe(decoded), ...(why ? { why } : {}) }, `queued event ${taken.outcome}`);
      this.record(message, decoded, taken.outcome, why, started);
    } catch (err) {
      const format = decoded?.format ?? 'unknown';
      if (err instanceof PairkeeperError && !err.retryable) {
        metrics.queueMessages.inc({ format, outcome: 'poison' });
        metrics.queuePoisonMessages.inc({ code: err.code });
        logger.warn(
          { ...ids, code: err.code, error: err.message.slice(0, MAX_LOGGED_ERROR), bodyBytes: Buffer.byteLength(message.Body ?? '') },
          'poison message left in the queue for its redrive policy',
        );
        this.record(message, decoded, 'poison', err.code, started);
        return;
      }
      // Retryable (or a bug): the message comes back after its visibility timeout, which is the backoff.
      metrics.queueMessages.inc({ format, outcome: 'failed' });
      logger.error({ ...ids, err }, 'queued message failed; it will be received again');
      this.record(message, decoded, 'failed', err instanceof PairkeeperError ? err.code : 'internal error', started);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private record(message: Message, decoded: QueueMessage | undefined, outcome: string, detail: string | undefined, started: number): void {
    if (!this.deps.onHandled) return;
    const event = decoded?.event;
    const instanceId = event ? (event.kind === 'state-change' ? event.instanceId : instanceOf(event)) : undefined;
    this.deps.onHandled({
      at: new Date().toISOString(),
      messageId: decoded?.sns?.messageId ?? message.MessageId ?? '',
      type: `sqs:${decoded?.format ?? 'unknown'}`,
      ...(event ? { kind: event.kind } : {}),
      ...(event && 'group' in event && event.group ? { group: event.group } : {}),
      ...(instanceId ? { instanceId } : {}),
      outcome,
      ...(detail ? { detail } : {}),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }

  private async deliver(decoded: QueueMessage, message: Message): Promise<SinkOutcome> {
    const { event } = decoded;
    this.deps.metrics.autoScalingEvents.inc({ kind: event.kind });
    if (event.kind === 'test') return { outcome: 'ignored', reason: 'Auto Scaling test notification' };
    if (event.kind === 'unknown') return { outcome: 'ignored', reason: event.reason };
    if (event.kind === 'state-change') {
      await this.deps.resync();
      return { outcome: 'accepted' };
    }
    const { messageId, topicArn } = decoded.sns ?? { messageId: message.MessageId ?? '', topicArn: this.deps.config.queueUrl };
    // The replicas share the queue: this message reached this replica alone.
    return this.deps.sink.accept(event, { messageId, topicArn, everyReplica: false });
  }

  private describe(decoded: QueueMessage): Record<string, unknown> {
    const { event } = decoded;
    const instanceId = event.kind === 'state-change' ? event.instanceId : instanceOf(event);
    return {
      format: decoded.format,
      kind: event.kind,
      ...(decoded.sns ? { messageId: decoded.sns.messageId, topicArn: decoded.sns.topicArn } : {}),
      ...('group' in event && event.group ? { group: event.group } : {}),
      ...(instanceId ? { instanceId } : {}),
    };
  }

  /** Extends the message's visibility at half its timeout while work on it goes on. */
  private keepInvisible(message: Message): NodeJS.Timeout {
    const { client, config, logger } = this.deps;
    const timer = setInterval(() => {
      client
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: config.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: config.visibilityTimeoutSeconds }))
        .catch((err: unknown) => logger.warn({ err, sqsMessageId: message.MessageId }, 'could not extend a message’s visibility; another receiver may take it (harmless)'));
    }, (config.visibilityTimeoutSeconds * 1000) / 2);
    timer.unref();
    return timer;
  }

  /** A failed delete leaves a duplicate for later, which is harmless: logged, not thrown. */
  private async delete(message: Message): Promise<void> {
    const { client, config, logger } = this.deps;
    try {
      await client.send(new DeleteMessageCommand({ QueueUrl: config.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (err) {
      logger.warn({ err, sqsMessageId: message.MessageId }, 'could not delete a handled message; it will be received and handled again (harmless)');
    }
  }
}
