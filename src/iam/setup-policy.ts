/**
 * The IAM policy `pairkeeper pairs create` and `pairkeeper setup` need, for the person
 * or pipeline that runs them (`pairkeeper iam-policy --for setup`): not pairkeeper's
 * runtime role, which never creates anything. Narrowed like the runtime policy: the
 * region, the configured topics and groups, and volumes and ENIs that are created
 * with the NodeID tag and the tags each group's filters select (aws:RequestTag on the
 * create call, which carries its tags in TagSpecifications; CreateTags is allowed
 * only as part of those creates). No delete action appears. With intake.sqs, the
 * queue's attributes: setup writes its policy (a statement letting the topic send).
 */
import type { Config } from '../config/schema.ts';
import { parseFilters } from '../domain/filters.ts';
import { partitionOf, queueArn } from '../domain/aws-arn.ts';
import { listOrOne, type GeneratedPolicy, type PolicyStatement } from './policy.ts';

type Conditions = NonNullable<PolicyStatement['Condition']>;

export function setupIamPolicy(config: Config): GeneratedPolicy {
  const { region } = config.aws;
  const partition = partitionOf(region);
  const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:*:${resource}`;
  const notes: string[] = [];
  // With no topic `setup` refuses (it wires Auto Scaling to SNS): the policy is then pairs create's alone.
  const setup = config.sns.topicArns.length > 0;
  if (!setup) notes.push('no sns.topicArns: `setup` refuses such a config, so this policy is what `pairs create` needs and nothing of setup');
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadWhatSetupChecks',
      Effect: 'Allow',
      // None of these supports resource-level permissions: "*" is the only resource.
      Action: [
        'autoscaling:DescribeAutoScalingGroups',
        ...(setup ? ['autoscaling:DescribeLifecycleHooks', 'autoscaling:DescribeNotificationConfigurations'] : []),
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVolumes',
        ...(setup ? ['sns:ListTopics'] : []),
      ],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': region } },
    },
  ];
  const sets = new Map<string, { names: string[]; conditions: Conditions }>();
  for (const group of config.groups) {
    const conditions = requestTagConditions(group.filters, group.nodeIdTag, group.name, notes);
    const key = JSON.stringify(conditions);
    const set = sets.get(key) ?? { names: [], conditions };
    set.names.push(group.name);
    sets.set(key, set);
  }
  [...sets.values()].forEach(({ names, conditions }, i) => {
    const suffix = sets.size === 1 ? '' : names.map((n) => n.replace(/[^A-Za-z0-9]/g, '')).join('') || String(i + 1);
    statements.push(
      { Sid: `CreateTaggedVolumes${suffix}`, Effect: 'Allow', Action: ['ec2:CreateVolume'], Resource: arn('ec2', 'volume/*'), Condition: conditions },
      { Sid: `CreateTaggedInterfaces${suffix}`, Effect: 'Allow', Action: ['ec2:CreateNetworkInterface'], Resource: arn('ec2', 'network-interface/*'), Condition: conditions },
    );
  });
  statements.push(
    {
      Sid: 'CreateInterfacesInSubnets',
      Effect: 'Allow',
      // CreateNetworkInterface is authorized on the subnet and the security groups too.
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [arn('ec2', 'subnet/*'), arn('ec2', 'security-group/*')],
    },
    {
      Sid: 'TagOnlyWhenCreating',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: [arn('ec2', 'volume/*'), arn('ec2', 'network-interface/*')],
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface', 'CreateVolume'] } },
    },
  );
  if (setup) {
    statements.push({
      Sid: 'TopicAndSubscription',
      Effect: 'Allow',
      Action: ['sns:CreateTopic', 'sns:ListSubscriptionsByTopic', 'sns:Subscribe'],
      Resource: listOrOne(config.sns.topicArns),
    });
  }
  if (setup && config.intake.sqs) {
    statements.push({
      Sid: 'QueueFedByTopic',
      Effect: 'Allow',
      // Its policy is read, and written with a statement that lets the topic send to it.
      Action: ['sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'],
      Resource: queueArn(config.intake.sqs.queueUrl, region),
    });
  }
  if (setup && config.groups.length > 0) {
    statements.push(
      {
        Sid: 'GroupNotificationsAndHooks',
        Effect: 'Allow',
        Action: ['autoscaling:PutLifecycleHook', 'autoscaling:PutNotificationConfiguration'],
        Resource: listOrOne(config.groups.map((g) => arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${g.name}`))),
      },
      {
        Sid: 'PassHookRoleToAutoScaling',
        Effect: 'Allow',
        // PutLifecycleHook passes --role-arn to Auto Scaling: allowed only for that service.
        Action: ['iam:PassRole'],
        Resource: `arn:${partition}:iam::*:role/*`,
        Condition: { StringEquals: { 'iam:PassedToService': 'autoscaling.amazonaws.com' } },
      },
    );
    notes.push('iam:PassRole is allowed for any role passed to Auto Scaling: replace role/* with the role you give setup --role-arn');
  }
  notes.push('volumes encrypted with a customer managed KMS key (--kms-key): creating them needs kms:CreateGrant, kms:GenerateDataKeyWithoutPlaintext and kms:DescribeKey on that key; add them for your key');
  return { policy: { Version: '2012-10-17', Statement: statements }, notes };
}

/** The create call must carry the NodeID tag and the tags the group's filters select. */
function requestTagConditions(filters: string, nodeIdTag: string, group: string, notes: string[]): Conditions {
  const present: Record<string, string> = { [`aws:RequestTag/${nodeIdTag}`]: 'false' };
  const like: Record<string, string | string[]> = {};
  for (const f of parseFilters(filters)) {
    if (f.Name.startsWith('tag:')) like[`aws:RequestTag/${f.Name.slice(4)}`] = listOrOne(f.Values);
    else if (f.Name === 'tag-key' && f.Values.length === 1 && !/[*?]/.test(f.Values[0]!)) present[`aws:RequestTag/${f.Values[0]!}`] = 'false';
    else notes.push(`group ${group}: filter ${f.Name}=${f.Values.join('|')} has no IAM condition here; the create statements do not narrow by it`);
  }
  return { Null: present, ...(Object.keys(like).length > 0 ? { StringLike: like } : {}) };
}
