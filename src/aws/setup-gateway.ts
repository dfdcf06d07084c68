/**
 * The AWS calls of `pairkeeper pairs create` and `pairkeeper setup`, and nothing
 * else: they are not pairkeeper's runtime role (`pairkeeper iam-policy --for setup`
 * prints the policy for these; src/iam/setup-policy.ts). Reads are Describe/List
 * calls; the writes create (volumes and ENIs tagged in the create call, a topic, a
 * subscription) or put (a group's notification configuration, a lifecycle hook, a
 * queue's policy, written whole with every statement it had kept) and never delete.
 * Throttling and 5xx are retried with backoff; every other failure reaches the
 * caller as an AwsError with a kind.
 */
import { randomUUID } from 'node:crypto';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeNotificationConfigurationsCommand,
  PutLifecycleHookCommand,
  PutNotificationConfigurationCommand,
} from './sdk/auto-scaling.js';
import { CreateNetworkInterfaceCommand, CreateVolumeCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from './sdk/ec2.js';
import type { VolumeType } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, SNSClient, SubscribeCommand } from './sdk/sns.js';
import { GetQueueAttributesCommand, SQSClient, SetQueueAttributesCommand } from './sdk/sqs.js';
import { allPages } from './all-pages.ts';
import { isAwsKind } from './aws-errors.ts';
import { DEFAULT_RETRY_POLICY, awsCall } from './retry.ts';

export interface SubnetInfo {
  subnetId: string;
  availabilityZone: string;
}

export interface GroupShape {
  name: string;
  availabilityZones: string[];
  maxSize: number;
}

export interface VolumeSpec {
  availabilityZone: string;
  sizeGiB: number;
  volumeType: string;
  iops?: number | undefined;
  throughput?: number | undefined;
  encrypted: boolean;
  kmsKeyId?: string | undefined;
  tags: Record<string, string>;
}

export interface NetworkInterfaceSpec {
  subnetId: string;
  securityGroupIds: string[];
  description: string;
  tags: Record<string, string>;
}

export interface SubscriptionInfo {
  protocol: string;
  endpoint: string;
  /** False while SNS waits for the endpoint to confirm. */
  confirmed: boolean;
}

/** What setup reads of the queue intake.sqs names. */
export interface QueueInfo {
  arn: string;
  /** The queue's resource policy (JSON), absent when it has none. */
  policy: string | undefined;
  /** The KMS key of its server-side encryption, when it is encrypted with one. */
  kmsMasterKeyId: string | undefined;
}

export interface LifecycleHookSpec {
  group: string;
  name: string;
  transition: 'autoscaling:EC2_INSTANCE_LAUNCHING';
  topicArn: string;
  /** Needed when the hook is new; an update keeps the hook's role. */
  roleArn: string | undefined;
  heartbeatTimeoutSeconds: number;
  defaultResult: 'ABANDON' | 'CONTINUE';
}

const requestHandler = { connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true };

export interface SetupClients {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  sns: SNSClient;
  sqs: SQSClient;
}

export function createSetupClients(region: string): SetupClients {
  return {
    ec2: new EC2Client({ region, maxAttempts: 1, requestHandler }),
    autoScaling: new AutoScalingClient({ region, maxAttempts: 1, requestHandler }),
    sns: new SNSClient({ region, maxAttempts: 1, requestHandler }),
    sqs: new SQSClient({ region, maxAttempts: 1, requestHandler }),
  };
}

export function destroySetupClients(clients: SetupClients): void {
  clients.ec2.destroy();
  clients.autoScaling.destroy();
  clients.sns.destroy();
  clients.sqs.destroy();
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

export class SetupGateway {
  private readonly clients: SetupClients;

  constructor(clients: SetupClients) {
    this.clients = clients;
  }

  /** The subnets by id; undefined when EC2 does not know one of them in this region. */
  async subnets(ids: string[]): Promise<SubnetInfo[] | undefined> {
    try {
      const answer = await this.call('EC2 DescribeSubnets', () => this.clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids })));
      return (answer.Subnets ?? []).map((s) => ({ subnetId: s.SubnetId!, availabilityZone: s.AvailabilityZone! }));
    } catch (err) {
      if (isAwsKind(err, 'not-found') || isAwsKind(err, 'invalid')) return undefined;
      throw err;
    }
  }

  /** Whether EC2 knows every one of these security groups in this region. */
  async securityGroupsExist(ids: string[]): Promise<boolean> {
    try {
      await this.call('EC2 DescribeSecurityGroups', () => this.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids })));
      return true;
    } catch (err) {
      if (isAwsKind(err, 'not-found') || isAwsKind(err, 'invalid')) return false;
      throw err;
    }
  }

  /**
   * One ClientToken for every attempt of this create: EC2 answers a retry (after a
   * timeout, say) with the volume the first attempt made, instead of making another
   * volume with the same NodeID.
   */
  async createVolume(spec: VolumeSpec): Promise<string> {
    const ClientToken = randomUUID();
    const answer = await this.call('EC2 CreateVolume', () =>
      this.clients.ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: spec.availabilityZone,
          Size: spec.sizeGiB,
          VolumeType: spec.volumeType as VolumeType,
          ...(spec.iops === undefined ? {} : { Iops: spec.iops }),
          ...(spec.throughput === undefined ? {} : { Throughput: spec.throughput }),
          Encrypted: spec.encrypted,
          ...(spec.kmsKeyId === undefined ? {} : { KmsKeyId: spec.kmsKeyId }),
          TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(spec.tags) }],
          ClientToken,
        }),
      ),
    );
    return answer.VolumeId!;
  }

  /** Retried with one ClientToken, as createVolume. */
  async createNetworkInterface(spec: NetworkInterfaceSpec): Promise<{ networkInterfaceId: string; privateIpAddress: string | undefined }> {
    const ClientToken = randomUUID();
    const answer = await this.call('EC2 CreateNetworkInterface', () =>
      this.clients.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: spec.subnetId,
          ...(spec.securityGroupIds.length > 0 ? { Groups: spec.securityGroupIds } : {}),
          Description: spec.description,
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: tagList(spec.tags) }],
          ClientToken,
        }),
      ),
    );
    return { networkInterfaceId: answer.NetworkInterface!.NetworkInterfaceId!, privateIpAddress: answer.NetworkInterface!.PrivateIpAddress };
  }

  /** Stops at the page that shows the topic. */
  async topicExists(topicArn: string): Promise<boolean> {
    let token: string | undefined;
    do {
      const page = await this.call('SNS ListTopics', () => this.clients.sns.send(new ListTopicsCommand({ NextToken: token })));
      if ((page.Topics ?? []).some((t) => t.TopicArn === topicArn)) return true;
      token = page.NextToken;
    } while (token);
    return false;
  }

  /** CreateTopic is idempotent by name: it answers the existing topic's ARN. */
  async createTopic(name: string): Promise<string> {
    const answer = await this.call('SNS CreateTopic', () => this.clients.sns.send(new CreateTopicCommand({ Name: name })));
    return answer.TopicArn!;
  }

  async subscriptions(topicArn: string): Promise<SubscriptionInfo[]> {
    const subscriptions = await allPages(
      (token) => this.call('SNS ListSubscriptionsByTopic', () => this.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }))),
      (page) => page.Subscriptions,
    );
    return subscriptions.map((s) => ({ protocol: s.Protocol ?? '', endpoint: s.Endpoint ?? '', confirmed: s.SubscriptionArn?.startsWith('arn:') ?? false }));
  }

  /**
   * An HTTP(S) endpoint then gets a SubscriptionConfirmation, which pairkeeper confirms
   * (sns.autoConfirm); a queue of the topic's account (its ARN) is subscribed at once.
   */
  async subscribe(topicArn: string, protocol: 'http' | 'https' | 'sqs', endpoint: string): Promise<void> {
    await this.call('SNS Subscribe', () => this.clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: protocol, Endpoint: endpoint })));
  }

  /** The queue at this URL; undefined when SQS knows no such queue. */
  async queue(queueUrl: string): Promise<QueueInfo | undefined> {
    try {
      const answer = await this.call('SQS GetQueueAttributes', () =>
        this.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'Policy', 'KmsMasterKeyId'] })),
      );
      const attributes = answer.Attributes ?? {};
      // An empty KmsMasterKeyId is SSE-KMS turned off.
      return { arn: attributes.QueueArn!, policy: attributes.Policy, kmsMasterKeyId: attributes.KmsMasterKeyId || undefined };
    } catch (err) {
      if (isAwsKind(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** Replaces the queue's policy with `policy` (JSON): the caller keeps what it had. */
  async setQueuePolicy(queueUrl: string, policy: string): Promise<void> {
    await this.call('SQS SetQueueAttributes', () => this.clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: policy } })));
  }

  /** The groups AWS knows among `names`. */
  async groups(names: string[]): Promise<GroupShape[]> {
    const groups = await allPages(
      (token) =>
        this.call('Auto Scaling DescribeAutoScalingGroups', () =>
          this.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names, NextToken: token })),
        ),
      (page) => page.AutoScalingGroups,
    );
    return groups.map((g) => ({ name: g.AutoScalingGroupName!, availabilityZones: g.AvailabilityZones ?? [], maxSize: g.MaxSize ?? 0 }));
  }

  /** Per group, per topic, the notification types it publishes there. */
  async notificationTypes(names: string[]): Promise<Map<string, Map<string, Set<string>>>> {
    const configurations = await allPages(
      (token) =>
        this.call('Auto Scaling DescribeNotificationConfigurations', () =>
          this.clients.autoScaling.send(new DescribeNotificationConfigurationsCommand({ AutoScalingGroupNames: names, NextToken: token })),
        ),
      (page) => page.NotificationConfigurations,
    );
    const out = new Map<string, Map<string, Set<string>>>();
    for (const c of configurations) {
      const topics = out.get(c.AutoScalingGroupName!) ?? new Map<string, Set<string>>();
      const types = topics.get(c.TopicARN!) ?? new Set<string>();
      types.add(c.NotificationType!);
      topics.set(c.TopicARN!, types);
      out.set(c.AutoScalingGroupName!, topics);
    }
    return out;
  }

  /** Replaces the types this group publishes to this topic (AWS's rule for a second put). */
  async putNotificationConfiguration(group: string, topicArn: string, types: string[]): Promise<void> {
    await this.call('Auto Scaling PutNotificationConfiguration', () =>
      this.clients.autoScaling.send(new PutNotificationConfigurationCommand({ AutoScalingGroupName: group, TopicARN: topicArn, NotificationTypes: types })),
    );
  }

  async putLifecycleHook(hook: LifecycleHookSpec): Promise<void> {
    await this.call('Auto Scaling PutLifecycleHook', () =>
      this.clients.autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: hook.group,
          LifecycleHookName: hook.name,
          LifecycleTransition: hook.transition,
          NotificationTargetARN: hook.topicArn,
          ...(hook.roleArn === undefined ? {} : { RoleARN: hook.roleArn }),
          HeartbeatTimeout: hook.heartbeatTimeoutSeconds,
          DefaultResult: hook.defaultResult,
        }),
      ),
    );
  }

  private call<T>(what: string, send: () => Promise<T>): Promise<T> {
    return awsCall(what, send, DEFAULT_RETRY_POLICY);
  }
}
