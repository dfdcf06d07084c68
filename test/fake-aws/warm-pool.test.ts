import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DeleteWarmPoolCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeWarmPoolCommand,
  PutWarmPoolCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import type { LifecycleEvent } from '../../src/domain/autoscaling-event.ts';
import { parseAutoScalingMessage } from '../../src/sns/autoscaling-message.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { waitFor, waitForValue } from '../helpers/wait-for.ts';

const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

describe('fake Auto Scaling warm pools through the real AutoScalingClient', () => {
  let aws: FakeAws;
  let asg: AutoScalingClient;
  let sqs: SQSClient;

  before(async () => {
    // Hook seconds last 2 ms (the default 3600 s timeout is 7.2 s); SQS seconds 10 ms.
    aws = await startFakeAws({ autoScalingTiming: { msPerHookSecond: 2, pollMs: 2, retryDelayMs: 20 }, sqsTiming: { msPerSecond: 10 } });
    asg = new AutoScalingClient(fakeAwsClientConfig(aws));
    sqs = new SQSClient(fakeAwsClientConfig(aws));
  });
  after(async () => {
    asg.destroy();
    sqs.destroy();
    await aws.close();
  });
  afterEach(() => {
    aws.autoScaling.reset();
    aws.sqs.reset();
  });

  const pool = (name: string) => aws.autoScaling.warmMembers(aws.autoScaling.requireGroup(name));
  const describePool = async (name: string) => asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: name }));
  const poolStates = async (name: string) => ((await describePool(name)).Instances ?? []).map((i) => i.LifecycleState!).sort();
  const groupStates = async (name: string) =>
    ((await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!.Instances ?? []).map(
      (i) => `${i.InstanceId!} ${i.LifecycleState!}`,
    );

  /** A group whose hooks send their messages to a queue; `next()` gives the next lifecycle message, parsed. */
  function hookedGroup(name: string, options: { desired: number; max: number; transitions: string[] }) {
    const queue = aws.sqs.createQueue(`${name}-hooks`);
    aws.autoScaling.createGroup({
      name,
      availabilityZones: ['us-east-1a'],
      maxSize: options.max,
      desiredCapacity: options.desired,
      lifecycleHooks: options.transitions.map((transition) => ({
        name: transition === LAUNCHING ? 'launch' : 'terminate',
        transition: transition as typeof LAUNCHING,
        notificationTargetArn: queue.arn,
      })),
    });
    const url = aws.sqs.urlOf(queue);
    const backlog: LifecycleEvent[] = [];
    const next = async (): Promise<LifecycleEvent> =>
      waitForValue(async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const m of out.Messages ?? []) {
          const event = parseAutoScalingMessage(m.Body!);
          if (event.kind === 'lifecycle-launching' || event.kind === 'lifecycle-terminating') backlog.push(event);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
        }
        return backlog.shift();
      }, `a lifecycle message for ${name}`);
    const complete = (e: LifecycleEvent) =>
      asg.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: name, LifecycleHookName: e.hookName, LifecycleActionToken: e.token, LifecycleActionResult: 'CONTINUE' }),
      );
    return { next, complete };
  }

  it('fills the pool with stopped instances beside the group, listed by DescribeWarmPool and not by the group', async () => {
    aws.autoScaling.createGroup({ name: 'web', availabilityZones: ['us-east-1a', 'us-east-1b'], maxSize: 3, desiredCapacity: 1 });
    await asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: 'web', MinSize: 0, PoolState: 'Stopped' }));
    await waitFor(async () => (await poolStates('web')).join() === 'Warmed:Stopped,Warmed:Stopped', 'two stopped pool instances (MaxSize 3 − desired 1)');
    const described = await describePool('web');
    assert.deepEqual([described.WarmPoolConfiguration?.PoolState, described.WarmPoolConfiguration?.MinSize], ['Stopped', 0]);
    for (const i of described.Instances!) assert.equal(aws.ec2.instance(i.InstanceId!)?.state, 'stopped');
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(group.Instances!.length, 1);
    assert.equal(group.WarmPoolSize, 2);
    assert.equal(group.WarmPoolConfiguration?.InstanceReusePolicy?.ReuseOnScaleIn, false);
    const all = (await asg.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances!;
    assert.deepEqual(all.map((i) => i.LifecycleState).sort(), ['InService', 'Warmed:Stopped', 'Warmed:Stopped']);

    await asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: 'web' }));
    await waitFor(() => pool('web').length === 0, 'the pool instances to be terminated');
    const gone = await failure(asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: 'web' })));
    assert.equal(gone.name, 'ValidationError');
  });

  it('holds a new pool instance in Warmed:Pending:Wait (EC2 → WarmPool), scales out from the pool (WarmPool → AutoScalingGroup), and refills the pool', async () => {
    const { next, complete } = hookedGroup('db', { desired: 0, max: 2, transitions: [LAUNCHING] });
    await asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: 'db', MinSize: 1, MaxGroupPreparedCapacity: 1 }));
    const warming = await next();
    assert.deepEqual([warming.origin, warming.destination], ['EC2', 'WarmPool']);
    assert.deepEqual(await poolStates('db'), ['Warmed:Pending:Wait']);
    await complete(warming);
    await waitFor(async () => (await poolStates('db')).join() === 'Warmed:Stopped', 'the pool instance at rest, stopped');

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'db', DesiredCapacity: 1 }));
    // Both hooks open at once: the pool member joining the group, and a new one refilling the pool (MinSize 1).
    const joining = [await next(), await next()];
    const fromPool = joining.find((e) => e.origin === 'WarmPool')!;
    const refill = joining.find((e) => e.destination === 'WarmPool')!;
    assert.deepEqual([fromPool.instanceId, fromPool.destination], [warming.instanceId, 'AutoScalingGroup']);
    assert.notEqual(refill.instanceId, warming.instanceId);
    assert.equal(aws.ec2.instance(warming.instanceId)?.state, 'running');
    assert.deepEqual(await groupStates('db'), [`${warming.instanceId} Pending:Wait`]);
    await complete(fromPool);
    await complete(refill);
    await waitFor(async () => (await groupStates('db')).join() === `${warming.instanceId} InService`, 'the pool instance InService');
    await waitFor(async () => (await poolStates('db')).join() === 'Warmed:Stopped', 'the pool refilled');
  });

  it('with ReuseOnScaleIn, scale-in returns the instance to the pool stopped (AutoScalingGroup → WarmPool), never terminated', async () => {
    const { next, complete } = hookedGroup('kv', { desired: 1, max: 1, transitions: [TERMINATING] });
    await waitFor(async () => (await groupStates('kv')).length === 1 && (await groupStates('kv'))[0]!.endsWith('InService'), 'one member InService');
    await asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: 'kv', MinSize: 0, InstanceReusePolicy: { ReuseOnScaleIn: true } }));
    const [member] = (await groupStates('kv')).map((s) => s.split(' ')[0]!);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'kv', DesiredCapacity: 0 }));
    const leaving = await next();
    assert.deepEqual([leaving.kind, leaving.instanceId, leaving.origin, leaving.destination], ['lifecycle-terminating', member, 'AutoScalingGroup', 'WarmPool']);
    assert.deepEqual(await poolStates('kv'), ['Warmed:Pending:Wait']);
    assert.equal(aws.ec2.instance(member!)?.state, 'running');
    await complete(leaving);
    await waitFor(async () => (await poolStates('kv')).join() === 'Warmed:Stopped', 'the instance back in the pool');
    assert.equal(aws.ec2.instance(member!)?.state, 'stopped');
    assert.deepEqual(await groupStates('kv'), []);
  });

  it('refuses an unknown PoolState', async () => {
    aws.autoScaling.createGroup({ name: 'x', availabilityZones: ['us-east-1a'], maxSize: 1 });
    const bad = await failure(asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: 'x', PoolState: 'Frozen' as 'Stopped' })));
    assert.deepEqual([bad.name, bad.status], ['ValidationError', 400]);
  });
});
