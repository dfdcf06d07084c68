import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { testTls } from '../../fake-aws/tls/index.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A subscriber that records deliveries and answers with the statuses it is told to. */
class Receiver {
  readonly received: { headers: Record<string, string | string[] | undefined>; body: Record<string, string> }[] = [];
  statuses: number[] = [];
  hang = false;
  url = '';
  private server: Server | undefined;

  /** `https` serves with the test CA's localhost certificate, as a subscriber behind TLS would. */
  async start(scheme: 'http' | 'https' = 'http'): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: JSON.parse(raw) as Record<string, string> });
        if (this.hang) return;
        res.writeHead(this.statuses.shift() ?? 200).end();
      });
    };
    this.server = scheme === 'https' ? createHttpsServer({ cert: testTls.localhostCert, key: testTls.localhostKey }, handler) : createServer(handler);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const host = scheme === 'https' ? 'localhost' : '127.0.0.1';
    this.url = `${scheme}://${host}:${(this.server.address() as AddressInfo).port}/sns`;
    return this;
  }

  close(): Promise<void> {
    this.server!.closeAllConnections();
    return new Promise((r) => this.server!.close(() => r()));
  }
}

describe('fake SNS deliveries', () => {
  let aws: FakeAws;
  let rx: Receiver;
  let topic: string;

  beforeEach(async () => {
    aws = await startFakeAws();
    aws.sns.policy = { retries: 3, retryDelayMs: 10, timeoutMs: 200 };
    rx = await new Receiver().start();
    topic = aws.sns.createTopic('t');
  });
  afterEach(async () => {
    await aws.close();
    await rx.close();
  });

  async function subscribeAndConfirm(): Promise<void> {
    aws.sns.subscribe(topic, rx.url);
    await aws.sns.idle();
    const confirmation = rx.received.shift()!;
    assert.equal(confirmation.body.Type, 'SubscriptionConfirmation');
    assert.equal((await fetch(confirmation.body.SubscribeURL!)).status, 200);
  }

  it('sends a SubscriptionConfirmation and delivers only once the SubscribeURL was visited', async () => {
    aws.sns.subscribe(topic, rx.url);
    await aws.sns.idle();
    aws.sns.publish(topic, 'before confirmation');
    await aws.sns.idle();
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0]!.body.Type, 'SubscriptionConfirmation');
    await fetch(rx.received[0]!.body.SubscribeURL!);
    rx.received.length = 0;
    const id = aws.sns.publish(topic, 'hello', 'subject');
    await aws.sns.idle();
    assert.equal(rx.received.length, 1);
    const { headers, body } = rx.received[0]!;
    assert.equal(body.MessageId, id);
    assert.equal(body.Message, 'hello');
    assert.equal(headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(headers['x-amz-sns-message-type'], 'Notification');
    assert.equal(headers['x-amz-sns-message-id'], id);
    assert.equal(headers['x-amz-sns-topic-arn'], topic);
    assert.match(String(headers['x-amz-sns-subscription-arn']), new RegExp(`^${topic}:`));
  });

  it('retries on 5xx with the same MessageId, and stops after the policy’s retries', async () => {
    await subscribeAndConfirm();
    rx.statuses = [500, 502, 503, 500, 500];
    aws.sns.publish(topic, 'm');
    await aws.sns.idle();
    assert.equal(rx.received.length, 4, 'one attempt and three retries');
    assert.equal(new Set(rx.received.map((r) => r.body.MessageId)).size, 1);
    assert.equal(aws.sns.deliveries.at(-1)!.attempts, 4);
  });

  it('counts any 4xx as delivered and does not retry it, as SNS does', async () => {
    await subscribeAndConfirm();
    rx.statuses = [403];
    aws.sns.publish(topic, 'm');
    await aws.sns.idle();
    assert.equal(rx.received.length, 1);
    assert.equal(aws.sns.deliveries.at(-1)!.status, 403);
  });

  it('retries a delivery that times out', async () => {
    await subscribeAndConfirm();
    rx.hang = true;
    aws.sns.publish(topic, 'm');
    await aws.sns.idle();
    assert.equal(rx.received.length, 4);
    assert.equal(aws.sns.deliveries.at(-1)!.status, 'timeout');
  });

  it('with chaos, duplicates and drops messages, repeatably for a seed', async () => {
    await subscribeAndConfirm();
    const run = async (seed: number) => {
      aws.sns.reseed(seed);
      aws.sns.chaos = { duplicateRate: 0.3, dropRate: 0.2, delayMs: [0, 5] };
      rx.received.length = 0;
      const ids = Array.from({ length: 40 }, (_, i) => aws.sns.publish(topic, `m${i}`));
      await aws.sns.idle();
      return { ids, got: rx.received.map((r) => r.body.Message) };
    };
    const a = await run(7);
    const b = await run(7);
    assert.deepEqual([...a.got].sort(), [...b.got].sort(), 'same seed, same deliveries');
    const counts = new Map<string, number>();
    for (const m of a.got) counts.set(m!, (counts.get(m!) ?? 0) + 1);
    assert.ok([...counts.values()].some((n) => n === 2), 'some messages arrive twice');
    assert.ok(counts.size < 40, 'some messages are lost');
  });

  it('signs with the version it is set to, and tells the endpoint when unsubscribed', async () => {
    aws.sns.signatureVersion = '2';
    const sub = aws.sns.subscribe(topic, rx.url);
    await aws.sns.idle();
    assert.equal(rx.received[0]!.body.SignatureVersion, '2');
    aws.sns.unsubscribe(sub.arn);
    await aws.sns.idle();
    assert.equal(rx.received[1]!.body.Type, 'UnsubscribeConfirmation');
    assert.equal(aws.sns.listSubscriptions().length, 0);
  });
});

/**
 * SNS's wire codes (`InvalidParameter`, `NotFound`) are mapped by the SDK's model to its
 * exception classes (`InvalidParameterException`, `NotFoundException`); an unknown wire
 * code would surface under its own name, so these names prove the codes.
 */
describe('fake SNS API through the real SNSClient', () => {
  let aws: FakeAws;
  let sns: SNSClient;
  let rx: Receiver;

  beforeEach(async () => {
    aws = await startFakeAws();
    sns = new SNSClient(fakeAwsClientConfig(aws));
    rx = await new Receiver().start('https');
  });
  afterEach(async () => {
    sns.destroy();
    await aws.close();
    await rx.close();
  });

  it('CreateTopic is idempotent by name and refuses a bad name; ListTopics lists it', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }));
    assert.equal(TopicArn, `arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper`);
    assert.equal((await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }))).TopicArn, TopicArn);
    const bad = await failure(sns.send(new CreateTopicCommand({ Name: 'no spaces' })));
    assert.deepEqual([bad.name, bad.status], ['InvalidParameterException', 400]);
    assert.deepEqual((await sns.send(new ListTopicsCommand({}))).Topics?.map((t) => t.TopicArn), [TopicArn]);
  });

  it('Subscribe of an https endpoint goes through the confirmation flow; subscribing again changes nothing', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }));
    const first = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: rx.url }));
    assert.equal(first.SubscriptionArn, 'pending confirmation');
    await waitFor(() => rx.received.length === 1, 'the SubscriptionConfirmation');
    const confirmation = rx.received[0]!.body;
    assert.equal(confirmation.Type, 'SubscriptionConfirmation');
    const listed = async () => (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions ?? [];
    assert.deepEqual(
      (await listed()).map((s) => [s.SubscriptionArn, s.Protocol, s.Endpoint, s.Owner, s.TopicArn]),
      [['PendingConfirmation', 'https', rx.url, aws.accountId, TopicArn]],
    );

    assert.equal((await fetch(confirmation.SubscribeURL!)).status, 200);
    const [confirmed] = await listed();
    assert.match(confirmed?.SubscriptionArn ?? '', new RegExp(`^${TopicArn}:`));

    const again = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: rx.url }));
    assert.equal(again.SubscriptionArn, confirmed?.SubscriptionArn);
    assert.equal((await listed()).length, 1);
    aws.sns.publish(TopicArn!, 'hello');
    await aws.sns.idle();
    assert.deepEqual(rx.received.map((r) => r.body.Type), ['SubscriptionConfirmation', 'Notification']);
  });

  it('a pending subscription asked for again gets its confirmation again', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: rx.url }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: rx.url }));
    await aws.sns.idle();
    assert.deepEqual(rx.received.map((r) => r.body.Type), ['SubscriptionConfirmation', 'SubscriptionConfirmation']);
    assert.equal(aws.sns.listSubscriptions().length, 1);
  });

  it('refuses an unknown topic (NotFound, 404), an unknown protocol and an endpoint of another scheme', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }));
    const missing = `arn:aws:sns:${aws.region}:${aws.accountId}:nope`;
    const notFound = await failure(sns.send(new SubscribeCommand({ TopicArn: missing, Protocol: 'https', Endpoint: rx.url })));
    assert.deepEqual([notFound.name, notFound.status], ['NotFoundException', 404]);
    assert.equal((await failure(sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: missing })))).name, 'NotFoundException');
    assert.equal((await failure(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'carrier-pigeon', Endpoint: rx.url })))).name, 'InvalidParameterException');
    assert.equal((await failure(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: rx.url })))).name, 'InvalidParameterException');
    assert.equal(aws.sns.listSubscriptions().length, 0);
  });

  it('creates and subscribes are the mutating calls counted; lists are not', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pairkeeper' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: rx.url }));
    await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    await sns.send(new ListTopicsCommand({}));
    assert.deepEqual(aws.faults.mutatingCalls(), { 'SNS:CreateTopic': 1, 'SNS:Subscribe': 1 });
    assert.equal(aws.faults.count('SNS', 'ListSubscriptionsByTopic'), 1);
  });
});

/**
 * SNS sends to a queue as the service principal sns.amazonaws.com, so the queue's own
 * policy decides; Subscribe itself never writes that policy. A delivery the policy
 * refuses is lost without an error anywhere, as on AWS, and recorded as 'denied'.
 */
describe('fake SNS into an SQS queue through the real clients', () => {
  let aws: FakeAws;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  let queueUrl: string;
  let queueArn: string;

  beforeEach(async () => {
    aws = await startFakeAws();
    sns = new SNSClient(fakeAwsClientConfig(aws));
    sqs = new SQSClient(fakeAwsClientConfig(aws));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'asg' }))).TopicArn!;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'intake' }))).QueueUrl!;
    queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  });
  afterEach(async () => {
    sns.destroy();
    sqs.destroy();
    await aws.close();
  });

  const subscribe = (attributes?: Record<string, string>) =>
    sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: attributes }));
  const setPolicy = (...statements: object[]) =>
    sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) } }));
  const snsMaySend = (sourceArn = topicArn) => ({
    Sid: 'sns-may-send',
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
  });
  /** Publishes one message: what the queue then holds and how SNS recorded the delivery. */
  const publish = async (): Promise<{ bodies: string[]; status: unknown }> => {
    aws.sns.publish(topicArn, 'hello');
    await aws.sns.idle();
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    return { bodies: (Messages ?? []).map((m) => m.Body!), status: aws.sns.deliveries.at(-1)?.status };
  };

  it('Subscribe confirms a queue of the account at once and leaves its policy alone: without one, nothing is enqueued', async () => {
    const { SubscriptionArn } = await subscribe();
    assert.match(SubscriptionArn ?? '', new RegExp(`^${topicArn}:`));
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    assert.deepEqual(Subscriptions?.map((s) => [s.SubscriptionArn, s.Protocol, s.Endpoint]), [[SubscriptionArn, 'sqs', queueArn]]);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['Policy'] }));
    assert.equal(Attributes?.Policy, undefined);
    assert.deepEqual(await publish(), { bodies: [], status: 'denied' });
  });

  it('delivers once SetQueueAttributes gives the queue a policy that lets the topic send', async () => {
    await subscribe();
    await setPolicy(snsMaySend());
    const { bodies, status } = await publish();
    assert.equal(status, 'enqueued');
    assert.deepEqual(bodies.map((b) => (JSON.parse(b) as Record<string, string>).Message), ['hello']);
  });

  it('a policy whose aws:SourceArn names another topic lets nothing in', async () => {
    await subscribe();
    await setPolicy(snsMaySend(aws.sns.topicArnOf('other')));
    assert.deepEqual(await publish(), { bodies: [], status: 'denied' });
  });

  it('an explicit Deny beside the Allow wins', async () => {
    await subscribe();
    await setPolicy(snsMaySend(), { Sid: 'no-sns', Effect: 'Deny', Principal: '*', Action: 'sqs:SendMessage', Resource: queueArn });
    assert.deepEqual(await publish(), { bodies: [], status: 'denied' });
  });

  it('takes RawMessageDelivery "true" or "false" only; subscribing again answers the same subscription, unless the attributes differ', async () => {
    await setPolicy(snsMaySend());
    const { SubscriptionArn } = await subscribe({ RawMessageDelivery: 'true' });
    assert.deepEqual((await publish()).bodies, ['hello']);
    assert.equal((await subscribe({ RawMessageDelivery: 'true' })).SubscriptionArn, SubscriptionArn);
    assert.equal((await failure(subscribe({ RawMessageDelivery: 'false' }))).name, 'InvalidParameterException');
    assert.equal((await failure(subscribe({ RawMessageDelivery: 'yes' }))).name, 'InvalidParameterException');
    assert.equal((await failure(subscribe({ FilterPolicy: '{}' }))).name, 'InvalidParameterException');
    assert.equal(aws.sns.listSubscriptions().length, 1);
  });

  it('refuses a queue ARN the fake SQS does not have (InvalidParameter)', async () => {
    const refused = await failure(sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: `${queueArn}-missing` })));
    assert.deepEqual([refused.name, refused.status, refused.message], ['InvalidParameterException', 400, 'Invalid parameter: SQS endpoint ARN']);
    assert.equal(aws.sns.listSubscriptions().length, 0);
  });
});
