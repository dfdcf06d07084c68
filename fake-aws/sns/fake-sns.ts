import { randomUUID } from 'node:crypto';
import { partitionOf } from '../call-recorder.ts';
import { FakeAwsError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import type { FakeSqs } from '../sqs/fake-sqs.ts';
import type { SnsHttpsEndpoint } from './https-endpoint.ts';
import type { SignatureVersion, SnsEnvelope, SnsSigner } from './signer.ts';

/**
 * Topics, HTTP(S) and SQS subscriptions and deliveries, with SNS's delivery behaviour:
 * an HTTP(S) subscription is pending until its SubscribeURL is visited; a delivery
 * counts as done on any 2xx or 4xx and is retried on 5xx or timeout (15 s), by
 * default 3 retries 20 s apart. An SQS subscription (same account) is confirmed at
 * once and gets the signed envelope as the message body, or the bare message with
 * RawMessageDelivery, but only when the queue's policy lets sns.amazonaws.com send
 * for the topic: otherwise the message is lost without an error anywhere, as on AWS
 * (a failed notification; here a delivery recorded as `denied`). Optional chaos
 * (duplicates, random delay, hence reordering) is seeded so a failing run can be repeated.
 */
export interface DeliveryPolicy {
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

export interface DeliveryChaos {
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Each delivery waits a random time in [min, max] ms first; different waits reorder messages. */
  delayMs: [number, number];
  /** Probability that a message is lost (never delivered). */
  dropRate: number;
}

/** The protocols this fake delivers to. */
export type SubscriptionProtocol = 'http' | 'https' | 'sqs';

export interface Subscription {
  arn: string;
  topicArn: string;
  protocol: SubscriptionProtocol;
  /** A URL, or a queue ARN for `sqs`. */
  endpoint: string;
  owner: string;
  /** SQS only: the queue gets the Message itself instead of the envelope. */
  rawMessageDelivery: boolean;
  token: string;
  confirmed: boolean;
}

/** What Subscribe's Attributes may set here; an attribute left out is not asked for. */
export interface SubscriptionAttributes {
  /** SQS only: the queue gets the Message itself instead of the envelope. */
  rawMessageDelivery?: boolean;
}

export interface DeliveryRecord {
  messageId: string;
  type: SnsEnvelope['Type'];
  subscriptionArn: string;
  attempts: number;
  /** `denied`: the queue's policy does not let SNS send this topic's messages to it. */
  status: number | 'timeout' | 'error' | 'dropped' | 'enqueued' | 'denied';
  duplicate: boolean;
}

/** Who SNS is when it sends to a queue. */
const SNS_PRINCIPAL = 'sns.amazonaws.com';

export class FakeSns {
  readonly region: string;
  readonly accountId: string;
  policy: DeliveryPolicy = { retries: 3, retryDelayMs: 20_000, timeoutMs: 15_000 };
  chaos: DeliveryChaos = { duplicateRate: 0, delayMs: [0, 0], dropRate: 0 };
  signatureVersion: SignatureVersion = '1';
  readonly deliveries: DeliveryRecord[] = [];

  private readonly topics = new Set<string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly inFlight = new Set<Promise<void>>();
  private random = seededRandom(1);
  private readonly endpoint: SnsHttpsEndpoint;
  private readonly signer: SnsSigner;
  private readonly sqs: FakeSqs | undefined;

  constructor(options: { endpoint: SnsHttpsEndpoint; signer: SnsSigner; region: string; accountId: string; sqs?: FakeSqs }) {
    this.endpoint = options.endpoint;
    this.signer = options.signer;
    this.sqs = options.sqs;
    this.region = options.region;
    this.accountId = options.accountId;
    this.endpoint.onConfirm = (topicArn, token) => {
      const sub = [...this.subscriptions.values()].find((s) => s.topicArn === topicArn && s.token === token);
      if (!sub) return undefined;
      sub.confirmed = true;
      return sub.arn;
    };
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /**
   * Creates the topic, or answers the ARN of the one that has the name already: CreateTopic
   * is idempotent by name, as on AWS.
   */
  createTopic(name: string): string {
    // Standard topics: 1–256 letters, digits, hyphens and underscores.
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) throw new FakeAwsError('InvalidParameter', 'Invalid parameter: Topic Name');
    const arn = this.topicArnOf(name);
    this.topics.add(arn);
    return arn;
  }

  /** The ARN a topic of this name has (or would have). */
  topicArnOf(name: string): string {
    return `arn:${partitionOf(this.region)}:sns:${this.region}:${this.accountId}:${name}`;
  }

  /** In creation order. */
  listTopics(): string[] {
    return [...this.topics];
  }

  listSubscriptions(): Subscription[] {
    return [...this.subscriptions.values()];
  }

  /**
   * Subscribe, as the API does it. An HTTP(S) endpoint gets a SubscriptionConfirmation, as
   * SNS sends it; subscribing it again answers the existing subscription, and sends a
   * pending one its confirmation again. The protocol defaults to the endpoint's scheme.
   * With `sqs`, the endpoint is a queue ARN (subscribeSqs).
   */
  subscribe(topicArn: string, endpoint: string, protocol: string = endpoint.split(':')[0] ?? '', attributes: SubscriptionAttributes = {}): Subscription {
    if (!this.topics.has(topicArn)) throw new FakeAwsError('NotFound', 'Topic does not exist', 404);
    if (protocol === 'sqs') return this.subscribeSqs(topicArn, endpoint, attributes);
    if (protocol !== 'http' && protocol !== 'https') {
      throw new FakeAwsError('InvalidParameter', `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`);
    }
    // AWS delivers raw to HTTP(S) too; this fake's HTTP(S) deliveries always send the envelope.
    if (attributes.rawMessageDelivery) throw new FakeAwsError('InvalidParameter', 'Invalid parameter: Attributes Reason: the fake SNS delivers raw messages to SQS only');
    if (!endpoint.startsWith(`${protocol}://`) || !URL.canParse(endpoint)) throw new FakeAwsError('InvalidParameter', 'Invalid parameter: Endpoint');
    const existing = this.listSubscriptions().find((s) => s.topicArn === topicArn && s.protocol === protocol && s.endpoint === endpoint);
    if (existing) {
      if (!existing.confirmed) this.send(existing, this.confirmationFor(existing, 'SubscriptionConfirmation'));
      return existing;
    }
    const sub: Subscription = {
      arn: `${topicArn}:${randomUUID()}`,
      topicArn,
      protocol,
      endpoint,
      owner: this.accountId,
      rawMessageDelivery: false,
      token: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
      confirmed: false,
    };
    this.subscriptions.set(sub.arn, sub);
    this.send(sub, this.confirmationFor(sub, 'SubscriptionConfirmation'));
    return sub;
  }

  /**
   * A test fixture for "the operator subscribed the queue": subscribes it as the API does
   * and then, as the SQS console's "Subscribe to Amazon SNS topic" does, adds to the
   * queue's policy a statement letting sns.amazonaws.com send for this topic (the API's
   * Subscribe never touches the policy). `queuePolicy: false` leaves the policy as it is,
   * for a subscription SNS cannot deliver on.
   */
  subscribeQueue(topicArn: string, queueArn: string, options: SubscriptionAttributes & { queuePolicy?: boolean } = {}): Subscription {
    const sub = this.subscribe(topicArn, queueArn, 'sqs', { rawMessageDelivery: options.rawMessageDelivery });
    // subscribe made sure of the queue.
    if (options.queuePolicy !== false) this.sqs!.letServiceSend(this.sqs!.queueByArn(queueArn)!, `topic-subscription-${topicArn}`, SNS_PRINCIPAL, topicArn);
    return sub;
  }

  /** Removes a subscription and tells an HTTP(S) endpoint with an UnsubscribeConfirmation. */
  unsubscribe(subscriptionArn: string): void {
    const sub = this.subscriptions.get(subscriptionArn);
    if (!sub) return;
    this.subscriptions.delete(subscriptionArn);
    if (sub.protocol !== 'sqs') this.send(sub, this.confirmationFor(sub, 'UnsubscribeConfirmation'));
  }

  /** Publishes to every confirmed subscription of the topic. Returns the MessageId. */
  publish(topicArn: string, message: string, subject?: string): string {
    const messageId = randomUUID();
    for (const sub of this.subscriptions.values()) {
      if (sub.topicArn !== topicArn || !sub.confirmed) continue;
      const envelope = this.signer.notification({
        topicArn,
        message,
        ...(subject === undefined ? {} : { subject }),
        messageId,
        version: this.signatureVersion,
        unsubscribeUrl: this.endpoint.unsubscribeUrl(sub.arn),
      });
      this.send(sub, envelope);
    }
    return messageId;
  }

  /** Resolves once every delivery under way (retries included) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * A queue of this account is confirmed at once, as SNS does for its own account's
   * queues. Subscribing it again answers the existing subscription, unless an attribute
   * asked for differs from the one it has.
   */
  private subscribeSqs(topicArn: string, queueArn: string, attributes: SubscriptionAttributes): Subscription {
    if (!this.sqs?.queueByArn(queueArn)) throw new FakeAwsError('InvalidParameter', 'Invalid parameter: SQS endpoint ARN');
    const existing = this.listSubscriptions().find((s) => s.topicArn === topicArn && s.protocol === 'sqs' && s.endpoint === queueArn);
    if (existing) {
      if (attributes.rawMessageDelivery !== undefined && attributes.rawMessageDelivery !== existing.rawMessageDelivery) {
        throw new FakeAwsError('InvalidParameter', 'Invalid parameter: Attributes Reason: Subscription already exists with different attributes');
      }
      return existing;
    }
    const sub: Subscription = {
      arn: `${topicArn}:${randomUUID()}`,
      topicArn,
      protocol: 'sqs',
      endpoint: queueArn,
      owner: this.accountId,
      rawMessageDelivery: attributes.rawMessageDelivery ?? false,
      token: '',
      confirmed: true,
    };
    this.subscriptions.set(sub.arn, sub);
    return sub;
  }

  private confirmationFor(sub: Subscription, type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'): SnsEnvelope {
    return this.signer.confirmation({
      type,
      topicArn: sub.topicArn,
      token: sub.token,
      subscribeUrl: this.endpoint.subscribeUrl(sub.topicArn, sub.token),
      version: this.signatureVersion,
    });
  }

  private send(sub: Subscription, envelope: SnsEnvelope): void {
    if (this.random() < this.chaos.dropRate) {
      this.deliveries.push({ messageId: envelope.MessageId, type: envelope.Type, subscriptionArn: sub.arn, attempts: 0, status: 'dropped', duplicate: false });
      return;
    }
    const copies = this.random() < this.chaos.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const p = this.deliver(sub, envelope, i > 0).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async deliver(sub: Subscription, envelope: SnsEnvelope, duplicate: boolean): Promise<void> {
    const [min, max] = this.chaos.delayMs;
    const delay = min + this.random() * (max - min);
    if (delay > 0) await sleep(delay);
    const record: DeliveryRecord = { messageId: envelope.MessageId, type: envelope.Type, subscriptionArn: sub.arn, attempts: 0, status: 'error', duplicate };
    this.deliveries.push(record);
    if (sub.protocol === 'sqs') {
      record.attempts = 1;
      const sqs = this.sqs;
      const queue = sqs?.queueByArn(sub.endpoint);
      if (!sqs || !queue) return; // the queue was deleted: SNS drops the message
      if (!sqs.letsServiceSend(queue, SNS_PRINCIPAL, sub.topicArn)) {
        record.status = 'denied';
        return;
      }
      sqs.send(queue, sub.rawMessageDelivery ? envelope.Message : JSON.stringify(envelope, null, 2));
      record.status = 'enqueued';
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': envelope.Type,
      'x-amz-sns-message-id': envelope.MessageId,
      'x-amz-sns-topic-arn': envelope.TopicArn,
    };
    if (envelope.Type === 'Notification') headers['x-amz-sns-subscription-arn'] = sub.arn;
    const body = JSON.stringify(envelope, null, 2);
    for (let attempt = 0; attempt <= this.policy.retries; attempt++) {
      if (attempt > 0) await sleep(this.policy.retryDelayMs);
      record.attempts += 1;
      try {
        const res = await fetch(sub.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.policy.timeoutMs) });
        await res.arrayBuffer();
        record.status = res.status;
        if (res.status < 500) return; // SNS counts 2xx and 4xx as delivered
      } catch (err) {
        record.status = err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'error';
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
