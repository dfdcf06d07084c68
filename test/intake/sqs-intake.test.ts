/**
 * The SQS intake end to end: Auto Scaling in the local AWS launches and terminates,
 * its messages reach a queue by each way AWS offers (SNS with its envelope, SNS with
 * raw delivery, an EventBridge rule), and pairkeeper long-polls the queue through the
 * real SQSClient. The same scaling converges to the same pairs as SNS over HTTP; a
 * forged envelope is refused and left to the redrive policy; a message handled but
 * not deleted (a crash before the delete) is handled again harmlessly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfigFor } from '../../fake-aws/clients.ts';
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import { assertInvariants, members, settle } from '../helpers/settle.ts';
import { waitFor, waitForValue } from '../helpers/wait-for.ts';
import { instanceRecord, worldsClosedAfterEach, type Intake, type World } from '../helpers/world.ts';

const start = worldsClosedAfterEach();

/** Messages visible and in flight in a queue. */
async function queueCounts(w: World, url: string): Promise<number> {
  const sqs = new SQSClient(clientConfigFor(w.aws.url, w.aws.region));
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(out.Attributes!.ApproximateNumberOfMessages) + Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible);
  } finally {
    sqs.destroy();
  }
}

/** Scales to 3, terminates one; returns what each pair ended up as, in words that do not depend on random ids. */
async function scaleOutAndIn(w: World): Promise<string[]> {
  w.aws.autoScaling.setDesiredCapacity('etcd', 3);
  const three = await settle(w, 3);
  assertInvariants(three);
  const gone = three.complete[0]!;
  w.aws.autoScaling.terminateInstance(gone.instanceId, true);
  await waitFor(async () => (await w.app.controller.claims()).length === 2, 'the terminated instance’s claim to be released');
  if (w.queue) await waitFor(async () => (await queueCounts(w, w.queue!.url)) === 0, 'the intake queue to be drained');
  const two = await settle(w, 2);
  assertInvariants(two);
  assert.equal(instanceRecord(w.app, gone.instanceId)?.status, 'released');
  const azOf = new Map(members(w).map((m) => [m.instanceId, m.availabilityZone]));
  const claims = await w.app.controller.claims('etcd');
  return [
    ...two.complete.map((h) => `${h.availabilityZone === azOf.get(h.instanceId) ? 'same-az' : 'other-az'} pair held by a member`),
    ...claims.map((c) => `claim ${c.state} by ${azOf.has(c.instanceId) ? 'a member' : 'a stranger'}`),
    `free ${two.free}`,
  ].sort();
}

describe('the SQS intake', () => {
  it('launches and terminates converge to the same pairs by SNS over HTTPS, SQS with the SNS envelope, SQS raw, and EventBridge', async () => {
    const outcomes = new Map<Intake, string[]>();
    for (const intake of ['sns', 'sqs-envelope', 'sqs-raw', 'eventbridge'] as const) {
      const w = await start({ intake });
      outcomes.set(intake, await scaleOutAndIn(w));
      const accepted = (await w.app.metrics.queueMessages.get()).values.filter((v) => v.labels.outcome === 'accepted');
      const format = { sns: undefined, 'sqs-envelope': 'sns-envelope', 'sqs-raw': 'raw', eventbridge: 'eventbridge' }[intake];
      const sqsCalls = (await w.app.metrics.awsCalls.get()).values.filter((v) => v.labels.service === 'sqs' && v.labels.outcome === 'ok');
      const sqsCount = (action: string) => sqsCalls.find((v) => v.labels.action === action)?.value ?? 0;
      if (format) {
        assert.ok(accepted.some((v) => v.labels.format === format && v.value > 0), `${intake}: events came through the queue as ${format}`);
        assert.ok(sqsCount('ReceiveMessage') > 0 && sqsCount('DeleteMessage') > 0, `${intake}: the queue's calls are counted in pairkeeper_aws_calls_total`);
      } else {
        assert.equal(accepted.length, 0, 'sns: no queue in play');
        assert.equal(sqsCalls.length, 0, 'sns: no queue calls');
      }
      await w.close();
    }
    const expected = outcomes.get('sns')!;
    assert.deepEqual(expected, ['claim claimed by a member', 'claim claimed by a member', 'free 4', 'same-az pair held by a member', 'same-az pair held by a member']);
    for (const [intake, outcome] of outcomes) assert.deepEqual(outcome, expected, intake);
  });

  it('a forged SNS envelope in the queue is refused, counted, never deleted, and reaches the dead-letter queue by its receive count', async () => {
    const w = await start({ intake: 'sqs-envelope' });
    const queue = w.queue!;
    // A genuine envelope, read from a second queue on the same topic, then altered: its signature no longer matches.
    const spy = w.aws.sqs.createQueue('spy');
    w.aws.sns.subscribeQueue(w.topicArn, spy.arn);
    const sqs = new SQSClient(clientConfigFor(w.aws.url, w.aws.region));
    try {
      w.aws.autoScaling.setDesiredCapacity('etcd', 1);
      await settle(w, 1);
      const [genuine] = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: w.aws.sqs.urlOf(spy), WaitTimeSeconds: 1 }))).Messages ?? [];
      const envelope = JSON.parse(genuine!.Body!) as Record<string, string>;
      const forgedInstance = 'i-0f0f0f0f0f0f0f0f0';
      const message = JSON.parse(envelope.Message!) as Record<string, unknown>;
      const forged = { ...envelope, Message: JSON.stringify({ ...message, EC2InstanceId: forgedInstance }) };
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(forged) }));

      await waitFor(async () => (await queueCounts(w, queue.deadLetterUrl)) === 1, 'the forged message to reach the dead-letter queue', 20_000);
      assert.equal(await queueCounts(w, queue.url), 0);
      const [dead] = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, WaitTimeSeconds: 1 }))).Messages ?? [];
      assert.deepEqual(JSON.parse(dead!.Body!), forged, 'the message itself went on, not deleted');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.deadLetterUrl, ReceiptHandle: dead!.ReceiptHandle! }));

      const refusals = w.logs.find('poison message left in the queue for its redrive policy');
      assert.equal(refusals.length, 3, 'refused at each of its 3 receives (maxReceiveCount), then moved by SQS');
      assert.deepEqual(refusals.map((l) => [l.code, l.receiveCount]), [['PK_SNS_BAD_SIGNATURE', 1], ['PK_SNS_BAD_SIGNATURE', 2], ['PK_SNS_BAD_SIGNATURE', 3]]);
      assert.ok(refusals.every((l) => !JSON.stringify(l).includes(forgedInstance)), 'the log carries no field from the body');
      const poison = (await w.app.metrics.queuePoisonMessages.get()).values.find((v) => v.labels.code === 'PK_SNS_BAD_SIGNATURE');
      assert.equal(poison?.value, 3);
      assert.equal(instanceRecord(w.app, forgedInstance), undefined, 'the forged event never reached the controller');
      assertInvariants(checkPairs(w.aws));
    } finally {
      sqs.destroy();
    }
  });

  it('a message handled but not deleted (a crash between receive and delete) comes back and is handled again harmlessly', async () => {
    const w = await start({ intake: 'sqs-raw' });
    // Every delete fails for a while: each launch message is handled, left, received again and handled again.
    w.aws.faults.set('SQS', 'DeleteMessage', { failNext: 3, code: 'ServiceUnavailable', status: 503 });
    w.aws.autoScaling.setDesiredCapacity('etcd', 2);
    const again = () => w.logs.find('queued event accepted').filter((l) => Number(l.receiveCount) > 1);
    await waitFor(() => again().length > 0, 'a message to be handled a second time', 20_000);
    await waitFor(async () => (await queueCounts(w, w.queue!.url)) === 0, 'the intake queue to be drained', 20_000);
    const check = await settle(w, 2);
    assertInvariants(check);
    assert.ok(w.logs.find(/could not delete a handled message/).length > 0);
    const claims = await w.app.controller.claims('etcd');
    assert.deepEqual(claims.map((c) => c.state), ['claimed', 'claimed']);
    assert.equal(new Set(claims.map((c) => c.instanceId)).size, 2, 'one pair per instance, whatever the repeats');
  });

  it('an EC2 state change triggers a resync; a body that is not JSON is poison, counted and left; both without a tight loop', async () => {
    const w = await start({ intake: 'eventbridge' });
    const sqs = new SQSClient(clientConfigFor(w.aws.url, w.aws.region));
    const resyncs = async () => (await w.app.metrics.resyncs.get()).values.reduce((n, v) => n + v.value, 0);
    try {
      const before = await resyncs();
      const sample = readFileSync(new URL('../../src/intake/samples/state-change.json', import.meta.url), 'utf8');
      await sqs.send(new SendMessageCommand({ QueueUrl: w.queue!.url, MessageBody: sample }));
      await sqs.send(new SendMessageCommand({ QueueUrl: w.queue!.url, MessageBody: 'not json {' }));
      await waitFor(async () => (await resyncs()) > before, 'a resync triggered by the state change');
      await waitFor(() => w.logs.find('poison message left in the queue for its redrive policy').length > 0, 'the poison message refused');
      const accepted = await waitForValue(() => {
        const lines = w.logs.find('queued event accepted').filter((l) => l.kind === 'state-change');
        return lines.length > 0 ? lines : undefined;
      }, 'the state change accepted once its resync ran');
      assert.equal(accepted.length, 1);
      assert.equal(accepted[0]!.instanceId, 'i-1234567890abcdef0');
      const poison = (await w.app.metrics.queuePoisonMessages.get()).values.find((v) => v.labels.code === 'PK_INTAKE_MALFORMED');
      assert.equal(poison?.value, 1, 'received once so far: hidden for its visibility timeout, not retried in a loop');
      assert.equal(await queueCounts(w, w.queue!.url), 1, 'the poison message is still in the queue');
    } finally {
      sqs.destroy();
    }
  });

  it('a launch hook that notifies the queue itself is pairkeeper’s: resync completes it for an instance whose message was lost', async () => {
    const w = await start({ intake: 'sqs-raw', fake: { autoScalingTiming: { msPerHookSecond: 50 } } });
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 600, notificationTargetArn: w.queue!.arn });
    // The hook's message is lost: receiving fails meanwhile, and the message is gone from the queue.
    w.aws.faults.set('SQS', 'ReceiveMessage', { errorRate: 1, code: 'ServiceUnavailable', status: 503 });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => [...w.aws.autoScaling.groups()[0]!.members.values()].some((m) => m.lifecycleState === 'Pending:Wait'), 'the instance held by the hook');
    w.aws.sqs.queueByArn(w.queue!.arn)!.messages.clear();
    w.aws.faults.clear();
    // A resync that sees the instance held (Auto Scaling may still say Pending a moment).
    await waitFor(async () => (await w.app.controller.resyncNow()).groups[0]?.members['Pending:Wait'] === 1, 'a resync that sees the instance held');
    const check = await settle(w, 1);
    assertInvariants(check);
    await waitFor(() => members(w).length === 1, 'the instance InService (its hook completed by pairkeeper, long before its 30 s timeout)', 10_000);
  });
});
