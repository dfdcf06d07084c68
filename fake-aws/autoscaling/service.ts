import { FakeAwsError } from '../errors.ts';
import { decodePageToken, pageAfter } from '../page-token.ts';
import type { QueryService } from '../protocol.ts';
import { readList } from '../query-params.ts';
import type { XmlObject } from '../xml.ts';
import { autoScalingCallResources } from './call-resources.ts';
import { autoScalingErrors, validationError } from './errors.ts';
import type { FakeAutoScaling } from './fake-autoscaling.ts';
import { groupXml, hookXml, instanceDetailsXml, memberXml, terminationActivityXml, warmPoolXml } from './render.ts';
import type { LifecycleResult, LifecycleTransition } from './types.ts';

type Handler = (asg: FakeAutoScaling, params: URLSearchParams) => XmlObject;

const handlers: Record<string, Handler> = {
  DescribeAutoScalingGroups(asg, params) {
    const names = readList(params, 'AutoScalingGroupNames.member');
    const groups = asg.groups().filter((g) => names.length === 0 || names.includes(g.name));
    const { page, nextToken } = paginate(groups, (g) => g.name, params, 50, 100);
    return { AutoScalingGroups: page.map((g) => groupXml(g, asg.accountId)), NextToken: nextToken };
  },

  DescribeAutoScalingInstances(asg, params) {
    const ids = readList(params, 'InstanceIds.member');
    if (ids.length > 50) throw validationError('The number of instance ids that may be passed in is limited to 50.');
    const all = asg
      .groups()
      .flatMap((group) => [...group.members.values()].map((member) => ({ group, member })))
      .filter(({ member }) => ids.length === 0 || ids.includes(member.instanceId))
      .sort((a, b) => compare(a.member.instanceId, b.member.instanceId));
    const { page, nextToken } = paginate(all, (x) => x.member.instanceId, params, 50, 50);
    return { AutoScalingInstances: page.map(({ group, member }) => instanceDetailsXml(group, member)), NextToken: nextToken };
  },

  DescribeLifecycleHooks(asg, params) {
    const group = asg.requireGroup(required(params, 'AutoScalingGroupName'));
    const names = readList(params, 'LifecycleHookNames.member');
    const hooks = [...group.hooks.values()].filter((h) => names.length === 0 || names.includes(h.name));
    return { LifecycleHooks: hooks.map((h) => hookXml(group.name, h)) };
  },

  DescribeNotificationConfigurations(asg, params) {
    const names = readList(params, 'AutoScalingGroupNames.member');
    const rows = asg
      .groups()
      .filter((g) => names.length === 0 || names.includes(g.name))
      .flatMap((g) =>
        [...g.notifications].flatMap(([topicArn, types]) =>
          [...types].map((type) => ({ AutoScalingGroupName: g.name, TopicARN: topicArn, NotificationType: type })),
        ),
      );
    const key = (r: (typeof rows)[number]) => `${r.AutoScalingGroupName}\n${r.TopicARN}\n${r.NotificationType}`;
    rows.sort((a, b) => compare(key(a), key(b)));
    const { page, nextToken } = paginate(rows, key, params, 50, 100);
    return { NotificationConfigurations: page, NextToken: nextToken };
  },

  /**
   * Creates the hook or updates the fields given. A new hook that notifies a target needs
   * the role Auto Scaling publishes with (AWS: "required for new lifecycle hooks, but
   * optional when updating"); the direct `putLifecycleHook` of tests does not ask for one.
   */
  PutLifecycleHook(asg, params) {
    const groupName = required(params, 'AutoScalingGroupName');
    const hookName = required(params, 'LifecycleHookName');
    const isNew = !asg.requireGroup(groupName).hooks.has(hookName);
    if (isNew && params.get('NotificationTargetARN') && !params.get('RoleARN')) {
      throw validationError('RoleARN is required for a new lifecycle hook with a NotificationTargetARN.');
    }
    asg.putLifecycleHook(groupName, {
      name: hookName,
      transition: (params.get('LifecycleTransition') ?? undefined) as LifecycleTransition | undefined,
      heartbeatTimeout: optionalInteger(params, 'HeartbeatTimeout'),
      defaultResult: (params.get('DefaultResult') ?? undefined) as LifecycleResult | undefined,
      notificationTargetArn: params.get('NotificationTargetARN') ?? undefined,
      notificationMetadata: params.get('NotificationMetadata') ?? undefined,
      roleArn: params.get('RoleARN') ?? undefined,
    });
    return {};
  },

  PutNotificationConfiguration(asg, params) {
    const types = readList(params, 'NotificationTypes.member');
    if (types.length === 0) throw nullMember('NotificationTypes');
    asg.putNotificationConfiguration(required(params, 'AutoScalingGroupName'), required(params, 'TopicARN'), types);
    return {};
  },

  CompleteLifecycleAction(asg, params) {
    const ref = lifecycleRef(asg, params);
    asg.actions.complete(ref, required(params, 'LifecycleActionResult'));
    return {};
  },

  RecordLifecycleActionHeartbeat(asg, params) {
    asg.actions.heartbeat(lifecycleRef(asg, params));
    return {};
  },

  SetDesiredCapacity(asg, params) {
    const desired = optionalInteger(params, 'DesiredCapacity');
    if (desired === undefined) throw nullMember('DesiredCapacity');
    asg.setDesiredCapacity(required(params, 'AutoScalingGroupName'), desired);
    return {};
  },

  PutWarmPool(asg, params) {
    const reuse = params.get('InstanceReusePolicy.ReuseOnScaleIn');
    asg.putWarmPool(required(params, 'AutoScalingGroupName'), {
      ...optional('minSize', optionalInteger(params, 'MinSize')),
      ...optional('maxGroupPreparedCapacity', optionalInteger(params, 'MaxGroupPreparedCapacity')),
      ...optional('poolState', (params.get('PoolState') ?? undefined) as 'Stopped' | 'Running' | undefined),
      ...optional('reuseOnScaleIn', reuse === null ? undefined : reuse === 'true'),
    });
    return {};
  },

  DescribeWarmPool(asg, params) {
    const group = asg.requireGroup(required(params, 'AutoScalingGroupName'));
    const members = asg.warmMembers(group).sort((a, b) => compare(a.instanceId, b.instanceId));
    const { page, nextToken } = paginate(members, (m) => m.instanceId, params, 50, 50);
    return {
      ...(group.warmPool === undefined ? {} : { WarmPoolConfiguration: warmPoolXml(group.warmPool) }),
      Instances: page.map(memberXml),
      NextToken: nextToken,
    };
  },

  DeleteWarmPool(asg, params) {
    asg.deleteWarmPool(required(params, 'AutoScalingGroupName'));
    return {};
  },

  TerminateInstanceInAutoScalingGroup(asg, params) {
    const decrement = params.get('ShouldDecrementDesiredCapacity');
    if (decrement === null) throw nullMember('ShouldDecrementDesiredCapacity');
    const { group, member, activity } = asg.terminateInstance(required(params, 'InstanceId'), decrement === 'true');
    return { Activity: terminationActivityXml(group, member, activity) };
  },
};

/** The fake Auto Scaling on the Query protocol, API version 2011-01-01. */
export function createAutoScalingService(asg: FakeAutoScaling): QueryService {
  return {
    kind: 'query',
    name: 'AutoScaling',
    version: '2011-01-01',
    xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
    style: 'awsquery',
    iamPrefix: 'autoscaling',
    callResources: (action, params) => autoScalingCallResources(asg, action, params),
    handle(action, params) {
      const handler = handlers[action];
      if (!handler) throw new FakeAwsError('InvalidAction', `fake Auto Scaling does not implement ${action}`);
      return handler(asg, params);
    },
  };
}

/** The group and hook must exist before an action of theirs can be found. */
function lifecycleRef(asg: FakeAutoScaling, params: URLSearchParams) {
  const groupName = required(params, 'AutoScalingGroupName');
  const hookName = required(params, 'LifecycleHookName');
  if (!asg.requireGroup(groupName).hooks.has(hookName)) throw autoScalingErrors.hookNotFound(hookName, groupName);
  return {
    groupName,
    hookName,
    token: params.get('LifecycleActionToken') ?? undefined,
    instanceId: params.get('InstanceId') ?? undefined,
  };
}

/** A page of `items` (already in their listing order, which is `key` order) after the token's key. */
function paginate<T>(
  items: T[],
  key: (item: T) => string,
  params: URLSearchParams,
  defaultMax: number,
  maxMax: number,
): { page: T[]; nextToken: string | undefined } {
  const limit = optionalInteger(params, 'MaxRecords') ?? defaultMax;
  if (limit < 1 || limit > maxMax) {
    const bound = limit < 1 ? 'greater than or equal to 1' : `less than or equal to ${maxMax}`;
    throw validationError(`1 validation error detected: Value '${limit}' at 'maxRecords' failed to satisfy constraint: Member must have value ${bound}`);
  }
  const token = params.get('NextToken');
  const after = token === null ? undefined : decodePageToken(token, 'string', autoScalingErrors.invalidNextToken);
  return pageAfter(items, key, after, limit);
}

function nullMember(name: string): FakeAwsError {
  const member = name.charAt(0).toLowerCase() + name.slice(1);
  return validationError(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') throw nullMember(name);
  return value;
}

function optionalInteger(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw validationError(`Value '${raw}' for ${name} is not an integer`);
  return n;
}

/** `{ key: value }` when the value is given, `{}` otherwise (so an update keeps what was set). */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
