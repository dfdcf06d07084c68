import { NO_RESOURCES } from '../call-recorder.ts';
import { FakeAwsError } from '../errors.ts';
import type { JsonService } from '../protocol.ts';
import { invalidParameterValue, SqsError, sqsErrors } from './errors.ts';
import type { FakeSqs, QueueMessage, ReceivedMessage } from './fake-sqs.ts';

/**
 * The fake SQS on the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.ReceiveMessage`),
 * which @aws-sdk/client-sqs speaks since it left the Query protocol; errors are
 * written query-compatible (see errors.ts).
 */
type Body = Record<string, unknown>;
type Handler = (sqs: FakeSqs, body: Body) => unknown;

/** The message system attributes ReceiveMessage can return; `All` asks for every one. */
const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SentTimestamp', 'SenderId', 'DeadLetterQueueSourceArn'] as const;

const handlers: Record<string, Handler> = {
  CreateQueue(sqs, body) {
    const queue = sqs.createQueue(requiredText(body, 'QueueName'), stringMap(body.Attributes, 'Attributes'));
    return { QueueUrl: sqs.urlOf(queue) };
  },

  GetQueueUrl(sqs, body) {
    const queue = sqs.queue(requiredText(body, 'QueueName'));
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return { QueueUrl: sqs.urlOf(queue) };
  },

  GetQueueAttributes(sqs, body) {
    const queue = sqs.queueByUrl(requiredText(body, 'QueueUrl'));
    const counts = sqs.counts(queue);
    const all: Record<string, string> = {
      ...Object.fromEntries(queue.attributes),
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
    };
    const names = stringList(body.AttributeNames, 'AttributeNames');
    if (names.includes('All')) return { Attributes: all };
    for (const name of names) if (!(name in all) && !KNOWN_QUEUE_ATTRIBUTES.has(name)) throw sqsErrors.invalidAttributeName(name);
    const picked = Object.fromEntries(names.filter((n) => n in all).map((n) => [n, all[n]!]));
    return Object.keys(picked).length === 0 ? {} : { Attributes: picked };
  },

  SetQueueAttributes(sqs, body) {
    sqs.setAttributes(sqs.queueByUrl(requiredText(body, 'QueueUrl')), stringMap(body.Attributes, 'Attributes'));
    return {};
  },

  SendMessage(sqs, body) {
    const queue = sqs.queueByUrl(requiredText(body, 'QueueUrl'));
    const messageBody = requiredText(body, 'MessageBody');
    const message = sqs.send(queue, messageBody, optionalInteger(body, 'DelaySeconds'));
    return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
  },

  async ReceiveMessage(sqs, body) {
    const queue = sqs.queueByUrl(requiredText(body, 'QueueUrl'));
    const max = optionalInteger(body, 'MaxNumberOfMessages') ?? 1;
    if (max < 1 || max > 10) {
      throw invalidParameterValue(`Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
    }
    const waitSeconds = optionalInteger(body, 'WaitTimeSeconds');
    if (waitSeconds !== undefined && (waitSeconds < 0 || waitSeconds > 20)) {
      throw invalidParameterValue(`Value ${waitSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`);
    }
    const visibilitySeconds = optionalInteger(body, 'VisibilityTimeout');
    if (visibilitySeconds !== undefined && (visibilitySeconds < 0 || visibilitySeconds > 43_200)) {
      throw invalidParameterValue(`Value ${visibilitySeconds} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.`);
    }
    // Both the deprecated AttributeNames and MessageSystemAttributeNames select system attributes.
    const wanted = new Set([...stringList(body.AttributeNames, 'AttributeNames'), ...stringList(body.MessageSystemAttributeNames, 'MessageSystemAttributeNames')]);
    const received = await sqs.receive(queue, {
      max,
      ...(visibilitySeconds === undefined ? {} : { visibilitySeconds }),
      ...(waitSeconds === undefined ? {} : { waitSeconds }),
    });
    // SQS leaves Messages out of an empty answer.
    return received.length === 0 ? {} : { Messages: received.map((r) => messageJson(r, wanted, sqs.accountId)) };
  },

  DeleteMessage(sqs, body) {
    sqs.delete(sqs.queueByUrl(requiredText(body, 'QueueUrl')), requiredText(body, 'ReceiptHandle'));
    return {};
  },

  ChangeMessageVisibility(sqs, body) {
    const queue = sqs.queueByUrl(requiredText(body, 'QueueUrl'));
    const timeout = optionalInteger(body, 'VisibilityTimeout');
    if (timeout === undefined) throw sqsErrors.missingParameter('VisibilityTimeout');
    sqs.changeVisibility(queue, requiredText(body, 'ReceiptHandle'), timeout);
    return {};
  },
};

/** Attributes a queue may lack (no redrive policy, no access policy): asking for them is no error. */
const KNOWN_QUEUE_ATTRIBUTES = new Set(['RedrivePolicy', 'Policy', 'RedriveAllowPolicy', 'KmsMasterKeyId', 'SqsManagedSseEnabled', 'FifoQueue']);

export function createSqsService(sqs: FakeSqs): JsonService {
  return {
    kind: 'json',
    name: 'SQS',
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
    iamPrefix: 'sqs',
    // Every queue call is authorized against the queue named by its QueueUrl.
    callResources(_action, body) {
      const queue = typeof body.QueueUrl === 'string' ? sqs.queueByUrlOrUndefined(body.QueueUrl) : undefined;
      return queue ? { resources: [{ arn: queue.arn, tags: {} }], requestKeys: {} } : NO_RESOURCES;
    },
    handle(action, body) {
      const handler = handlers[action];
      if (!handler) throw new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `fake SQS does not implement ${action}`);
      return handler(sqs, body);
    },
    errorFields(error: FakeAwsError) {
      // Errors raised outside SQS's own code (injected faults) keep their code as the shape.
      const shape = error instanceof SqsError ? error.shape : error.code;
      return {
        type: `com.amazonaws.sqs#${shape}`,
        headers: { 'x-amzn-query-error': `${error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}` },
      };
    },
  };
}

function messageJson(r: ReceivedMessage, wanted: Set<string>, accountId: string): Body {
  const all = wanted.has('All');
  const attributes = Object.fromEntries(
    SYSTEM_ATTRIBUTES.filter((name) => all || wanted.has(name)).flatMap((name) => {
      const value = systemAttribute(r.message, name, accountId);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  return {
    MessageId: r.message.messageId,
    ReceiptHandle: r.receiptHandle,
    MD5OfBody: r.message.md5OfBody,
    Body: r.message.body,
    ...(Object.keys(attributes).length === 0 ? {} : { Attributes: attributes }),
  };
}

function systemAttribute(m: QueueMessage, name: (typeof SYSTEM_ATTRIBUTES)[number], accountId: string): string | undefined {
  switch (name) {
    case 'ApproximateReceiveCount':
      return String(m.receiveCount);
    case 'ApproximateFirstReceiveTimestamp':
      return m.firstReceiveTimestamp === undefined ? undefined : String(m.firstReceiveTimestamp);
    case 'SentTimestamp':
      return String(m.sentTimestamp);
    case 'SenderId':
      return accountId;
    case 'DeadLetterQueueSourceArn':
      return m.deadLetterQueueSourceArn;
  }
}

function requiredText(body: Body, name: string): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw sqsErrors.missingParameter(name);
  if (typeof value !== 'string') throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a string.`);
  return value;
}

function optionalInteger(body: Body, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be an integer.`);
  return value;
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a list of strings.`);
  return value as string[];
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a map of strings.`);
  }
  return value as Record<string, string>;
}
