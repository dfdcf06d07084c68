import { randomUUID } from 'node:crypto';
import { partitionOf } from '../call-recorder.ts';
import type { Ec2State } from '../ec2/state.ts';
import type { FakeEventBus } from '../eventbridge/event-bus.ts';
import type { FakeSns } from '../sns/fake-sns.ts';
import type { FakeSqs } from '../sqs/fake-sqs.ts';
import { Timers } from '../timers.ts';
import { autoScalingErrors, validationError } from './errors.ts';
import { activityBusEvent, lifecycleBusEvent } from './eventbridge-events.ts';
import { LifecycleActions } from './lifecycle-actions.ts';
import { activityEvent, activityMessage, lifecycleMessage, testNotification, type ActivityInput, type AutoScalingMessage } from './messages.ts';
import {
  NOTIFICATION_TYPES,
  type Activity,
  type AutoScalingGroup,
  type GroupMember,
  type InstancePlace,
  type LifecycleHook,
  type LifecycleState,
  type LifecycleResult,
  type LifecycleTransition,
  type NotificationType,
  type WarmPool,
} from './types.ts';

export interface AutoScalingTiming {
  /** How many ms one second of a hook's HeartbeatTimeout lasts: 1000 is real time. */
  msPerHookSecond: number;
  /** How often a launch or termination looks at the fake EC2 for the instance's state. */
  pollMs: number;
  /** How long after a failed launch or termination the group tries again. */
  retryDelayMs: number;
}

export const DEFAULT_AUTOSCALING_TIMING: Readonly<AutoScalingTiming> = { msPerHookSecond: 1000, pollMs: 5, retryDelayMs: 1000 };

export interface HookInput {
  name: string;
  /** Required for a new hook, optional when updating one. */
  transition?: LifecycleTransition | undefined;
  /** Seconds, 30–7200; default 3600. */
  heartbeatTimeout?: number | undefined;
  /** Default ABANDON. */
  defaultResult?: LifecycleResult | undefined;
  notificationTargetArn?: string | undefined;
  notificationMetadata?: string | undefined;
  roleArn?: string | undefined;
}

export interface CreateGroupInput {
  name: string;
  availabilityZones: string[];
  minSize?: number;
  maxSize?: number;
  desiredCapacity?: number;
  /** Propagated to the instances at launch, with `aws:autoscaling:groupName`. */
  tags?: Record<string, string>;
  lifecycleHooks?: HookInput[];
  notifications?: { topicArn: string; types?: NotificationType[] }[];
}

/** The launching and in-service states: members that count toward the group's capacity. */
const ACTIVE_STATES = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);
/** Warm pool members at rest: ready for a scale-out, and in no flow of their own. */
const WARM_AT_REST = new Set<LifecycleState>(['Warmed:Stopped', 'Warmed:Running']);

/** Where a launch takes an instance: straight into the group, into the warm pool, or from the pool into the group. */
interface Move {
  origin: InstancePlace;
  destination: InstancePlace;
}
const INTO_GROUP: Move = { origin: 'EC2', destination: 'AutoScalingGroup' };
const INTO_POOL: Move = { origin: 'EC2', destination: 'WarmPool' };
const FROM_POOL: Move = { origin: 'WarmPool', destination: 'AutoScalingGroup' };
const BACK_TO_POOL: Move = { origin: 'AutoScalingGroup', destination: 'WarmPool' };
const MAX_HEARTBEAT = 7200;
const MIN_HEARTBEAT = 30;
const MAX_GLOBAL_TIMEOUT = 172_800;

/**
 * Auto Scaling groups over the fake EC2: desired capacity drives launches and
 * terminations (AZs kept balanced), members walk AWS's lifecycle states, lifecycle
 * hooks hold them in the wait states until completed or timed out, and every step
 * publishes the notification AWS would publish to the fake SNS (or, for a hook
 * with an SQS target, sends it to the queue) and puts its event on the fake
 * EventBridge bus. A warm pool keeps launched instances stopped (or running)
 * beside the group: scale-out takes them from it, ReuseOnScaleIn puts them back,
 * and the pool is refilled to its size.
 */
export class FakeAutoScaling {
  readonly region: string;
  readonly accountId: string;
  /** Mutable: tests change timing between phases. */
  readonly timing: AutoScalingTiming;
  readonly actions: LifecycleActions;

  private readonly groupMap = new Map<string, AutoScalingGroup>();
  private readonly timers = new Timers();
  private readonly retrying = new Set<string>();
  private readonly ec2: Ec2State;
  private readonly sns: FakeSns;
  private readonly sqs: FakeSqs | undefined;
  private readonly events: FakeEventBus | undefined;
  /** Bumped by reset(): flows started before it stop at their next step. */
  private generation = 0;
  private seq = 0;

  constructor(options: {
    ec2: Ec2State;
    sns: FakeSns;
    sqs?: FakeSqs;
    events?: FakeEventBus;
    region: string;
    accountId: string;
    timing?: Partial<AutoScalingTiming>;
  }) {
    this.ec2 = options.ec2;
    this.sns = options.sns;
    this.sqs = options.sqs;
    this.events = options.events;
    this.region = options.region;
    this.accountId = options.accountId;
    this.timing = { ...DEFAULT_AUTOSCALING_TIMING, ...options.timing };
    this.actions = new LifecycleActions(() => this.timing.msPerHookSecond);
  }

  createGroup(input: CreateGroupInput): AutoScalingGroup {
    if (this.groupMap.has(input.name)) throw autoScalingErrors.groupExists(input.name);
    if (input.availabilityZones.length === 0) throw validationError('At least one Availability Zone or VPC Subnet is required.');
    const minSize = input.minSize ?? 0;
    const desired = input.desiredCapacity ?? minSize;
    const maxSize = input.maxSize ?? Math.max(desired, 1);
    if (minSize > maxSize) throw validationError(`Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`);
    if (desired < minSize || desired > maxSize) {
      throw validationError(`Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`);
    }
    const group: AutoScalingGroup = {
      name: input.name,
      arn: `arn:${partitionOf(this.region)}:autoscaling:${this.region}:${this.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${input.name}`,
      availabilityZones: [...input.availabilityZones],
      subnets: new Map(input.availabilityZones.map((az) => [az, this.ec2.subnetFor(az)])),
      minSize,
      maxSize,
      desiredCapacity: desired,
      createdTime: new Date(),
      tags: new Map(Object.entries(input.tags ?? {})),
      members: new Map(),
      hooks: new Map(),
      notifications: new Map(),
      failLaunches: { count: 0, reason: '' },
      failTerminations: { count: 0, reason: '' },
      warmPool: undefined,
    };
    this.groupMap.set(group.name, group);
    try {
      for (const hook of input.lifecycleHooks ?? []) this.putLifecycleHook(group.name, hook);
      for (const n of input.notifications ?? []) this.putNotificationConfiguration(group.name, n.topicArn, n.types);
    } catch (err) {
      // A bad hook or notification type refuses the whole group, as one CreateAutoScalingGroup call would.
      this.groupMap.delete(group.name);
      throw err;
    }
    this.reconcile(group, `At ${at()} a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}.`);
    return group;
  }

  group(name: string): AutoScalingGroup | undefined {
    return this.groupMap.get(name);
  }

  requireGroup(name: string): AutoScalingGroup {
    const group = this.groupMap.get(name);
    if (!group) throw autoScalingErrors.groupNotFound(name);
    return group;
  }

  /** In name order, as DescribeAutoScalingGroups lists them. */
  groups(): AutoScalingGroup[] {
    return [...this.groupMap.values()].sort((a, b) => compare(a.name, b.name));
  }

  memberOf(instanceId: string): { group: AutoScalingGroup; member: GroupMember } | undefined {
    for (const group of this.groupMap.values()) {
      const member = group.members.get(instanceId);
      if (member) return { group, member };
    }
    return undefined;
  }

  /** Creates or updates a hook; a hook with an SNS target gets a test notification, as on AWS. */
  putLifecycleHook(groupName: string, input: HookInput): LifecycleHook {
    const group = this.requireGroup(groupName);
    const existing = group.hooks.get(input.name);
    const transition = input.transition ?? existing?.transition;
    if (!transition) throw validationError('LifecycleTransition is required to create a lifecycle hook.');
    if (transition !== 'autoscaling:EC2_INSTANCE_LAUNCHING' && transition !== 'autoscaling:EC2_INSTANCE_TERMINATING') {
      throw validationError(`Invalid Lifecycle Transition name: ${String(transition)}`);
    }
    const heartbeatTimeout = input.heartbeatTimeout ?? existing?.heartbeatTimeout ?? 3600;
    if (heartbeatTimeout < MIN_HEARTBEAT || heartbeatTimeout > MAX_HEARTBEAT) {
      throw validationError(`Heartbeat timeout must be between ${MIN_HEARTBEAT} and ${MAX_HEARTBEAT} seconds.`);
    }
    const defaultResult = input.defaultResult ?? existing?.defaultResult ?? 'ABANDON';
    if (defaultResult !== 'CONTINUE' && defaultResult !== 'ABANDON') {
      throw validationError(`Invalid DefaultResult ${String(defaultResult)}: valid values are CONTINUE and ABANDON`);
    }
    const hook: LifecycleHook = {
      name: input.name,
      transition,
      heartbeatTimeout,
      globalTimeout: Math.min(100 * heartbeatTimeout, MAX_GLOBAL_TIMEOUT),
      defaultResult,
      notificationTargetArn: input.notificationTargetArn ?? existing?.notificationTargetArn,
      notificationMetadata: input.notificationMetadata ?? existing?.notificationMetadata,
      roleArn: input.roleArn ?? existing?.roleArn,
    };
    group.hooks.set(hook.name, hook);
    if (hook.notificationTargetArn) this.publish(hook.notificationTargetArn, testNotification(group, this.accountId));
    return hook;
  }

  /** Sends `types` of the group's activity (all four by default) to the topic, and a test notification now. */
  putNotificationConfiguration(groupName: string, topicArn: string, types: readonly string[] = ALL_EVENTS): void {
    const group = this.requireGroup(groupName);
    const unknown = types.filter((t) => !(NOTIFICATION_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0) throw validationError(`Invalid notification type(s): ${unknown.join(', ')}`);
    group.notifications.set(topicArn, new Set(types as NotificationType[]));
    this.publish(topicArn, testNotification(group, this.accountId));
  }

  setDesiredCapacity(groupName: string, desired: number): void {
    const group = this.requireGroup(groupName);
    if (desired > group.maxSize) {
      throw validationError(`New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`);
    }
    if (desired < group.minSize) {
      throw validationError(`New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`);
    }
    const previous = group.desiredCapacity;
    group.desiredCapacity = desired;
    this.reconcile(group, `At ${at()} a user request explicitly set group desired capacity changing the desired capacity from ${previous} to ${desired}.`);
  }

  /**
   * TerminateInstanceInAutoScalingGroup: the instance leaves through the terminating
   * states; without `decrementDesired` a replacement is launched.
   */
  terminateInstance(instanceId: string, decrementDesired = false): { group: AutoScalingGroup; member: GroupMember; activity: Activity } {
    const found = this.memberOf(instanceId);
    if (!found) throw autoScalingErrors.instanceNotFound(instanceId);
    const { group, member } = found;
    if (member.termination) return { group, member, activity: member.termination };
    const active = this.activeMembers(group).length;
    if (decrementDesired) {
      if (group.desiredCapacity <= group.minSize) {
        throw validationError(
          `Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
        );
      }
      group.desiredCapacity -= 1;
    }
    const shrink = decrementDesired ? `, shrinking the capacity from ${active} to ${active - 1}.` : '.';
    const activity = this.beginTermination(group, member, `At ${at()} instance ${instanceId} was taken out of service in response to a user request${shrink}`);
    this.reconcile(group, '');
    return { group, member, activity };
  }

  /** The next `count` launches of the group fail: a LAUNCH_ERROR each, with no instance. */
  failNextLaunch(groupName: string, count = 1, reason = 'We currently do not have sufficient capacity in the Availability Zone you requested.'): void {
    this.requireGroup(groupName).failLaunches = { count, reason };
  }

  /** The next `count` terminations of the group fail: a TERMINATE_ERROR each, then a retry. */
  failNextTermination(groupName: string, count = 1, reason = 'An internal error occurred.'): void {
    this.requireGroup(groupName).failTerminations = { count, reason };
  }

  /** PutWarmPool: creates or updates the group's warm pool, then fills or trims it to its size. */
  putWarmPool(groupName: string, input: Partial<WarmPool>): WarmPool {
    const group = this.requireGroup(groupName);
    const pool: WarmPool = {
      minSize: input.minSize ?? group.warmPool?.minSize ?? 0,
      maxGroupPreparedCapacity: input.maxGroupPreparedCapacity ?? group.warmPool?.maxGroupPreparedCapacity,
      poolState: input.poolState ?? group.warmPool?.poolState ?? 'Stopped',
      reuseOnScaleIn: input.reuseOnScaleIn ?? group.warmPool?.reuseOnScaleIn ?? false,
    };
    if (pool.poolState !== 'Stopped' && pool.poolState !== 'Running') {
      throw validationError(`1 validation error detected: Value '${String(pool.poolState)}' at 'poolState' failed to satisfy constraint: Member must satisfy enum value set: [Running, Stopped]`);
    }
    if (pool.minSize < 0) throw validationError('MinSize must be greater than or equal to 0.');
    if (pool.maxGroupPreparedCapacity !== undefined && pool.maxGroupPreparedCapacity !== -1 && pool.maxGroupPreparedCapacity < group.minSize) {
      throw validationError('MaxGroupPreparedCapacity must be greater than or equal to the group min size.');
    }
    group.warmPool = pool;
    this.reconcilePool(group);
    return pool;
  }

  /** DeleteWarmPool: the pool's instances are terminated. */
  deleteWarmPool(groupName: string): void {
    const group = this.requireGroup(groupName);
    if (!group.warmPool) throw validationError(`No warm pool found for Auto Scaling group ${groupName}.`);
    group.warmPool = undefined;
    for (const member of this.warmMembers(group)) {
      if (!member.termination) this.beginTermination(group, member, `At ${at()} an instance was taken out of the warm pool because the warm pool was deleted.`);
    }
  }

  /** The warm pool's members (any Warmed:* state), oldest first. */
  warmMembers(group: AutoScalingGroup): GroupMember[] {
    return [...group.members.values()].filter((m) => m.lifecycleState.startsWith('Warmed:')).sort((a, b) => a.seq - b.seq);
  }

  /** How many instances the pool keeps: MaxGroupPreparedCapacity (or MaxSize) less the desired capacity, at least MinSize. */
  poolSize(group: AutoScalingGroup): number {
    const pool = group.warmPool;
    if (!pool) return 0;
    const prepared = pool.maxGroupPreparedCapacity === undefined || pool.maxGroupPreparedCapacity === -1 ? group.maxSize : pool.maxGroupPreparedCapacity;
    return Math.max(pool.minSize, prepared - group.desiredCapacity, 0);
  }

  reset(): void {
    this.generation += 1;
    this.timers.clear();
    this.retrying.clear();
    this.actions.reset();
    this.groupMap.clear();
  }

  private activeMembers(group: AutoScalingGroup): GroupMember[] {
    return [...group.members.values()].filter((m) => ACTIVE_STATES.has(m.lifecycleState) && !m.termination);
  }

  /** Launches or terminates until the active members match the desired capacity. */
  private reconcile(group: AutoScalingGroup, reason: string): void {
    let count = this.activeMembers(group).length;
    const prefix = reason ? `${reason}  ` : '';
    while (count < group.desiredCapacity) {
      const cause = `${prefix}At ${at()} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${count} to ${count + 1}.`;
      const warm = this.readyWarmMember(group);
      if (warm) void this.runFromPool(group, warm, cause);
      else this.launch(group, this.leastPopulatedAz(group), cause, INTO_GROUP);
      count += 1;
    }
    while (count > group.desiredCapacity) {
      const victim = this.pickForScaleIn(group);
      if (group.warmPool?.reuseOnScaleIn && victim.lifecycleState === 'InService') {
        void this.runBackToPool(group, victim);
      } else {
        this.beginTermination(
          group,
          victim,
          `${prefix}At ${at()} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${count} to ${count - 1}.  At ${at()} instance ${victim.instanceId} was selected for termination.`,
        );
      }
      count -= 1;
    }
    this.reconcilePool(group);
  }

  /** Launches into the pool or terminates pool members at rest until the pool has its size. */
  private reconcilePool(group: AutoScalingGroup): void {
    if (!group.warmPool) return;
    const target = this.poolSize(group);
    const members = this.warmMembers(group).filter((m) => !m.termination);
    let count = members.length;
    while (count < target) {
      const cause = `At ${at()} an instance was launched into the warm pool in response to a difference between desired and actual warm pool size, increasing it from ${count} to ${count + 1}.`;
      this.launch(group, this.leastPopulatedAz(group, members), cause, INTO_POOL);
      count += 1;
    }
    const atRest = members.filter((m) => WARM_AT_REST.has(m.lifecycleState));
    while (count > target && atRest.length > 0) {
      const victim = atRest.pop()!;
      this.beginTermination(group, victim, `At ${at()} an instance was taken out of the warm pool in response to a difference between desired and actual warm pool size, shrinking it from ${count} to ${count - 1}.`);
      count -= 1;
    }
  }

  /** A pool member at rest for a scale-out, from the least populated AZ of the group when there is a choice. */
  private readyWarmMember(group: AutoScalingGroup): GroupMember | undefined {
    const ready = this.warmMembers(group).filter((m) => WARM_AT_REST.has(m.lifecycleState) && !m.termination);
    if (ready.length === 0) return undefined;
    const az = this.leastPopulatedAz(group);
    return ready.find((m) => m.availabilityZone === az) ?? ready[0];
  }

  /** A pool member joins the group: started if stopped, then the launch walk (Origin WarmPool). */
  private async runFromPool(group: AutoScalingGroup, member: GroupMember, cause: string): Promise<void> {
    member.lifecycleState = 'Pending';
    if (this.ec2.instance(member.instanceId)?.state === 'stopped') this.ec2.startInstance(member.instanceId);
    return this.runLaunch(group, member, cause, new Date(), FROM_POOL);
  }

  /** ReuseOnScaleIn: terminate hooks (Destination WarmPool) hold it in Warmed:Pending:Wait, then it rests stopped in the pool. */
  private async runBackToPool(group: AutoScalingGroup, member: GroupMember): Promise<void> {
    const generation = this.generation;
    member.lifecycleState = 'Warmed:Pending';
    const hooks = this.hooksFor(group, 'autoscaling:EC2_INSTANCE_TERMINATING');
    if (hooks.length > 0) {
      member.lifecycleState = 'Warmed:Pending:Wait';
      await Promise.all(hooks.map((hook) => this.holdForHook(group, hook, member, BACK_TO_POOL)));
      if (generation !== this.generation) return;
      if (member.termination) return this.runTermination(group, member);
      member.lifecycleState = 'Warmed:Pending:Proceed';
    }
    return this.restInPool(group, member, undefined);
  }

  /** Warmed:Pending:Proceed → stopped (or left running) → Warmed:Stopped / Warmed:Running; a new launch is announced. */
  private async restInPool(group: AutoScalingGroup, member: GroupMember, launched: { cause: string; startTime: Date } | undefined): Promise<void> {
    const generation = this.generation;
    if (group.warmPool?.poolState !== 'Running') {
      this.ec2.stopInstance(member.instanceId);
      await this.waitForEc2State(member.instanceId, (s) => s === 'stopped' || s === 'terminated');
      if (generation !== this.generation) return;
    }
    if (member.termination) return this.runTermination(group, member);
    member.lifecycleState = group.warmPool?.poolState === 'Running' ? 'Warmed:Running' : 'Warmed:Stopped';
    if (launched) this.notify(group, { kind: 'launch', instanceId: member.instanceId, placement: member, ...launched, ...INTO_POOL });
  }

  private launch(group: AutoScalingGroup, az: string, cause: string, move: Move): void {
    const startTime = new Date();
    const subnetId = group.subnets.get(az)!;
    if (group.failLaunches.count > 0) {
      group.failLaunches.count -= 1;
      this.notify(group, {
        kind: 'launch-error',
        instanceId: '',
        placement: { subnetId, availabilityZone: az },
        cause,
        startTime,
        statusMessage: `${group.failLaunches.reason} Launching EC2 instance failed.`,
        ...move,
      });
      this.retryLater(group);
      return;
    }
    const instance = this.ec2.runInstance({
      availabilityZone: az,
      subnetId,
      tags: { ...Object.fromEntries(group.tags), 'aws:autoscaling:groupName': group.name },
    });
    const member: GroupMember = {
      instanceId: instance.instanceId,
      availabilityZone: az,
      subnetId,
      lifecycleState: move.destination === 'WarmPool' ? 'Warmed:Pending' : 'Pending',
      healthStatus: 'Healthy',
      seq: this.seq++,
      termination: undefined,
    };
    group.members.set(member.instanceId, member);
    void this.runLaunch(group, member, cause, startTime, move);
  }

  /**
   * Pending → (Pending:Wait → Pending:Proceed) → InService, or out through
   * termination; into the warm pool the same walk is Warmed:Pending… and ends at rest.
   */
  private async runLaunch(group: AutoScalingGroup, member: GroupMember, cause: string, startTime: Date, move: Move): Promise<void> {
    const generation = this.generation;
    const state = await this.waitForEc2State(member.instanceId, (s) => s !== 'pending');
    if (generation !== this.generation) return;
    if (member.termination || state !== 'running') return this.runTermination(group, member);
    const intoPool = move.destination === 'WarmPool';

    const hooks = this.hooksFor(group, 'autoscaling:EC2_INSTANCE_LAUNCHING');
    if (hooks.length > 0) {
      member.lifecycleState = intoPool ? 'Warmed:Pending:Wait' : 'Pending:Wait';
      const outcomes = await Promise.all(
        hooks.map(async (hook) => {
          const outcome = await this.holdForHook(group, hook, member, move);
          // One abandoned hook decides the launch: the instance's other actions end with it.
          if (outcome.result === 'ABANDON') this.actions.endAllOf(member.instanceId, 'ABANDON');
          return outcome;
        }),
      );
      if (generation !== this.generation) return;
      if (member.termination) return this.runTermination(group, member);
      const abandoned = outcomes.find((o) => o.result === 'ABANDON');
      if (abandoned) {
        const why = abandoned.timedOut ? 'Heartbeat Timeout' : 'Lifecycle Action Completed with ABANDON Result';
        this.notify(group, {
          kind: 'launch-error',
          instanceId: member.instanceId,
          placement: member,
          cause,
          startTime,
          statusMessage: `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ${abandoned.token} was abandoned: ${why}`,
          ...move,
        });
        member.termination = {
          activityId: randomUUID(),
          startTime: new Date(),
          cause: `At ${at()} an instance was taken out of service in response to an abandoned launch lifecycle action.`,
        };
        // The replacement waits like any failed launch, so a hook that always abandons does not spin.
        this.retryLater(group);
        return this.runTermination(group, member);
      }
      member.lifecycleState = intoPool ? 'Warmed:Pending:Proceed' : 'Pending:Proceed';
      await this.timers.sleep(this.timing.pollMs);
      if (generation !== this.generation) return;
      if (member.termination) return this.runTermination(group, member);
    }
    if (intoPool) return this.restInPool(group, member, { cause, startTime });
    member.lifecycleState = 'InService';
    this.notify(group, { kind: 'launch', instanceId: member.instanceId, placement: member, cause, startTime, ...move });
  }

  /** Marks the member for termination; a launching member is picked up by its launch flow. */
  private beginTermination(group: AutoScalingGroup, member: GroupMember, cause: string): Activity {
    const launching = member.lifecycleState !== 'InService' && !WARM_AT_REST.has(member.lifecycleState);
    member.termination = { activityId: randomUUID(), startTime: new Date(), cause };
    if (!launching) void this.runTermination(group, member);
    // A member held by a launch hook is released: its launch flow then terminates it.
    else this.actions.endAllOf(member.instanceId, 'ABANDON');
    return member.termination;
  }

  /** Terminating → (Terminating:Wait → Terminating:Proceed) → EC2 terminate → Terminated, removed. */
  private async runTermination(group: AutoScalingGroup, member: GroupMember): Promise<void> {
    const generation = this.generation;
    member.termination ??= { activityId: randomUUID(), startTime: new Date(), cause: `At ${at()} an instance was taken out of service because it is no longer running.` };
    const activity = member.termination;
    const warm = member.lifecycleState.startsWith('Warmed:');
    const move: Move = { origin: warm ? 'WarmPool' : 'AutoScalingGroup', destination: 'EC2' };
    const terminateNotice: Omit<ActivityInput, 'group' | 'accountId'> = {
      kind: 'terminate',
      instanceId: member.instanceId,
      placement: member,
      cause: activity.cause,
      startTime: activity.startTime,
      activityId: activity.activityId,
      ...move,
    };
    member.lifecycleState = warm ? 'Warmed:Terminating' : 'Terminating';
    const hooks = this.hooksFor(group, 'autoscaling:EC2_INSTANCE_TERMINATING');
    if (hooks.length > 0) {
      member.lifecycleState = warm ? 'Warmed:Terminating:Wait' : 'Terminating:Wait';
      // CONTINUE or ABANDON, a terminating instance is terminated.
      await Promise.all(hooks.map((hook) => this.holdForHook(group, hook, member, move)));
      if (generation !== this.generation) return;
      member.lifecycleState = warm ? 'Warmed:Terminating:Proceed' : 'Terminating:Proceed';
      // AWS sends this one while its activity is still MidTerminatingLifecycleAction.
      this.notify(group, { ...terminateNotice, statusCode: 'MidTerminatingLifecycleAction' });
    }
    while (group.failTerminations.count > 0) {
      group.failTerminations.count -= 1;
      this.notify(group, { ...terminateNotice, kind: 'terminate-error', statusMessage: group.failTerminations.reason });
      await this.timers.sleep(this.timing.retryDelayMs);
      if (generation !== this.generation) return;
    }
    if (this.ec2.instance(member.instanceId)) this.ec2.terminateInstance(member.instanceId);
    await this.waitForEc2State(member.instanceId, (s) => s === 'terminated');
    if (generation !== this.generation) return;
    if (hooks.length === 0) this.notify(group, terminateNotice);
    member.lifecycleState = warm ? 'Warmed:Terminated' : 'Terminated';
    group.members.delete(member.instanceId);
    // A pool member gone is one to replace.
    if (warm && this.groupMap.get(group.name) === group) this.reconcilePool(group);
  }

  /** Opens a lifecycle action and tells the hook's target; resolves when it is completed or times out. */
  private async holdForHook(
    group: AutoScalingGroup,
    hook: LifecycleHook,
    member: GroupMember,
    move: Move,
  ): Promise<{ result: LifecycleResult; timedOut: boolean; token: string }> {
    const { token, outcome } = this.actions.start(group.name, hook, member.instanceId);
    const built = lifecycleMessage({ group, hook, accountId: this.accountId, instanceId: member.instanceId, token, ...move });
    if (hook.notificationTargetArn) this.publish(hook.notificationTargetArn, built);
    // EventBridge hears of every lifecycle action, whatever the hook's target.
    this.events?.put(lifecycleBusEvent(group, hook.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING', built));
    return { ...(await outcome), token };
  }

  private hooksFor(group: AutoScalingGroup, transition: LifecycleTransition): LifecycleHook[] {
    return [...group.hooks.values()].filter((h) => h.transition === transition);
  }

  /** To every topic of the group configured for this activity's event, and to EventBridge. */
  private notify(group: AutoScalingGroup, input: Omit<ActivityInput, 'group' | 'accountId'>): void {
    const built = activityMessage({ ...input, group, accountId: this.accountId });
    const event = activityEvent(input.kind);
    for (const [topicArn, types] of group.notifications) if (types.has(event)) this.publish(topicArn, built);
    const instanceArn = input.instanceId ? `arn:aws:ec2:${this.region}:${this.accountId}:instance/${input.instanceId}` : undefined;
    this.events?.put(activityBusEvent(input.kind, group, built, instanceArn));
  }

  /** An SNS topic gets the message with its subject; an SQS queue (a hook's other target) gets the bare message. */
  private publish(targetArn: string, built: AutoScalingMessage): void {
    if (targetArn.startsWith('arn:aws:sns:')) {
      this.sns.publish(targetArn, built.message, built.subject);
      return;
    }
    const queue = this.sqs?.queueByArn(targetArn);
    if (queue) this.sqs!.send(queue, built.message);
  }

  /** After a failed launch the group tries again once, later, like AWS's next scaling pass. */
  private retryLater(group: AutoScalingGroup): void {
    if (this.retrying.has(group.name)) return;
    this.retrying.add(group.name);
    this.timers.later(this.timing.retryDelayMs, () => {
      this.retrying.delete(group.name);
      if (this.groupMap.get(group.name) === group) this.reconcile(group, '');
    });
  }

  /** The AZ with the fewest of `members` (active members by default; the first such in the group's order). */
  private leastPopulatedAz(group: AutoScalingGroup, members = this.activeMembers(group)): string {
    const counts = this.azCounts(group, members);
    return group.availabilityZones.reduce((best, az) => (counts.get(az)! < counts.get(best)! ? az : best));
  }

  /** Scale-in keeps AZs balanced: from the most populated AZ, the newest member. */
  private pickForScaleIn(group: AutoScalingGroup): GroupMember {
    const counts = this.azCounts(group);
    const az = group.availabilityZones.reduce((best, a) => (counts.get(a)! > counts.get(best)! ? a : best));
    const candidates = this.activeMembers(group).filter((m) => m.availabilityZone === az);
    return candidates.reduce((newest, m) => (m.seq > newest.seq ? m : newest));
  }

  private azCounts(group: AutoScalingGroup, members = this.activeMembers(group)): Map<string, number> {
    const counts = new Map(group.availabilityZones.map((az) => [az, 0]));
    for (const m of members) counts.set(m.availabilityZone, (counts.get(m.availabilityZone) ?? 0) + 1);
    return counts;
  }

  /** Polls the fake EC2 until the instance's state satisfies `done` (a vanished instance counts as terminated). */
  private async waitForEc2State(instanceId: string, done: (state: string) => boolean): Promise<string> {
    const generation = this.generation;
    for (;;) {
      const state = this.ec2.instance(instanceId)?.state ?? 'terminated';
      if (done(state) || generation !== this.generation) return state;
      await this.timers.sleep(this.timing.pollMs);
    }
  }
}

const ALL_EVENTS: readonly NotificationType[] = NOTIFICATION_TYPES.filter((t) => t !== 'autoscaling:TEST_NOTIFICATION');

/** Times inside a `Cause` are whole seconds: `2016-12-12T18:38:22Z`. */
function at(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
