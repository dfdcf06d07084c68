/**
 * The Auto Scaling calls pairkeeper makes (config/iam-policy.json lists the same):
 * read group members, hooks and warm pool for resync, one instance's group and
 * lifecycle state before it is given a pair (batched, as EC2 reads are), and
 * complete or extend lifecycle actions.
 * Throttling and 5xx are retried with backoff. Auto Scaling answers ValidationError
 * when no action is open any more (completed elsewhere, timed out, stale token);
 * that is an answer here ('gone'), not a failure.
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
  type AutoScalingClient,
} from './sdk/auto-scaling.js';
import type { AutoScalingInstance, GroupMember, LifecycleActionRef, LifecycleHookInfo, LifecycleResult } from '../domain/group-members.ts';
import { isAwsKind } from './aws-errors.ts';
import { allPages } from './all-pages.ts';
import { BatchedReader } from './batched-reader.ts';
import { awsCall, type RetryPolicy } from './retry.ts';

const GROUPS_PER_CALL = 50; // DescribeAutoScalingGroups' limit on names
const INSTANCES_PER_CALL = 50; // DescribeAutoScalingInstances' limit on ids

export type ActionAnswer = 'done' | 'gone';

export class AutoScalingGateway {
  private readonly client: AutoScalingClient;
  private readonly retryPolicy: RetryPolicy;
  /** One instance's group and lifecycle state (undefined: Auto Scaling does not manage it); the reads of a moment share one call. */
  readonly instances: BatchedReader<AutoScalingInstance>;

  constructor(options: { client: AutoScalingClient; retry: RetryPolicy; batchWindowMs?: number }) {
    this.client = options.client;
    this.retryPolicy = options.retry;
    this.instances = new BatchedReader({ fetchMany: (ids) => this.describeInstances(ids), windowMs: options.batchWindowMs ?? 20, maxBatch: INSTANCES_PER_CALL });
  }

  /** Members of each named group that exists; a group AWS does not know is absent from the map. */
  async members(groups: string[]): Promise<Map<string, GroupMember[]>> {
    const out = new Map<string, GroupMember[]>();
    for (let i = 0; i < groups.length; i += GROUPS_PER_CALL) {
      const names = groups.slice(i, i + GROUPS_PER_CALL);
      const found = await allPages(
        (token) =>
          this.call('DescribeAutoScalingGroups', () =>
            this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names, MaxRecords: 100, NextToken: token })),
          ),
        (page) => page.AutoScalingGroups,
      );
      for (const g of found) {
        out.set(
          g.AutoScalingGroupName!,
          (g.Instances ?? []).map((m) => ({ instanceId: m.InstanceId!, availabilityZone: m.AvailabilityZone!, lifecycleState: m.LifecycleState! })),
        );
      }
    }
    return out;
  }

  private async describeInstances(ids: string[]): Promise<Map<string, AutoScalingInstance>> {
    const found = await allPages(
      (token) =>
        this.call('DescribeAutoScalingInstances', () =>
          this.client.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids, MaxRecords: INSTANCES_PER_CALL, NextToken: token })),
        ),
      (page) => page.AutoScalingInstances,
    );
    return new Map(found.map((i) => [i.InstanceId!, { group: i.AutoScalingGroupName!, lifecycleState: i.LifecycleState! }]));
  }

  async hooks(group: string): Promise<LifecycleHookInfo[]> {
    const answer = await this.call('DescribeLifecycleHooks', () => this.client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group })));
    return (answer.LifecycleHooks ?? []).map((h) => ({
      group,
      name: h.LifecycleHookName!,
      transition: transitionKind(h.LifecycleTransition),
      heartbeatTimeoutSeconds: h.HeartbeatTimeout ?? 3600,
      notificationTargetArn: h.NotificationTargetARN,
    }));
  }

  /** The group's warm pool, as far as pairkeeper cares: absent, or whether instances go back to it on scale-in. */
  async warmPool(group: string): Promise<{ reuseOnScaleIn: boolean } | undefined> {
    // MaxRecords 1: the configuration comes with every page, the pool's instances are not needed.
    const answer = await this.call('DescribeWarmPool', () => this.client.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group, MaxRecords: 1 })));
    const pool = answer.WarmPoolConfiguration;
    return pool ? { reuseOnScaleIn: pool.InstanceReusePolicy?.ReuseOnScaleIn === true } : undefined;
  }

  complete(ref: LifecycleActionRef, result: LifecycleResult): Promise<ActionAnswer> {
    return this.onAction('CompleteLifecycleAction', () =>
      this.client.send(new CompleteLifecycleActionCommand({ ...actionParams(ref), LifecycleActionResult: result })),
    );
  }

  heartbeat(ref: LifecycleActionRef): Promise<ActionAnswer> {
    return this.onAction('RecordLifecycleActionHeartbeat', () => this.client.send(new RecordLifecycleActionHeartbeatCommand(actionParams(ref))));
  }

  private async onAction(action: string, send: () => Promise<unknown>): Promise<ActionAnswer> {
    try {
      await this.call(action, send);
      return 'done';
    } catch (err) {
      if (isAwsKind(err, 'no-active-action')) return 'gone';
      throw err;
    }
  }

  private call<T>(action: string, send: () => Promise<T>): Promise<T> {
    return awsCall(`Auto Scaling ${action}`, send, this.retryPolicy);
  }
}

function actionParams(ref: LifecycleActionRef) {
  return {
    AutoScalingGroupName: ref.group,
    LifecycleHookName: ref.hookName,
    InstanceId: ref.instanceId,
    ...(ref.token ? { LifecycleActionToken: ref.token } : {}),
  };
}

function transitionKind(transition: string | undefined): LifecycleHookInfo['transition'] {
  if (transition === 'autoscaling:EC2_INSTANCE_LAUNCHING') return 'launching';
  if (transition === 'autoscaling:EC2_INSTANCE_TERMINATING') return 'terminating';
  return undefined;
}
