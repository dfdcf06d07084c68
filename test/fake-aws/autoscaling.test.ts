import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeNotificationConfigurationsCommand,
  PutLifecycleHookCommand,
  PutNotificationConfigurationCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type AutoScalingGroup,
  type DescribeAutoScalingGroupsCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import type { HookInput } from '../../fake-aws/autoscaling/fake-autoscaling.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';

/** An SNS HTTP(S) envelope as a subscriber receives it. */
interface Envelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  SubscribeURL?: string;
  Token?: string;
}

type Body = Record<string, unknown>;

/** A subscriber on 127.0.0.1: confirms its subscription by visiting the SubscribeURL and records notifications. */
class Receiver {
  readonly notifications: Envelope[] = [];
  url = '';
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope;
        if (envelope.Type === 'SubscriptionConfirmation') {
          void fetch(envelope.SubscribeURL!).then((r) => r.arrayBuffer());
        } else if (envelope.Type === 'Notification') {
          this.notifications.push(envelope);
        }
        res.writeHead(200).end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sns`;
    return this;
  }

  /** Messages (parsed once more: the SNS Message is itself JSON) with their subjects. */
  messages(): { subject: string | undefined; body: Body; envelope: Envelope }[] {
    return this.notifications.map((envelope) => ({ subject: envelope.Subject, body: JSON.parse(envelope.Message) as Body, envelope }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Checks an SNS signature the way a subscriber must (SignatureVersion 1: SHA1withRSA over the canonical string). */
async function assertSigned(envelope: Envelope): Promise<void> {
  const keys = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
  const canonical = keys.filter((k) => envelope[k] !== undefined).map((k) => `${k}\n${envelope[k]}\n`).join('');
  const cert = await (await fetch(envelope.SigningCertURL)).text();
  const verifier = createVerify(envelope.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
  verifier.update(canonical, 'utf8');
  assert.ok(verifier.verify(cert, envelope.Signature, 'base64'), 'signature verifies with the signing certificate');
}

const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

describe('fake Auto Scaling through the real AutoScalingClient', () => {
  let aws: FakeAws;
  let client: AutoScalingClient;
  let receiver: Receiver;
  let topicArn: string;
  const azA = 'us-east-1a';
  const azB = 'us-east-1b';

  before(async () => {
    // Hook seconds last 2 ms: a 30 s heartbeat timeout is 60 ms, the default 3600 s is 7.2 s.
    aws = await startFakeAws({ autoScalingTiming: { msPerHookSecond: 2, pollMs: 2, retryDelayMs: 20 } });
    client = new AutoScalingClient(fakeAwsClientConfig(aws));
    receiver = await new Receiver().start();
    topicArn = aws.sns.createTopic('asg-events');
    const sub = aws.sns.subscribe(topicArn, receiver.url);
    await until(() => aws.sns.listSubscriptions().find((s) => s.arn === sub.arn)?.confirmed, 'the subscription to be confirmed');
  });
  after(async () => {
    client.destroy();
    await aws.close();
    await receiver.close();
  });
  beforeEach(() => {
    aws.autoScaling.timing.msPerHookSecond = 2;
  });
  afterEach(async () => {
    aws.autoScaling.reset();
    await aws.sns.idle();
    receiver.notifications.length = 0;
  });

  const describeGroup = async (name: string): Promise<AutoScalingGroup> => {
    const out = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    return out.AutoScalingGroups![0]!;
  };
  const states = async (name: string): Promise<string[]> => ((await describeGroup(name)).Instances ?? []).map((i) => i.LifecycleState!);
  const inService = (name: string, n: number) =>
    until(async () => {
      const s = await states(name);
      return s.length === n && s.every((x) => x === 'InService') ? s : undefined;
    }, `${n} instances InService in ${name}`);
  const received = (pred: (m: { subject: string | undefined; body: Body }) => boolean, what: string) =>
    until(() => receiver.messages().find(pred), what);

  describe('groups', () => {
    it('describes groups with their settings, filtered by name and paged', async () => {
      for (const name of ['c', 'a', 'b']) aws.autoScaling.createGroup({ name, availabilityZones: [azA, azB], minSize: 0, maxSize: 4, tags: { team: 'x' } });
      const a = await describeGroup('a');
      assert.equal(a.AutoScalingGroupName, 'a');
      assert.match(a.AutoScalingGroupARN ?? '', /^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/a$/);
      assert.deepEqual([a.MinSize, a.MaxSize, a.DesiredCapacity], [0, 4, 0]);
      assert.deepEqual(a.AvailabilityZones, [azA, azB]);
      assert.deepEqual(a.Instances, []);
      assert.ok(a.CreatedTime instanceof Date);
      assert.equal(a.VPCZoneIdentifier?.split(',').length, 2);
      assert.deepEqual(a.Tags?.map((t) => [t.Key, t.Value, t.PropagateAtLaunch]), [['team', 'x', true]]);

      const names: string[] = [];
      let token: string | undefined;
      do {
        const page: DescribeAutoScalingGroupsCommandOutput = await client.send(
          new DescribeAutoScalingGroupsCommand({ MaxRecords: 2, NextToken: token }),
        );
        names.push(...page.AutoScalingGroups!.map((g) => g.AutoScalingGroupName!));
        token = page.NextToken;
      } while (token);
      assert.deepEqual(names, ['a', 'b', 'c']);

      const none = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope'] }));
      assert.deepEqual(none.AutoScalingGroups, []);
    });

    it('refuses MaxRecords above 100 and a foreign NextToken', async () => {
      const big = await failure(client.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })));
      assert.deepEqual([big.name, big.status], ['ValidationError', 400]);
      const token = await failure(client.send(new DescribeAutoScalingGroupsCommand({ NextToken: 'nonsense' })));
      assert.deepEqual([token.name, token.status], ['InvalidNextToken', 400]);
    });
  });

  describe('scaling', () => {
    it('launches balanced across AZs into InService, EC2 instances tagged with the group', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA, azB], maxSize: 6 });
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 4 }));
      await inService('web', 4);
      const group = await describeGroup('web');
      const perAz = group.Instances!.reduce<Record<string, number>>((acc, i) => ({ ...acc, [i.AvailabilityZone!]: (acc[i.AvailabilityZone!] ?? 0) + 1 }), {});
      assert.deepEqual(perAz, { [azA]: 2, [azB]: 2 });
      for (const i of group.Instances!) {
        const ec2 = aws.ec2.instance(i.InstanceId!);
        assert.equal(ec2?.state, 'running');
        assert.equal(ec2?.availabilityZone, i.AvailabilityZone);
        assert.equal(ec2?.tags.get('aws:autoscaling:groupName'), 'web');
        assert.equal(i.HealthStatus, 'Healthy');
      }
    });

    it('describes instances with HEALTHY (capitals, unlike groups), paged by MaxRecords', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 5, desiredCapacity: 5 });
      await inService('web', 5);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new DescribeAutoScalingInstancesCommand({ MaxRecords: 2, NextToken: token }));
        for (const i of page.AutoScalingInstances!) {
          assert.deepEqual([i.AutoScalingGroupName, i.HealthStatus, i.LifecycleState, i.AvailabilityZone], ['web', 'HEALTHY', 'InService', azA]);
          seen.push(i.InstanceId!);
        }
        token = page.NextToken;
      } while (token);
      assert.equal(new Set(seen).size, 5);
      const one = await client.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [seen[0]!, 'i-0000000000000dead'] }));
      assert.deepEqual(one.AutoScalingInstances?.map((i) => i.InstanceId), [seen[0]]);
      const big = await failure(client.send(new DescribeAutoScalingInstancesCommand({ MaxRecords: 51 })));
      assert.deepEqual([big.name, big.status], ['ValidationError', 400]);
    });

    it('scales in from the fuller AZ, terminating in EC2, and refuses capacities outside min..max', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA, azB], minSize: 1, maxSize: 4, desiredCapacity: 3 });
      await inService('web', 3);
      const before = (await describeGroup('web')).Instances!;
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }));
      const after = await until(async () => {
        const g = await describeGroup('web');
        return g.Instances!.length === 2 ? g.Instances! : undefined;
      }, 'the group to shrink to 2');
      assert.deepEqual(new Set(after.map((i) => i.AvailabilityZone)), new Set([azA, azB]));
      const gone = before.find((i) => !after.some((a) => a.InstanceId === i.InstanceId))!;
      assert.equal(aws.ec2.instance(gone.InstanceId!)?.state, 'terminated');

      const above = await failure(client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 5 })));
      assert.deepEqual([above.name, above.status], ['ValidationError', 400]);
      assert.match(above.message, /above max value 4/);
      const below = await failure(client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 })));
      assert.match(below.message, /below min value 1/);
      const missing = await failure(client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 0 })));
      assert.deepEqual([missing.name, missing.status], ['ValidationError', 400]);
    });

    it('TerminateInstanceInAutoScalingGroup replaces the instance, or shrinks the group when asked', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], minSize: 0, maxSize: 3, desiredCapacity: 2 });
      await inService('web', 2);
      const [first, second] = (await describeGroup('web')).Instances!.map((i) => i.InstanceId!);
      const replaced = await client.send(
        new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }),
      );
      assert.equal(replaced.Activity?.AutoScalingGroupName, 'web');
      assert.equal(replaced.Activity?.Description, `Terminating EC2 instance: ${first}`);
      assert.equal(replaced.Activity?.StatusCode, 'InProgress');
      assert.ok(replaced.Activity?.StartTime instanceof Date);
      await until(async () => {
        const g = await describeGroup('web');
        return g.Instances!.length === 2 && !g.Instances!.some((i) => i.InstanceId === first) && g.Instances!.every((i) => i.LifecycleState === 'InService');
      }, 'a replacement InService');

      await client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second, ShouldDecrementDesiredCapacity: true }));
      await until(async () => ((await describeGroup('web')).Instances!.length === 1 ? true : undefined), 'the group to shrink');
      assert.equal((await describeGroup('web')).DesiredCapacity, 1);

      const unknown = await failure(
        client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: 'i-0000000000000dead', ShouldDecrementDesiredCapacity: false })),
      );
      assert.deepEqual([unknown.name, unknown.status], ['ValidationError', 400]);
    });

    it('refuses to go below min size when decrementing', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], minSize: 1, maxSize: 2, desiredCapacity: 1 });
      await inService('web', 1);
      const [only] = (await describeGroup('web')).Instances!.map((i) => i.InstanceId!);
      const err = await failure(client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: only, ShouldDecrementDesiredCapacity: true })));
      assert.deepEqual([err.name, err.status], ['ValidationError', 400]);
      assert.match(err.message, /min size/);
    });
  });

  describe('notifications', () => {
    it('PutNotificationConfiguration sends a signed test notification, listed by DescribeNotificationConfigurations', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2 });
      await client.send(
        new PutNotificationConfigurationCommand({
          AutoScalingGroupName: 'web',
          TopicARN: topicArn,
          NotificationTypes: ['autoscaling:EC2_INSTANCE_LAUNCH', 'autoscaling:EC2_INSTANCE_TERMINATE'],
        }),
      );
      const test = await received((m) => m.body.Event === 'autoscaling:TEST_NOTIFICATION', 'the test notification');
      assert.equal(test.subject, 'Auto Scaling: test notification for group "web"');
      assert.deepEqual(Object.keys(test.body).sort(), ['AccountId', 'AutoScalingGroupARN', 'AutoScalingGroupName', 'Event', 'RequestId', 'Service', 'Time']);
      assert.equal(test.body.Service, 'AWS Auto Scaling');
      await assertSigned(test.envelope);

      const configs = await client.send(new DescribeNotificationConfigurationsCommand({ AutoScalingGroupNames: ['web'] }));
      assert.deepEqual(
        configs.NotificationConfigurations?.map((c) => [c.AutoScalingGroupName, c.TopicARN, c.NotificationType]),
        [
          ['web', topicArn, 'autoscaling:EC2_INSTANCE_LAUNCH'],
          ['web', topicArn, 'autoscaling:EC2_INSTANCE_TERMINATE'],
        ],
      );
      const bad = await failure(
        client.send(new PutNotificationConfigurationCommand({ AutoScalingGroupName: 'web', TopicARN: topicArn, NotificationTypes: ['autoscaling:NOPE'] })),
      );
      assert.deepEqual([bad.name, bad.status], ['ValidationError', 400]);
    });

    it('delivery follows the configurations: only the configured types reach a topic, and a second put replaces them', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2 });
      const put = (NotificationTypes: string[]) =>
        client.send(new PutNotificationConfigurationCommand({ AutoScalingGroupName: 'web', TopicARN: topicArn, NotificationTypes }));
      await put(['autoscaling:EC2_INSTANCE_LAUNCH']);
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
      await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH', 'the launch notification');
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
      // The group forgets a member only after its terminate notification would have been published.
      await until(async () => (await states('web')).length === 0, 'the instance to leave the group');
      await aws.sns.idle();
      assert.deepEqual(receiver.messages().filter((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE'), []);

      await put(['autoscaling:EC2_INSTANCE_TERMINATE']);
      const configs = await client.send(new DescribeNotificationConfigurationsCommand({ AutoScalingGroupNames: ['web'] }));
      assert.deepEqual(configs.NotificationConfigurations?.map((c) => c.NotificationType), ['autoscaling:EC2_INSTANCE_TERMINATE']);
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
      await inService('web', 1);
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
      await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE', 'the terminate notification');
      assert.equal(receiver.messages().filter((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH').length, 1);
    });

    it('the Put* calls are counted as mutating calls, the Describe* calls are not', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2 });
      aws.faults.resetCounts();
      await client.send(
        new PutNotificationConfigurationCommand({ AutoScalingGroupName: 'web', TopicARN: topicArn, NotificationTypes: ['autoscaling:EC2_INSTANCE_LAUNCH'] }),
      );
      await client.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleTransition: LAUNCHING }));
      await client.send(new DescribeNotificationConfigurationsCommand({ AutoScalingGroupNames: ['web'] }));
      await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }));
      assert.deepEqual(aws.faults.mutatingCalls(), { 'AutoScaling:PutLifecycleHook': 1, 'AutoScaling:PutNotificationConfiguration': 1 });
    });

    it('publishes signed launch and terminate activity messages in AWS format', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2, notifications: [{ topicArn }] });
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
      const launch = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH', 'the launch notification');
      const instanceId = launch.body.EC2InstanceId as string;
      const ec2 = aws.ec2.instance(instanceId)!;
      assert.equal(launch.subject, 'Auto Scaling: launch for group "web"');
      assert.deepEqual(Object.keys(launch.body).sort(), [
        'AccountId', 'ActivityId', 'AutoScalingGroupARN', 'AutoScalingGroupName', 'Cause', 'Description', 'Destination', 'Details',
        'EC2InstanceId', 'EndTime', 'Event', 'Origin', 'Progress', 'RequestId', 'Service', 'StartTime', 'StatusCode', 'StatusMessage', 'Time',
      ]);
      assert.deepEqual(launch.body.Details, { 'Subnet ID': ec2.subnetId, 'Availability Zone': azA });
      assert.equal(launch.body.Description, `Launching a new EC2 instance: ${instanceId}`);
      assert.equal(launch.body.StatusCode, 'InProgress');
      assert.equal(launch.body.AccountId, aws.accountId);
      assert.equal(launch.body.AutoScalingGroupARN, (await describeGroup('web')).AutoScalingGroupARN);
      assert.match(launch.body.Cause as string, /increasing the capacity from 0 to 1/);
      await assertSigned(launch.envelope);

      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
      const terminate = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE', 'the terminate notification');
      assert.equal(terminate.subject, 'Auto Scaling: termination for group "web"');
      assert.equal(terminate.body.EC2InstanceId, instanceId);
      assert.equal(terminate.body.Description, `Terminating EC2 instance: ${instanceId}`);
      assert.match(terminate.body.Cause as string, new RegExp(`instance ${instanceId} was selected for termination`));
      assert.equal(aws.ec2.instance(instanceId)?.state, 'terminated');
      await assertSigned(terminate.envelope);
    });

    it('a scripted launch failure publishes LAUNCH_ERROR with an empty EC2InstanceId, then the group retries', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2, notifications: [{ topicArn }] });
      aws.autoScaling.failNextLaunch('web');
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
      const error = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR', 'the launch error');
      assert.equal(error.subject, 'Auto Scaling: failed launch for group "web"');
      assert.deepEqual([error.body.EC2InstanceId, error.body.StatusCode, error.body.Progress], ['', 'Failed', 100]);
      assert.match(error.body.StatusMessage as string, /Launching EC2 instance failed/);
      assert.equal((error.body.Details as Body)['Availability Zone'], azA);
      await inService('web', 1);
      await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH', 'the retried launch');
    });

    it('a scripted termination failure publishes TERMINATE_ERROR, then the termination goes through', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 1, desiredCapacity: 1, notifications: [{ topicArn }] });
      await inService('web', 1);
      aws.autoScaling.failNextTermination('web');
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
      const error = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR', 'the termination error');
      assert.equal(error.subject, 'Auto Scaling: failed termination for group "web"');
      assert.equal(error.body.StatusCode, 'Failed');
      await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE', 'the termination');
    });
  });

  describe('lifecycle hooks', () => {
    const lifecycleMessages = (transition: string) => receiver.messages().filter((m) => m.body.LifecycleTransition === transition);
    /** Group `web` (notifying the topic) with a launch hook `pair` that notifies it too, scaled to 1: the hook's lifecycle message. */
    const launchIntoHook = async (hook: Omit<HookInput, 'name' | 'transition' | 'notificationTargetArn'>) => {
      aws.autoScaling.createGroup({
        name: 'web',
        availabilityZones: [azA],
        maxSize: 2,
        notifications: [{ topicArn }],
        lifecycleHooks: [{ name: 'pair', transition: LAUNCHING, notificationTargetArn: topicArn, ...hook }],
      });
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
      return until(() => lifecycleMessages(LAUNCHING)[0], 'the lifecycle message');
    };
    /** Group `web` of one instance in azA, launched at once, with `hook`; with `notify` its activity goes to the topic. */
    const oneInstanceGroup = (hook: HookInput, { notify = false } = {}) =>
      aws.autoScaling.createGroup({
        name: 'web',
        availabilityZones: [azA],
        maxSize: 1,
        desiredCapacity: 1,
        ...(notify ? { notifications: [{ topicArn }] } : {}),
        lifecycleHooks: [hook],
      });

    it('PutLifecycleHook applies AWS defaults, sends a test notification and is listed by DescribeLifecycleHooks', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2 });
      await client.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: 'pair',
          LifecycleTransition: LAUNCHING,
          NotificationTargetARN: topicArn,
          RoleARN: 'arn:aws:iam::123456789012:role/asg-sns',
          NotificationMetadata: '{"cluster":"x"}',
        }),
      );
      const test = await received((m) => m.body.Event === 'autoscaling:TEST_NOTIFICATION', 'the hook test notification');
      assert.equal(test.body.AutoScalingGroupName, 'web');
      const { LifecycleHooks } = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }));
      assert.deepEqual(LifecycleHooks, [
        {
          LifecycleHookName: 'pair',
          AutoScalingGroupName: 'web',
          LifecycleTransition: LAUNCHING,
          NotificationTargetARN: topicArn,
          RoleARN: 'arn:aws:iam::123456789012:role/asg-sns',
          NotificationMetadata: '{"cluster":"x"}',
          HeartbeatTimeout: 3600,
          GlobalTimeout: 172800,
          DefaultResult: 'ABANDON',
        },
      ]);
      const filtered = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web', LifecycleHookNames: ['other'] }));
      assert.deepEqual(filtered.LifecycleHooks, []);
      const tooShort = await failure(
        client.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'x', LifecycleTransition: LAUNCHING, HeartbeatTimeout: 10 })),
      );
      assert.deepEqual([tooShort.name, tooShort.status], ['ValidationError', 400]);
    });

    it('PutLifecycleHook updates an existing hook in place; a new hook with a target needs RoleARN', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 2 });
      const noRole = await failure(
        client.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleTransition: LAUNCHING, NotificationTargetARN: topicArn })),
      );
      assert.deepEqual([noRole.name, noRole.status], ['ValidationError', 400]);
      const role = 'arn:aws:iam::123456789012:role/asg-sns';
      await client.send(
        new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleTransition: LAUNCHING, NotificationTargetARN: topicArn, RoleARN: role, HeartbeatTimeout: 300 }),
      );
      // An update names only what changes; the target and role stay.
      await client.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', HeartbeatTimeout: 600, DefaultResult: 'CONTINUE' }));
      const { LifecycleHooks } = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }));
      assert.deepEqual(
        LifecycleHooks?.map((h) => [h.LifecycleHookName, h.LifecycleTransition, h.NotificationTargetARN, h.RoleARN, h.HeartbeatTimeout, h.DefaultResult]),
        [['pair', LAUNCHING, topicArn, role, 600, 'CONTINUE']],
      );
      const missingGroup = await failure(client.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'nope', LifecycleHookName: 'pair', LifecycleTransition: LAUNCHING })));
      assert.deepEqual([missingGroup.name, missingGroup.status], ['ValidationError', 400]);
    });

    it('holds a launch in Pending:Wait until CompleteLifecycleAction CONTINUE by token; a used token is stale', async () => {
      const hook = await launchIntoHook({ notificationMetadata: 'meta' });
      assert.equal(hook.subject, `Auto Scaling:  Lifecycle action 'LAUNCHING' for instance ${String(hook.body.EC2InstanceId)} in progress.`);
      assert.deepEqual(Object.keys(hook.body).sort(), [
        'AccountId', 'AutoScalingGroupName', 'Destination', 'EC2InstanceId', 'LifecycleActionToken', 'LifecycleHookName',
        'LifecycleTransition', 'NotificationMetadata', 'Origin', 'RequestId', 'Service', 'Time',
      ]);
      assert.deepEqual([hook.body.Origin, hook.body.Destination, hook.body.NotificationMetadata], ['EC2', 'AutoScalingGroup', 'meta']);
      await assertSigned(hook.envelope);
      assert.deepEqual(await states('web'), ['Pending:Wait']);
      assert.equal(receiver.messages().filter((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH').length, 0);

      const token = hook.body.LifecycleActionToken as string;
      await client.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleActionToken: token, LifecycleActionResult: 'CONTINUE' }),
      );
      await inService('web', 1);
      await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH', 'the launch notification after the hook');

      const stale = await failure(
        client.send(
          new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleActionToken: token, LifecycleActionResult: 'CONTINUE' }),
        ),
      );
      assert.deepEqual([stale.name, stale.status, stale.message], ['ValidationError', 400, `No active Lifecycle Action found with token ${token}`]);
      const staleBeat = await failure(
        client.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleActionToken: token })),
      );
      assert.deepEqual([staleBeat.name, staleBeat.status], ['ValidationError', 400]);
    });

    it('answers ValidationError for unknown hook or group, a missing token and instance, and a bad result', async () => {
      aws.autoScaling.createGroup({ name: 'web', availabilityZones: [azA], maxSize: 1, lifecycleHooks: [{ name: 'pair', transition: LAUNCHING }] });
      const cases = [
        { AutoScalingGroupName: 'web', LifecycleHookName: 'nope', InstanceId: 'i-0000000000000dead', LifecycleActionResult: 'CONTINUE' },
        { AutoScalingGroupName: 'nope', LifecycleHookName: 'pair', InstanceId: 'i-0000000000000dead', LifecycleActionResult: 'CONTINUE' },
        { AutoScalingGroupName: 'web', LifecycleHookName: 'pair', LifecycleActionResult: 'CONTINUE' },
        { AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: 'i-0000000000000dead', LifecycleActionResult: 'CONTINUE' },
        { AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: 'i-0000000000000dead', LifecycleActionResult: 'MAYBE' },
      ];
      for (const input of cases) {
        const err = await failure(client.send(new CompleteLifecycleActionCommand(input)));
        assert.deepEqual([err.name, err.status], ['ValidationError', 400], JSON.stringify(input));
      }
      const byInstance = await failure(
        client.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: 'i-0000000000000dead', LifecycleActionResult: 'CONTINUE' })),
      );
      assert.equal(byInstance.message, 'No active Lifecycle Action found with instance ID i-0000000000000dead');
    });

    it('a launch hook that times out applies its default ABANDON: LAUNCH_ERROR for the instance, terminated, replaced', async () => {
      const hook = await launchIntoHook({ heartbeatTimeout: 30 });
      const abandoned = hook.body.EC2InstanceId as string;
      const error = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR', 'the launch error');
      assert.equal(error.body.EC2InstanceId, abandoned);
      assert.match(error.body.StatusMessage as string, /was abandoned: Heartbeat Timeout/);
      await until(() => (aws.ec2.instance(abandoned)?.state === 'terminated' ? true : undefined), 'the abandoned instance to terminate');
      await until(async () => {
        const g = await describeGroup('web');
        return g.Instances!.length === 1 && g.Instances![0]!.InstanceId !== abandoned ? true : undefined;
      }, 'a replacement launch');
    });

    it('CompleteLifecycleAction ABANDON on a launch fails it with the instance id and terminates the instance', async () => {
      oneInstanceGroup({ name: 'pair', transition: LAUNCHING }, { notify: true });
      const action = await until(() => aws.autoScaling.actions.list()[0], 'the lifecycle action');
      await client.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: action.instanceId, LifecycleActionResult: 'ABANDON' }),
      );
      const error = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR', 'the launch error');
      assert.equal(error.body.EC2InstanceId, action.instanceId);
      assert.match(error.body.StatusMessage as string, /Lifecycle Action Completed with ABANDON Result/);
      await until(() => (aws.ec2.instance(action.instanceId)?.state === 'terminated' ? true : undefined), 'the abandoned instance to terminate');
    });

    it('a launch hook whose default is CONTINUE puts the instance in service when it times out', async () => {
      oneInstanceGroup({ name: 'pair', transition: LAUNCHING, heartbeatTimeout: 30, defaultResult: 'CONTINUE' });
      await inService('web', 1);
    });

    it('heartbeats move the timeout later and keep the instance waiting past its original timeout', async () => {
      aws.autoScaling.timing.msPerHookSecond = 20; // the 30 s heartbeat timeout lasts 600 ms
      oneInstanceGroup({ name: 'pair', transition: LAUNCHING, heartbeatTimeout: 30 });
      const action = await until(() => aws.autoScaling.actions.list()[0], 'the lifecycle action');
      const firstDeadline = action.deadline;
      const beat = () =>
        client.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: action.instanceId }));
      await new Promise((r) => setTimeout(r, 20));
      await beat();
      assert.ok(action.deadline > firstDeadline, 'the heartbeat moved the deadline');
      while (Date.now() < firstDeadline + 300) {
        await beat();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(await states('web'), ['Pending:Wait']);
      await client.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'pair', InstanceId: action.instanceId, LifecycleActionResult: 'CONTINUE' }),
      );
      await inService('web', 1);
    });

    it('a terminate hook holds Terminating:Wait; after ABANDON by instance id the instance is still terminated', async () => {
      oneInstanceGroup({ name: 'drain', transition: TERMINATING, notificationTargetArn: topicArn }, { notify: true });
      const [instanceId] = await inService('web', 1).then(async () => (await describeGroup('web')).Instances!.map((i) => i.InstanceId!));
      await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
      const hook = await until(() => lifecycleMessages(TERMINATING)[0], 'the terminating lifecycle message');
      assert.deepEqual([hook.body.Origin, hook.body.Destination, hook.body.EC2InstanceId], ['AutoScalingGroup', 'EC2', instanceId]);
      assert.equal(hook.subject, `Auto Scaling:  Lifecycle action 'TERMINATING' for instance ${instanceId} in progress.`);
      assert.deepEqual(await states('web'), ['Terminating:Wait']);
      assert.equal(aws.ec2.instance(instanceId!)?.state, 'running');

      await client.send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'drain', InstanceId: instanceId, LifecycleActionResult: 'ABANDON' }),
      );
      const terminate = await received((m) => m.body.Event === 'autoscaling:EC2_INSTANCE_TERMINATE', 'the terminate notification');
      assert.equal(terminate.body.StatusCode, 'MidTerminatingLifecycleAction');
      await until(async () => ((await states('web')).length === 0 ? true : undefined), 'the instance to leave the group');
      assert.equal(aws.ec2.instance(instanceId!)?.state, 'terminated');
    });
  });
  describe('control API', () => {
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Body }> => {
      const res = await fetch(`${aws.url}/_fake/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, json: (await res.json()) as Body };
    };

    it('creates a group, scales it, terminates an instance and reads state and call counters over HTTP', async () => {
      const created = await call('POST', 'groups', { name: 'ctl', availabilityZones: [azA], maxSize: 3, notifications: [{ topicArn }] });
      assert.equal(created.status, 200);
      assert.equal(created.json.name, 'ctl');
      assert.equal((await call('POST', 'groups/ctl/desired-capacity', { desiredCapacity: 2 })).status, 200);
      await inService('ctl', 2);

      const state = (await call('GET', 'state')).json as { groups: { name: string; members: Record<string, { lifecycleState: string }> }[]; instances: unknown[] };
      const group = state.groups.find((g) => g.name === 'ctl')!;
      const ids = Object.keys(group.members);
      assert.equal(ids.length, 2);
      assert.ok(Object.values(group.members).every((m) => m.lifecycleState === 'InService'));
      assert.ok(state.instances.length >= 2);

      const terminated = await call('POST', `instances/${ids[0]}/terminate`, { decrementDesired: true });
      assert.equal(terminated.status, 200);
      await until(async () => ((await states('ctl')).length === 1 ? true : undefined), 'the group to shrink');

      const calls = (await call('GET', 'calls')).json;
      assert.ok((calls['AutoScaling:DescribeAutoScalingGroups'] as number) > 0);
      assert.equal((await call('POST', 'groups/ctl/desired-capacity', { desiredCapacity: 9 })).status, 400);
      assert.equal((await call('POST', 'groups/nope/launch-error', {})).status, 400);
      assert.equal((await call('GET', 'nothing-here')).status, 404);
    });

    it('sets faults that the real client then meets, and clears them', async () => {
      aws.autoScaling.createGroup({ name: 'ctl', availabilityZones: [azA] });
      const set = await call('POST', 'faults', { service: 'AutoScaling', action: 'DescribeAutoScalingGroups', failNext: 1, code: 'Throttling', status: 400 });
      assert.equal(set.status, 200);
      const err = await failure(client.send(new DescribeAutoScalingGroupsCommand({})));
      assert.deepEqual([err.name, err.status], ['Throttling', 400]);
      assert.equal((await call('DELETE', 'faults')).status, 200);
      await client.send(new DescribeAutoScalingGroupsCommand({}));
    });
  });
});
