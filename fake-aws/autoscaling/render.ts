import type { XmlObject } from '../xml.ts';
import type { Activity, AutoScalingGroup, GroupMember, LifecycleHook, WarmPool } from './types.ts';

/** The fake launches one instance type; AWS reports it with each member. */
const INSTANCE_TYPE = 't3.micro';

/** A member as DescribeAutoScalingGroups and DescribeWarmPool list it: HealthStatus `Healthy`. */
export function memberXml(m: GroupMember): XmlObject {
  return {
    InstanceId: m.instanceId,
    InstanceType: INSTANCE_TYPE,
    AvailabilityZone: m.availabilityZone,
    LifecycleState: m.lifecycleState,
    HealthStatus: m.healthStatus,
    ProtectedFromScaleIn: false,
  };
}

/** DescribeAutoScalingInstances writes HealthStatus in capitals (`HEALTHY`), unlike DescribeAutoScalingGroups. */
export function instanceDetailsXml(group: AutoScalingGroup, m: GroupMember): XmlObject {
  return {
    InstanceId: m.instanceId,
    InstanceType: INSTANCE_TYPE,
    AutoScalingGroupName: group.name,
    AvailabilityZone: m.availabilityZone,
    LifecycleState: m.lifecycleState,
    HealthStatus: m.healthStatus.toUpperCase(),
    ProtectedFromScaleIn: false,
  };
}

export function groupXml(g: AutoScalingGroup, accountId: string): XmlObject {
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    MinSize: g.minSize,
    MaxSize: g.maxSize,
    DesiredCapacity: g.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: g.availabilityZones,
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    // Warm pool members are DescribeWarmPool's to list, not the group's.
    Instances: [...g.members.values()]
      .filter((m) => !m.lifecycleState.startsWith('Warmed:'))
      .sort((a, b) => a.seq - b.seq)
      .map(memberXml),
    CreatedTime: g.createdTime.toISOString(),
    SuspendedProcesses: [],
    VPCZoneIdentifier: [...g.subnets.values()].join(','),
    EnabledMetrics: [],
    Tags: [...g.tags].map(([Key, Value]) => ({
      ResourceId: g.name,
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: true,
    })),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    ServiceLinkedRoleARN: `arn:aws:iam::${accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    TrafficSources: [],
    ...(g.warmPool === undefined
      ? {}
      : { WarmPoolConfiguration: warmPoolXml(g.warmPool), WarmPoolSize: [...g.members.values()].filter((m) => m.lifecycleState.startsWith('Warmed:')).length }),
  };
}

export function warmPoolXml(pool: WarmPool): XmlObject {
  return {
    MaxGroupPreparedCapacity: pool.maxGroupPreparedCapacity,
    MinSize: pool.minSize,
    PoolState: pool.poolState,
    InstanceReusePolicy: { ReuseOnScaleIn: pool.reuseOnScaleIn },
  };
}

export function hookXml(groupName: string, h: LifecycleHook): XmlObject {
  return {
    LifecycleHookName: h.name,
    AutoScalingGroupName: groupName,
    LifecycleTransition: h.transition,
    NotificationTargetARN: h.notificationTargetArn,
    RoleARN: h.roleArn,
    NotificationMetadata: h.notificationMetadata,
    HeartbeatTimeout: h.heartbeatTimeout,
    GlobalTimeout: h.globalTimeout,
    DefaultResult: h.defaultResult,
  };
}

/** The answer of TerminateInstanceInAutoScalingGroup: the activity just started. `Details` is a JSON string. */
export function terminationActivityXml(group: AutoScalingGroup, member: GroupMember, a: Activity): XmlObject {
  return {
    ActivityId: a.activityId,
    AutoScalingGroupName: group.name,
    Description: `Terminating EC2 instance: ${member.instanceId}`,
    Cause: a.cause,
    StartTime: a.startTime.toISOString(),
    StatusCode: 'InProgress',
    Progress: 0,
    Details: JSON.stringify({ 'Subnet ID': member.subnetId, 'Availability Zone': member.availabilityZone }),
    AutoScalingGroupARN: group.arn,
  };
}
