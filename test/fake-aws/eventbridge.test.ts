import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CompleteLifecycleActionCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import type { IntakeEvent } from '../../src/domain/autoscaling-event.ts';
import { parseEventBridgeEvent } from '../../src/intake/eventbridge-event.ts';
import { parseAutoScalingMessage } from '../../src/sns/autoscaling-message.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Reads a queue until `count` bodies arrived, deleting each. */
async function drain(sqs: SQSClient, queueUrl: string, count: number): Promise<string[]> {
  const bodies: string[] = [];
  await waitFor(async () => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of out.Messages ?? []) {
      bodies.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
    return bodies.length >= count;
  }, `${count} messages in ${queueUrl}`);
  return bodies;
}

describe('fake EventBridge: Auto Scaling and EC2 events into SQS', () => {
  let aws: FakeAws;
  let sqs: SQSClient;
  let asg: AutoScalingClient;

  before(async () => {
    aws = await startFakeAws({ sqsTiming: { msPerSecond: 10 }, autoScalingTiming: { msPerHookSecond: 20, pollMs: 2, retryDelayMs: 20 } });
    sqs = new SQSClient(fakeAwsClientConfig(aws));
    asg = new AutoScalingClient(fakeAwsClientConfig(aws));
  });
  after(async () => {
    sqs.destroy();
    asg.destroy();
    await aws.close();
  });
  afterEach(() => {
    aws.autoScaling.reset();
    aws.events.reset();
    aws.sqs.reset();
  });

  it('routes a group’s lifecycle and activity events by rule, in EventBridge’s envelope, and they parse as pairkeeper’s events', async () => {
    const queue = aws.sqs.createQueue('asg-events');
    aws.events.putRule({
      name: 'web-only',
      pattern: { source: ['aws.autoscaling'], detail: { AutoScalingGroupName: ['web'] } },
      queueArn: queue.arn,
    });
    aws.autoScaling.createGroup({ name: 'other', availabilityZones: ['us-east-1a'], maxSize: 1, desiredCapacity: 1 });
    const group = aws.autoScaling.createGroup({
      name: 'web',
      availabilityZones: ['us-east-1a'],
      maxSize: 1,
      desiredCapacity: 1,
      lifecycleHooks: [{ name: 'pair', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }],
    });
    const [hook] = await drain(sqs, aws.sqs.urlOf(queue), 1);
    const raw = JSON.parse(hook!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw), ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    assert.deepEqual([raw.account, raw.region, raw.resources], [aws.accountId, aws.region, [group.arn]]);
    const launching = parseEventBridgeEvent(hook!);
    assert.equal(launching.kind, 'lifecycle-launching');
    if (launching.kind !== 'lifecycle-launching') return;
    assert.deepEqual([launching.group, launching.hookName, launching.origin, launching.destination], ['web', 'pair', 'EC2', 'AutoScalingGroup']);

    await asg.send(
      new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleActionToken: launching.token, LifecycleActionResult: 'CONTINUE' }),
    );
    const [launched] = (await drain(sqs, aws.sqs.urlOf(queue), 1)).map(parseEventBridgeEvent);
    assert.equal(launched!.kind, 'launch');
    assert.equal(launched?.kind === 'launch' && launched.instanceId, launching.instanceId);

    aws.autoScaling.terminateInstance(launching.instanceId, true);
    const [terminated] = (await drain(sqs, aws.sqs.urlOf(queue), 1)).map(parseEventBridgeEvent);
    assert.equal(terminated!.kind, 'terminate');
    // The other group's events were on the bus but matched no rule.
    assert.ok(aws.events.events.some((e) => e.detail.AutoScalingGroupName === 'other'));
    assert.deepEqual(aws.sqs.counts(queue), { visible: 0, inFlight: 0, delayed: 0 });
  });

  it('puts EC2 state changes on the bus: pending, running, shutting-down, terminated', async () => {
    const queue = aws.sqs.createQueue('ec2-events');
    aws.events.putRule({ name: 'ec2', pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, queueArn: queue.arn });
    const instance = aws.ec2.runInstance({ availabilityZone: 'us-east-1a' });
    await waitFor(() => aws.ec2.instance(instance.instanceId)?.state === 'running', 'the instance to run');
    aws.ec2.terminateInstance(instance.instanceId);
    const events = (await drain(sqs, aws.sqs.urlOf(queue), 4)).map(parseEventBridgeEvent);
    const states = events.map((e: IntakeEvent) => (e.kind === 'state-change' && e.instanceId === instance.instanceId ? e.state : e.kind));
    assert.deepEqual(states, ['pending', 'running', 'shutting-down', 'terminated']);
  });

  it('the control API creates queues, SNS → SQS subscriptions, rules and warm pools, and shows queues and bus events', async () => {
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${aws.url}/_fake/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const created = await call('POST', 'queues', { name: 'ctl', attributes: { VisibilityTimeout: '5' } });
    assert.deepEqual(created.json, { queueUrl: `${aws.url}/${aws.accountId}/ctl`, queueArn: `arn:aws:sqs:${aws.region}:${aws.accountId}:ctl` });
    const topicArn = aws.sns.createTopic('ctl');
    const sub = await call('POST', 'subscriptions', { topicArn, protocol: 'sqs', endpoint: created.json.queueArn, rawMessageDelivery: true });
    assert.equal(sub.status, 200);
    aws.sns.publish(topicArn, 'raw body');
    await aws.sns.idle();
    const rule = await call('POST', 'rules', { name: 'ec2', pattern: { source: ['aws.ec2'] }, queueArn: created.json.queueArn });
    assert.equal(rule.status, 200);
    aws.ec2.runInstance({ availabilityZone: 'us-east-1a' });
    const queue = await call('GET', 'queues/ctl');
    assert.deepEqual(queue.json.counts, { visible: 2, inFlight: 0, delayed: 0 });
    assert.equal((queue.json.messages as { body: string }[])[0]!.body, 'raw body');
    assert.ok(((await call('GET', 'events')).json as unknown as unknown[]).length >= 1);
    assert.equal((await call('GET', 'queues/nope')).status, 404);

    await call('POST', 'groups', { name: 'pool', availabilityZones: ['us-east-1a'], maxSize: 2 });
    const pool = await call('POST', 'groups/pool/warm-pool', { minSize: 1, reuseOnScaleIn: true });
    assert.deepEqual(pool.json, { minSize: 1, poolState: 'Stopped', reuseOnScaleIn: true });
    await waitFor(() => aws.autoScaling.warmMembers(aws.autoScaling.requireGroup('pool')).length === 2, 'the pool filled to MaxSize − desired');
  });

  it('delivers to a queue only where its policy lets EventBridge send for the rule (the console\'s statement, which putRule adds); otherwise the invocation fails, and is counted', async () => {
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] };
    const guarded = aws.sqs.createQueue('guarded');
    const open = aws.sqs.createQueue('open');
    aws.events.putRule({ name: 'no-policy', pattern, queueArn: guarded.arn }, { queuePolicy: false });
    aws.events.putRule({ name: 'console', pattern, queueArn: open.arn });
    const statement = aws.sqs.queuePolicy(open).Statement.find((s) => s.Sid === 'AWSEvents_console');
    assert.deepEqual(statement?.Condition, { ArnEquals: { 'aws:SourceArn': `arn:aws:events:${aws.region}:${aws.accountId}:rule/console` } });
    aws.ec2.runInstance({ availabilityZone: 'us-east-1a' });
    await drain(sqs, aws.sqs.urlOf(open), 1);
    assert.deepEqual(aws.sqs.counts(guarded), { visible: 0, inFlight: 0, delayed: 0 });
    assert.ok(aws.events.failedInvocations.length > 0 && aws.events.failedInvocations.every((f) => f.rule === 'no-policy'));

    // Another rule's statement does not let this one in.
    aws.sqs.letServiceSend(guarded, 'someone-elses', 'events.amazonaws.com', `arn:aws:events:${aws.region}:${aws.accountId}:rule/console`);
    const failed = aws.events.failedInvocations.length;
    aws.ec2.runInstance({ availabilityZone: 'us-east-1a' });
    await drain(sqs, aws.sqs.urlOf(open), 1);
    assert.deepEqual(aws.sqs.counts(guarded), { visible: 0, inFlight: 0, delayed: 0 });
    assert.ok(aws.events.failedInvocations.length > failed);
  });

  it('a lifecycle hook with an SQS target sends the raw Auto Scaling messages to the queue', async () => {
    const queue = aws.sqs.createQueue('hook-target');
    aws.autoScaling.createGroup({
      name: 'direct',
      availabilityZones: ['us-east-1a'],
      maxSize: 1,
      desiredCapacity: 1,
      lifecycleHooks: [{ name: 'pair', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', notificationTargetArn: queue.arn, defaultResult: 'CONTINUE' }],
    });
    const kinds = (await drain(sqs, aws.sqs.urlOf(queue), 2)).map((body) => parseAutoScalingMessage(body).kind);
    assert.deepEqual(kinds, ['test', 'lifecycle-launching']);
  });
});
