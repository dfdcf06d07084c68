import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** One SQS second lasts 10 ms: the default 30 s visibility is 0.3 s, a 20 s long poll 0.2 s. */
const MS_PER_SECOND = 10;

describe('fake SQS through the real SQSClient', () => {
  let aws: FakeAws;
  let sqs: SQSClient;

  before(async () => {
    aws = await startFakeAws({ sqsTiming: { msPerSecond: MS_PER_SECOND } });
    sqs = new SQSClient(fakeAwsClientConfig(aws));
  });
  after(async () => {
    sqs.destroy();
    await aws.close();
  });
  afterEach(() => aws.sqs.reset());

  const createQueue = async (name: string, attributes?: Record<string, string>): Promise<string> =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  const receive = async (queueUrl: string, input: { wait?: number; visibility?: number; max?: number } = {}): Promise<Message[]> =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          WaitTimeSeconds: input.wait ?? 20,
          VisibilityTimeout: input.visibility,
          MaxNumberOfMessages: input.max,
          MessageSystemAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];
  const counts = async (queueUrl: string): Promise<[number, number]> => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return [Number(out.Attributes!.ApproximateNumberOfMessages), Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible)];
  };

  describe('queues', () => {
    it('creates a queue idempotently, finds its URL, and refuses the same name with other attributes', async () => {
      const url = await createQueue('intake', { VisibilityTimeout: '60' });
      assert.equal(url, `${aws.url}/${aws.accountId}/intake`);
      assert.equal(await createQueue('intake', { VisibilityTimeout: '60' }), url);
      assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'intake' }))).QueueUrl, url);
      const clash = await failure(createQueue('intake', { VisibilityTimeout: '10' }));
      assert.deepEqual([clash.name, clash.status], ['QueueNameExists', 400]);
      const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
      assert.equal(attributes.QueueArn, `arn:aws:sqs:${aws.region}:${aws.accountId}:intake`);
      assert.equal(attributes.VisibilityTimeout, '60');
      assert.equal(attributes.ApproximateNumberOfMessages, '0');
    });

    it('answers QueueDoesNotExist for an unknown queue and InvalidAttributeName for an unknown attribute', async () => {
      const missing = await failure(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })));
      assert.deepEqual([missing.name, missing.status], ['QueueDoesNotExist', 400]);
      const send = await failure(sqs.send(new SendMessageCommand({ QueueUrl: `${aws.url}/${aws.accountId}/nope`, MessageBody: 'x' })));
      assert.equal(send.name, 'QueueDoesNotExist');
      const attribute = await failure(createQueue('q', { Colour: 'blue' }));
      assert.equal(attribute.name, 'InvalidAttributeName');
    });

    it('refuses a redrive policy whose dead-letter queue does not exist', async () => {
      const url = await createQueue('q');
      const policy = JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${aws.region}:${aws.accountId}:missing`, maxReceiveCount: 3 });
      const refused = await failure(sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: policy } })));
      assert.equal(refused.name, 'InvalidParameterValue');
    });

    it('keeps a Policy that is a JSON object with a Statement (one or a list) and refuses any other, as InvalidAttributeValue', async () => {
      const statement = { Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*' };
      const url = await createQueue('q', { Policy: JSON.stringify({ Statement: [statement] }) });
      const single = JSON.stringify({ Version: '2012-10-17', Statement: statement });
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: single } }));
      assert.equal((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy'] }))).Attributes?.Policy, single);
      for (const bad of ['{"Statement": [', '[]', 'null', '{"Version": "2012-10-17"}', '{"Statement": "allow"}', '{"Statement": [1]}']) {
        const refused = await failure(sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: bad } })));
        assert.deepEqual([refused.name, refused.status, refused.message], ['InvalidAttributeValue', 400, 'Invalid value for the parameter Policy.'], bad);
      }
      assert.equal((await failure(createQueue('other', { Policy: '{}' }))).name, 'InvalidAttributeValue');
      assert.equal(aws.sqs.queue('other'), undefined);
    });

    it('refuses, when it is set, a Policy the fake could not decide a delivery on (NotPrincipal, NotAction, NotResource), naming the element', async () => {
      const url = await createQueue('q');
      const negated = { Effect: 'Deny', NotPrincipal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*' };
      const refused = await failure(sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify({ Statement: [negated] }) } })));
      assert.equal(refused.name, 'InvalidAttributeValue');
      assert.match(refused.message, /NotPrincipal/);
    });
  });

  describe('messages', () => {
    it('sends, receives (the SDK checks the MD5) and deletes; the receive count is a system attribute', async () => {
      const url = await createQueue('q');
      const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"hello":"wörld"}' }));
      assert.match(sent.MessageId!, /^[0-9a-f-]{36}$/);
      assert.deepEqual(await counts(url), [1, 0]);
      const [m] = await receive(url);
      assert.equal(m!.MessageId, sent.MessageId);
      assert.equal(m!.Body, '{"hello":"wörld"}');
      assert.equal(m!.Attributes!.ApproximateReceiveCount, '1');
      assert.ok(Number(m!.Attributes!.SentTimestamp) > 0);
      assert.deepEqual(await counts(url), [0, 1]);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle! }));
      assert.deepEqual(await counts(url), [0, 0]);
      // Deleting again with the same handle is no error.
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle! }));
    });

    it('gives up to MaxNumberOfMessages at once and refuses more than 10', async () => {
      const url = await createQueue('q');
      for (let i = 0; i < 5; i++) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
      assert.equal((await receive(url, { max: 3 })).length, 3);
      const tooMany = await failure(receive(url, { max: 11 }));
      assert.deepEqual([tooMany.name, tooMany.status], ['InvalidParameterValue', 400]);
    });

    it('long polling: a receive waiting on an empty queue returns the message sent meanwhile; an idle one returns none', async () => {
      const url = await createQueue('q');
      assert.deepEqual(await receive(url, { wait: 1 }), []);
      const waiting = receive(url, { wait: 20 });
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
      assert.deepEqual((await waiting).map((m) => m.Body), ['late']);
    });

    it('a message not deleted comes back after its visibility timeout with a new handle; only the newest handle deletes', async () => {
      const url = await createQueue('q');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
      const [first] = await receive(url, { visibility: 1 });
      const [second] = await receive(url);
      assert.equal(second!.MessageId, first!.MessageId);
      assert.notEqual(second!.ReceiptHandle, first!.ReceiptHandle);
      assert.equal(second!.Attributes!.ApproximateReceiveCount, '2');
      // The stale handle is accepted and deletes nothing, as AWS documents for standard queues.
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle! }));
      assert.deepEqual(await counts(url), [0, 1]);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second!.ReceiptHandle! }));
      assert.deepEqual(await counts(url), [0, 0]);
    });

    it('refuses a made-up receipt handle and one from another queue', async () => {
      const a = await createQueue('a');
      const b = await createQueue('b');
      const made = await failure(sqs.send(new DeleteMessageCommand({ QueueUrl: a, ReceiptHandle: 'AQEBnonsense' })));
      assert.deepEqual([made.name, made.status], ['ReceiptHandleIsInvalid', 404]);
      await sqs.send(new SendMessageCommand({ QueueUrl: b, MessageBody: 'b' }));
      const [m] = await receive(b);
      const foreign = await failure(sqs.send(new DeleteMessageCommand({ QueueUrl: a, ReceiptHandle: m!.ReceiptHandle! })));
      assert.equal(foreign.name, 'ReceiptHandleIsInvalid');
    });

    it('ChangeMessageVisibility hides a message longer or releases it at once; stale handles and visible messages are refused', async () => {
      const url = await createQueue('q');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'work' }));
      const [m] = await receive(url, { visibility: 1 });
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 600 }));
      // Well past the first timeout (1 s) the message is still hidden: the extension held.
      assert.deepEqual(await receive(url, { wait: 5 }), []);
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 0 }));
      const [back] = await receive(url, { visibility: 600 });
      assert.equal(back!.MessageId, m!.MessageId);
      const stale = await failure(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 10 })));
      assert.equal(stale.name, 'InvalidParameterValue');
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: back!.ReceiptHandle!, VisibilityTimeout: 0 }));
      const notInFlight = await failure(
        sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: back!.ReceiptHandle!, VisibilityTimeout: 10 })),
      );
      assert.equal(notInFlight.name, 'MessageNotInflight');
    });

    it('an injected fault reaches the SDK as an SQS error, and the message is still there afterwards', async () => {
      const url = await createQueue('q');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'kept' }));
      const [m] = await receive(url);
      aws.faults.set('SQS', 'DeleteMessage', { failNext: 1, code: 'InternalError', status: 500 });
      const failed = await failure(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle! })));
      aws.faults.clear();
      assert.deepEqual([failed.name, failed.status], ['InternalError', 500]);
      assert.deepEqual(await counts(url), [0, 1]);
    });

    it('moves a message to the dead-letter queue once it was received maxReceiveCount times', async () => {
      const dlqUrl = await createQueue('intake-dlq');
      const dlqArn = `arn:aws:sqs:${aws.region}:${aws.accountId}:intake-dlq`;
      const url = await createQueue('intake', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '2' }) });
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
      assert.equal((await receive(url, { visibility: 0 }))[0]?.Attributes?.ApproximateReceiveCount, '1');
      assert.equal((await receive(url, { visibility: 0 }))[0]?.Attributes?.ApproximateReceiveCount, '2');
      assert.deepEqual(await receive(url, { wait: 1 }), []);
      const [dead] = await receive(dlqUrl);
      assert.equal(dead!.Body, 'poison');
      assert.equal(dead!.Attributes!.DeadLetterQueueSourceArn, `arn:aws:sqs:${aws.region}:${aws.accountId}:intake`);
      assert.deepEqual(await counts(url), [0, 0]);
    });
  });

  describe('SNS subscriptions', () => {
    const verifies = async (envelope: Record<string, string>): Promise<boolean> => {
      const keys = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
      const canonical = keys.filter((k) => envelope[k] !== undefined).map((k) => `${k}\n${envelope[k]}\n`).join('');
      const cert = await (await fetch(envelope.SigningCertURL!)).text();
      return createVerify('RSA-SHA1').update(canonical, 'utf8').verify(cert, envelope.Signature!, 'base64');
    };

    it('delivers the signed SNS envelope to a subscribed queue', async () => {
      const url = await createQueue('from-sns');
      const topic = aws.sns.createTopic('asg');
      aws.sns.subscribeQueue(topic, aws.sqs.queue('from-sns')!.arn);
      const messageId = aws.sns.publish(topic, '{"Event":"autoscaling:TEST_NOTIFICATION"}', 'Auto Scaling: test');
      await aws.sns.idle();
      const [m] = await receive(url);
      const envelope = JSON.parse(m!.Body!) as Record<string, string>;
      assert.equal(envelope.Type, 'Notification');
      assert.equal(envelope.MessageId, messageId);
      assert.equal(envelope.TopicArn, topic);
      assert.equal(envelope.Message, '{"Event":"autoscaling:TEST_NOTIFICATION"}');
      assert.ok(await verifies(envelope), 'the envelope verifies with the signing certificate');
    });

    it('carries a group’s Auto Scaling notifications through SNS into the queue', async () => {
      const url = await createQueue('asg-notifications');
      const topic = aws.sns.createTopic('asg-notifications');
      aws.sns.subscribeQueue(topic, aws.sqs.queue('asg-notifications')!.arn);
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: ['us-east-1a'], maxSize: 1, desiredCapacity: 1, notifications: [{ topicArn: topic }] });
      const events: string[] = [];
      await waitFor(async () => {
        for (const m of await receive(url, { max: 10 })) {
          events.push(String((JSON.parse((JSON.parse(m.Body!) as Record<string, string>).Message!) as Record<string, unknown>).Event));
          await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
        }
        return events.length >= 2;
      }, 'the test notification and the launch in the queue');
      assert.deepEqual(events, ['autoscaling:TEST_NOTIFICATION', 'autoscaling:EC2_INSTANCE_LAUNCH']);
      aws.autoScaling.reset();
    });

    it('delivers the bare message with RawMessageDelivery', async () => {
      const url = await createQueue('raw');
      const topic = aws.sns.createTopic('asg-raw');
      aws.sns.subscribeQueue(topic, aws.sqs.queue('raw')!.arn, { rawMessageDelivery: true });
      aws.sns.publish(topic, '{"Event":"autoscaling:TEST_NOTIFICATION"}', 'ignored in raw delivery');
      await aws.sns.idle();
      assert.deepEqual((await receive(url)).map((m) => m.Body), ['{"Event":"autoscaling:TEST_NOTIFICATION"}']);
    });

    it('subscribeQueue adds to the queue policy the statement the console adds, keeping the others; with queuePolicy: false, SNS is refused', async () => {
      const own = { Sid: 'owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${aws.accountId}:root` }, Action: 'sqs:*', Resource: '*' };
      const url = await createQueue('wired', { Policy: JSON.stringify({ Version: '2012-10-17', Statement: own }) });
      const queue = aws.sqs.queue('wired')!;
      const topic = aws.sns.createTopic('asg-wired');
      const sub = aws.sns.subscribeQueue(topic, queue.arn);
      assert.equal(aws.sns.subscribeQueue(topic, queue.arn), sub, 'wiring it again changes nothing');
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy'] }));
      assert.deepEqual(JSON.parse(Attributes!.Policy!), {
        Version: '2012-10-17',
        Statement: [
          own,
          {
            Sid: `topic-subscription-${topic}`,
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queue.arn,
            Condition: { ArnEquals: { 'aws:SourceArn': topic } },
          },
        ],
      });
      aws.sns.publish(topic, 'let in');
      await aws.sns.idle();
      assert.deepEqual((await receive(url)).map((m) => (JSON.parse(m.Body!) as Record<string, string>).Message), ['let in']);

      const unwired = aws.sns.createTopic('asg-unwired');
      aws.sns.subscribeQueue(unwired, queue.arn, { queuePolicy: false });
      aws.sns.publish(unwired, 'kept out');
      await aws.sns.idle();
      assert.equal(aws.sns.deliveries.at(-1)!.status, 'denied');
      assert.deepEqual(await receive(url, { wait: 1 }), []);
    });
  });
});
