import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';

/** A subscriber that records deliveries and answers with the statuses it is told to. */
class Receiver {
  readonly received: { headers: Record<string, string | string[] | undefined>; body: Record<string, string> }[] = [];
  statuses: number[] = [];
  hang = false;
  url = '';
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: JSON.parse(raw) as Record<string, string> });
        if (this.hang) return;
        res.writeHead(this.statuses.shift() ?? 200).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sns`;
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
