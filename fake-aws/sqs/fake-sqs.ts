import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { evaluate, refuseUnsupported, type Policy, type Statement } from '../iam-evaluator.ts';
import { Timers } from '../timers.ts';
import { invalidAttributeValue, invalidParameterValue, sqsErrors } from './errors.ts';

/**
 * Standard SQS queues in memory, with the behaviour a consumer depends on: a
 * received message stays invisible for the visibility timeout and then comes back;
 * each receive gives a new receipt handle and only the latest one deletes; long
 * polling holds ReceiveMessage until a message is visible or the wait ends; and a
 * queue with a RedrivePolicy moves a message to its dead-letter queue when it is
 * about to be received more than maxReceiveCount times. All SQS seconds
 * (visibility, wait, delay) pass at `timing.msPerSecond`, so tests can use AWS's
 * integer-second values and still run fast. A queue's Policy must have the shape SQS
 * asks for; the fake SNS and EventBridge ask it (letsServiceSend) before they deliver.
 */
export interface SqsTiming {
  /** How many ms one SQS second lasts: 1000 is real time. */
  msPerSecond: number;
}

export const DEFAULT_SQS_TIMING: Readonly<SqsTiming> = { msPerSecond: 1000 };

export interface QueueMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  firstReceiveTimestamp: number | undefined;
  receiveCount: number;
  /** Epoch ms from which a receive may return it (after a delay or a visibility timeout). */
  visibleAt: number;
  /** The handle of the latest receive: the only one that deletes. */
  receiptHandle: string | undefined;
  /** Set when a redrive moved the message here. */
  deadLetterQueueSourceArn: string | undefined;
}

export interface FakeQueue {
  name: string;
  arn: string;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  /** The settable attributes, as strings (AWS keeps and returns them that way). */
  attributes: Map<string, string>;
  /** In send order; a message that becomes visible again keeps its place. */
  messages: Map<string, QueueMessage>;
  /** Wakes long polls when a message may have become visible. */
  waiters: Set<() => void>;
}

export interface ReceivedMessage {
  message: QueueMessage;
  receiptHandle: string;
}

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** The attributes CreateQueue and SetQueueAttributes accept, with AWS's defaults and bounds. */
const SETTABLE: Record<string, { default?: string; min?: number; max?: number }> = {
  DelaySeconds: { default: '0', min: 0, max: 900 },
  MaximumMessageSize: { default: '262144', min: 1024, max: 262_144 },
  MessageRetentionPeriod: { default: '345600', min: 60, max: 1_209_600 },
  ReceiveMessageWaitTimeSeconds: { default: '0', min: 0, max: 20 },
  VisibilityTimeout: { default: '30', min: 0, max: 43_200 },
  RedrivePolicy: {},
  Policy: {},
  // SSE-KMS: a key id, ARN or alias, kept as given (AWS checks the key only when it is used).
  KmsMasterKeyId: {},
};

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_VISIBILITY = 43_200;

export class FakeSqs {
  readonly region: string;
  readonly accountId: string;
  /** Mutable: tests change timing between phases. */
  readonly timing: SqsTiming;
  /** The fake's HTTP address, which prefixes queue URLs; set once the server listens. */
  endpoint = 'http://127.0.0.1';

  private readonly queues = new Map<string, FakeQueue>();
  /** Every handle ever given out, so an old one is told apart from a made-up one. */
  private readonly handles = new Map<string, { queue: FakeQueue; messageId: string }>();
  private readonly timers = new Timers();
  private closed = false;

  constructor(options: { region: string; accountId: string; timing?: Partial<SqsTiming> }) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.timing = { ...DEFAULT_SQS_TIMING, ...options.timing };
  }

  /** CreateQueue: idempotent for the same attributes, QueueAlreadyExists for different ones. */
  createQueue(name: string, attributes: Record<string, string> = {}): FakeQueue {
    if (!QUEUE_NAME.test(name)) {
      throw invalidParameterValue('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    if ('FifoQueue' in attributes) throw invalidAttributeValue('The fake SQS has standard queues only (no FifoQueue).');
    const existing = this.queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(attributes)) {
        if (existing.attributes.get(key) !== this.checkAttribute(key, value)) throw sqsErrors.queueNameExists(key);
      }
      return existing;
    }
    const now = Date.now();
    const queue: FakeQueue = {
      name,
      arn: `arn:aws:sqs:${this.region}:${this.accountId}:${name}`,
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      attributes: new Map(Object.entries(SETTABLE).flatMap(([k, spec]) => (spec.default === undefined ? [] : [[k, spec.default] as const]))),
      messages: new Map(),
      waiters: new Set(),
    };
    for (const [key, value] of Object.entries(attributes)) queue.attributes.set(key, this.checkAttribute(key, value));
    this.queues.set(name, queue);
    return queue;
  }

  setAttributes(queue: FakeQueue, attributes: Record<string, string>): void {
    const checked = Object.entries(attributes).map(([key, value]) => [key, this.checkAttribute(key, value)] as const);
    for (const [key, value] of checked) queue.attributes.set(key, value);
    queue.lastModifiedTimestamp = Date.now();
  }

  urlOf(queue: FakeQueue): string {
    return `${this.endpoint}/${this.accountId}/${queue.name}`;
  }

  queue(name: string): FakeQueue | undefined {
    return this.queues.get(name);
  }

  /** By URL as the SDK sends it: only the account and name in its path count, not the host. */
  queueByUrl(url: string): FakeQueue {
    const queue = this.queueByUrlOrUndefined(url);
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return queue;
  }

  queueByUrlOrUndefined(url: string): FakeQueue | undefined {
    let path: string[];
    try {
      path = new URL(url).pathname.split('/').filter(Boolean);
    } catch {
      return undefined;
    }
    const [account, name] = path.slice(-2);
    return account === this.accountId && name ? this.queues.get(name) : undefined;
  }

  queueByArn(arn: string): FakeQueue | undefined {
    const [, , service, region, account, name] = arn.split(':');
    if (service !== 'sqs' || region !== this.region || account !== this.accountId || !name) return undefined;
    return this.queues.get(name);
  }

  /** SendMessage: visible after the message's (or the queue's) delay. */
  send(queue: FakeQueue, body: string, delaySeconds?: number): QueueMessage {
    const maxSize = Number(queue.attributes.get('MaximumMessageSize'));
    if (Buffer.byteLength(body, 'utf8') > maxSize) {
      throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`);
    }
    if (INVALID_BODY_CHARACTER.test(body)) {
      throw sqsErrors.invalidMessageContents();
    }
    const delay = delaySeconds ?? Number(queue.attributes.get('DelaySeconds'));
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw invalidParameterValue(`Value ${delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`);
    }
    const now = Date.now();
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      sentTimestamp: now,
      firstReceiveTimestamp: undefined,
      receiveCount: 0,
      visibleAt: now + delay * this.timing.msPerSecond,
      receiptHandle: undefined,
      deadLetterQueueSourceArn: undefined,
    };
    this.enqueue(queue, message);
    return message;
  }

  /**
   * ReceiveMessage: up to `max` visible messages, each hidden for `visibilitySeconds`
   * with a new receipt handle; with `waitSeconds`, waits for the first one to appear.
   */
  async receive(queue: FakeQueue, options: { max: number; visibilitySeconds?: number; waitSeconds?: number }): Promise<ReceivedMessage[]> {
    const visibility = options.visibilitySeconds ?? Number(queue.attributes.get('VisibilityTimeout'));
    const wait = options.waitSeconds ?? Number(queue.attributes.get('ReceiveMessageWaitTimeSeconds'));
    const deadline = Date.now() + wait * this.timing.msPerSecond;
    for (;;) {
      // A queue dropped by reset() (or the fake closing) answers a waiting poll with nothing.
      if (this.closed || this.queues.get(queue.name) !== queue) return [];
      const taken = this.take(queue, options.max, visibility);
      const left = deadline - Date.now();
      if (taken.length > 0 || left <= 0) return taken;
      await this.changeOrTimeout(queue, left);
    }
  }

  /** DeleteMessage: only the latest handle deletes; an older one succeeds and deletes nothing, as AWS documents. */
  delete(queue: FakeQueue, receiptHandle: string): void {
    const message = this.messageOf(queue, receiptHandle);
    if (message?.receiptHandle === receiptHandle) queue.messages.delete(message.messageId);
  }

  /** ChangeMessageVisibility: from now, for the message of the latest handle while it is in flight. */
  changeVisibility(queue: FakeQueue, receiptHandle: string, visibilitySeconds: number): void {
    if (!Number.isInteger(visibilitySeconds) || visibilitySeconds < 0 || visibilitySeconds > MAX_VISIBILITY) {
      throw invalidParameterValue(
        `Value ${visibilitySeconds} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= ${MAX_VISIBILITY}, if provided.`,
      );
    }
    const message = this.messageOf(queue, receiptHandle);
    if (!message || message.receiptHandle !== receiptHandle) throw sqsErrors.receiptHandleExpired(receiptHandle);
    if (message.visibleAt <= Date.now()) throw sqsErrors.messageNotInflight();
    this.hideUntil(queue, message, Date.now() + visibilitySeconds * this.timing.msPerSecond);
  }

  /** Visible, in flight (received, not yet visible again) and delayed (never received, not yet visible). */
  counts(queue: FakeQueue): { visible: number; inFlight: number; delayed: number } {
    const now = Date.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) visible += 1;
      else if (m.receiveCount > 0) inFlight += 1;
      else delayed += 1;
    }
    return { visible, inFlight, delayed };
  }

  redrivePolicy(queue: FakeQueue): RedrivePolicy | undefined {
    const raw = queue.attributes.get('RedrivePolicy');
    return raw === undefined || raw === '' ? undefined : parseRedrivePolicy(raw);
  }

  /** The queue's resource policy: without one, no statement lets another principal (SNS, say) send to it. */
  queuePolicy(queue: FakeQueue): Policy {
    const raw = queue.attributes.get('Policy');
    return raw === undefined || raw === '' ? { Statement: [] } : parseQueuePolicy(raw);
  }

  /**
   * Whether the queue's policy lets a service (`sns.amazonaws.com`, `events.amazonaws.com`)
   * send to it on behalf of `sourceArn` (a topic, a rule), as AWS decides a service
   * principal's SendMessage: aws:SourceArn and aws:SourceAccount in the request context.
   */
  letsServiceSend(queue: FakeQueue, service: string, sourceArn: string): boolean {
    const call = {
      action: 'sqs:SendMessage',
      region: this.region,
      resources: [{ arn: queue.arn, tags: {} }],
      requestKeys: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceArn.split(':')[4]! },
    };
    return evaluate(this.queuePolicy(queue), call, { service }).decision === 'allowed';
  }

  /**
   * What the SNS and EventBridge consoles add when they aim a topic or a rule at a queue:
   * a statement (`sid`; one of that Sid already there is replaced, the others kept)
   * letting `service` send to the queue from `sourceArn`.
   */
  letServiceSend(queue: FakeQueue, sid: string, service: string, sourceArn: string): void {
    const statement: Statement = {
      Sid: sid,
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sqs:SendMessage',
      Resource: queue.arn,
      Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
    };
    const policy = this.queuePolicy(queue);
    const kept = policy.Statement.filter((s) => s.Sid !== sid);
    this.setAttributes(queue, { Policy: JSON.stringify({ Version: '2012-10-17', ...policy, Statement: [...kept, statement] }) });
  }

  /** Drops every queue and wakes every long poll (which then answers with no messages). */
  reset(): void {
    for (const queue of this.queues.values()) wake(queue);
    this.queues.clear();
    this.handles.clear();
    this.timers.clear();
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  private take(queue: FakeQueue, max: number, visibilitySeconds: number): ReceivedMessage[] {
    const now = Date.now();
    const redrive = this.redrivePolicy(queue);
    const out: ReceivedMessage[] = [];
    for (const message of [...queue.messages.values()]) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        const target = this.queueByArn(redrive.deadLetterTargetArn);
        // A missing target leaves the message where it is, as AWS does when the DLQ is deleted.
        if (target) {
          queue.messages.delete(message.messageId);
          this.enqueue(target, { ...message, receiptHandle: undefined, deadLetterQueueSourceArn: queue.arn });
          continue;
        }
      }
      const receiptHandle = `AQEB${randomBytes(96).toString('base64')}`;
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = receiptHandle;
      this.handles.set(receiptHandle, { queue, messageId: message.messageId });
      this.hideUntil(queue, message, now + visibilitySeconds * this.timing.msPerSecond);
      out.push({ message, receiptHandle });
    }
    return out;
  }

  private enqueue(queue: FakeQueue, message: QueueMessage): void {
    queue.messages.set(message.messageId, message);
    this.wakeAt(queue, message.visibleAt);
  }

  private hideUntil(queue: FakeQueue, message: QueueMessage, visibleAt: number): void {
    message.visibleAt = visibleAt;
    this.wakeAt(queue, visibleAt);
  }

  /** Long polls look again when a message becomes visible. */
  private wakeAt(queue: FakeQueue, at: number): void {
    const delay = at - Date.now();
    if (delay <= 0) wake(queue);
    else this.timers.later(delay, () => wake(queue));
  }

  private changeOrTimeout(queue: FakeQueue, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        queue.waiters.delete(done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      queue.waiters.add(done);
    });
  }

  /** The message a handle names in this queue (undefined once deleted); a foreign or made-up handle is refused. */
  private messageOf(queue: FakeQueue, receiptHandle: string): QueueMessage | undefined {
    const ref = this.handles.get(receiptHandle);
    if (!ref || ref.queue !== queue) throw sqsErrors.receiptHandleIsInvalid(receiptHandle);
    return queue.messages.get(ref.messageId);
  }

  private checkAttribute(key: string, value: string): string {
    const spec = SETTABLE[key];
    if (!spec) throw sqsErrors.invalidAttributeName(key);
    if (key === 'RedrivePolicy') {
      if (value === '') return value;
      const policy = parseRedrivePolicy(value);
      if (!this.queueByArn(policy.deadLetterTargetArn)) {
        throw invalidParameterValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`);
      }
      return value;
    }
    if (key === 'Policy') {
      if (value !== '') parseQueuePolicy(value);
      return value;
    }
    if (spec.min !== undefined && spec.max !== undefined) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < spec.min || n > spec.max) {
        throw invalidAttributeValue(`Invalid value for the parameter ${key}.`);
      }
    }
    return value;
  }
}

/** `{"deadLetterTargetArn": "...", "maxReceiveCount": "5"}`: the count may be a string or a number, 1–1000. */
export function parseRedrivePolicy(raw: string): RedrivePolicy {
  const invalid = (reason: string) => invalidParameterValue(`Value ${raw} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const count = Number(p.maxReceiveCount);
  if (typeof p.deadLetterTargetArn !== 'string') throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw invalid('Invalid value for maxReceiveCount: must be between 1 and 1000.');
  return { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: count };
}

/**
 * A queue policy as SQS takes it: a JSON object whose Statement is one statement or a
 * list of them (given back as a list). What is inside a statement is left to the evaluator.
 */
export function parseQueuePolicy(raw: string): Policy {
  const invalid = () => invalidAttributeValue('Invalid value for the parameter Policy.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid();
  }
  if (!isObject(parsed)) throw invalid();
  const statements: unknown[] = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  if (statements.some((s) => !isObject(s))) throw invalid();
  const policy = { ...parsed, Statement: statements } as Policy;
  // AWS takes these; the fake's deliveries could not decide on them, so it says so when the policy is set.
  try {
    for (const statement of policy.Statement) refuseUnsupported(statement);
  } catch (err) {
    throw invalidAttributeValue(`Invalid value for the parameter Policy. (The fake SQS: ${(err as Error).message}.)`);
  }
  return policy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Outside what SQS allows in a body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. */
// eslint-disable-next-line no-control-regex
const INVALID_BODY_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function wake(queue: FakeQueue): void {
  for (const waiter of [...queue.waiters]) waiter();
}
