/**
 * The least-privilege IAM policy for one configuration: what `pairkeeper iam-policy`
 * prints and config/iam-policy.json holds for the example config.
 *
 * Every statement is narrowed to what pairkeeper touches for this configuration: the
 * region and its partition, the configured groups (their Auto Scaling ARNs, and
 * instances by the `aws:autoscaling:groupName` tag Auto Scaling puts on its members,
 * which nobody else may write: `aws:` tag keys are reserved), volumes and ENIs by the
 * NodeID tag and the groups' filter tags, pairkeeper's own tag keys, the prepare
 * document, the claims prefix and the intake queue. Which resource types each action is authorized
 * against, and which condition keys apply, follows AWS's Service Authorization
 * Reference (test/config/iam-policy.test.ts cites the pages and checks the table).
 *
 * What IAM cannot say is left to pairkeeper and EC2: that the volume and the instance
 * of one AttachVolume belong to the same group (each resource is authorized on its
 * own), and filters with no IAM counterpart (see `notes`).
 */
import type { Config } from '../config/schema.ts';
import { HOLDER_TAG, PREPARED_TAG } from '../domain/pairs.ts';
import { partitionOf, queueArn } from '../domain/aws-arn.ts';
import { pairFilters } from '../domain/filters.ts';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface GeneratedPolicy {
  policy: PolicyDocument;
  /** What the policy could not narrow, or what the operator must add: for stderr, not the policy. */
  notes: string[];
}

/** The tag Auto Scaling puts on every instance it launches. */
export const GROUP_NAME_TAG = 'aws:autoscaling:groupName';

/** pairkeeper's own tags on volumes and ENIs: the only keys it creates or deletes. */
export const OWN_TAG_KEYS = [HOLDER_TAG, PREPARED_TAG];

type Conditions = NonNullable<PolicyStatement['Condition']>;

export function iamPolicy(config: Config): GeneratedPolicy {
  const { region } = config.aws;
  const arn = (service: string, resource: string, account = '*') => `arn:${partitionOf(region)}:${service}:${region}:${account}:${resource}`;
  const inRegion: Conditions = { StringEquals: { 'aws:RequestedRegion': region } };
  const groupNames = config.groups.map((g) => g.name);
  const notes: string[] = [];
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadPairsAndInstances',
      Effect: 'Allow',
      // Describe calls support no resource-level permissions: "*" is the only resource.
      Action: ['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVolumes'],
      Resource: '*',
      Condition: inRegion,
    },
    {
      Sid: 'ReadGroupsAndHooks',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLifecycleHooks', 'autoscaling:DescribeWarmPool'],
      Resource: '*',
      Condition: inRegion,
    },
  ];
  if (groupNames.length > 0) {
    statements.push({
      Sid: 'AttachToGroupInstances',
      Effect: 'Allow',
      // The instance is a resource of each; ModifyNetworkInterfaceAttribute names it when it changes an attachment.
      Action: ['ec2:AttachNetworkInterface', 'ec2:AttachVolume', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute'],
      Resource: arn('ec2', 'instance/*'),
      Condition: { StringEquals: { [`aws:ResourceTag/${GROUP_NAME_TAG}`]: listOrOne(groupNames) } },
    });
  }

  const volume = arn('ec2', 'volume/*');
  const networkInterface = arn('ec2', 'network-interface/*');
  const sets = pairConditionSets(config, notes);
  const suffixes = sidSuffixes(sets.map((s) => s.names));
  for (const [i, { conditions }] of sets.entries()) {
    const suffix = suffixes[i]!;
    statements.push(
      { Sid: `AttachPairVolumes${suffix}`, Effect: 'Allow', Action: ['ec2:AttachVolume'], Resource: volume, Condition: conditions },
      {
        Sid: `AttachPairInterfaces${suffix}`,
        Effect: 'Allow',
        Action: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute'],
        Resource: networkInterface,
        Condition: conditions,
      },
      {
        Sid: `TagPairs${suffix}`,
        Effect: 'Allow',
        Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
        Resource: [volume, networkInterface],
        Condition: {
          ...conditions,
          // ForAllValues passes when the key list is absent, and a DeleteTags without
          // keys deletes every tag: the Null check refuses a request without keys.
          Null: { ...conditions.Null, 'aws:TagKeys': 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': OWN_TAG_KEYS },
        },
      },
    );
  }

  if (groupNames.length > 0) {
    statements.push({
      Sid: 'CompleteLifecycleActions',
      Effect: 'Allow',
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      Resource: listOrOne(groupNames.map((name) => arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`))),
    });
  }

  const preparing = config.groups.filter((g) => g.prepare);
  if (preparing.length > 0) {
    const documents = [...new Set(preparing.map((g) => documentArn(g.prepare!.document, arn)))];
    statements.push(
      { Sid: 'SendPrepareDocument', Effect: 'Allow', Action: ['ssm:SendCommand'], Resource: listOrOne(documents) },
      {
        Sid: 'SendPrepareToGroupInstances',
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: arn('ec2', 'instance/*'),
        Condition: { StringEquals: { [`ssm:resourceTag/${GROUP_NAME_TAG}`]: listOrOne(preparing.map((g) => g.name)) } },
      },
      // GetCommandInvocation supports no resource-level permissions.
      { Sid: 'ReadPrepareResults', Effect: 'Allow', Action: ['ssm:GetCommandInvocation'], Resource: '*', Condition: inRegion },
    );
  }

  if (config.claims.store === 'ssm') {
    // A parameter's ARN is its name without the leading slash; GetParametersByPath is authorized on the path's.
    const prefix = config.claims.ssmPrefix.replace(/^\//, '');
    statements.push({
      Sid: 'ClaimsInParameterStore',
      Effect: 'Allow',
      Action: ['ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath', 'ssm:PutParameter'],
      Resource: [arn('ssm', `parameter/${prefix}`), arn('ssm', `parameter/${prefix}/*`)],
    });
  }

  if (config.intake.sqs) {
    statements.push({
      Sid: 'ReadIntakeQueue',
      Effect: 'Allow',
      Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'],
      Resource: queueArn(config.intake.sqs.queueUrl, region),
    });
    notes.push('an SQS queue encrypted with a customer managed KMS key: receiving needs kms:Decrypt on that key; add it for your key');
  }

  notes.push(
    'volumes encrypted with a customer managed KMS key: attaching one needs kms:CreateGrant on that key, ' +
      'narrowed with "Bool": {"kms:GrantIsForAWSResource": "true"}; add it for your key (the AWS managed aws/ebs key needs nothing)',
  );
  return { policy: { Version: '2012-10-17', Statement: statements }, notes };
}

/**
 * The conditions that pick each group's volumes and ENIs: the NodeID tag present, and
 * its filters as tag conditions (EC2 filter values take `*` and `?` as StringLike does;
 * several values of one name match any). Groups with the same conditions share statements.
 */
function pairConditionSets(config: Config, notes: string[]): { names: string[]; conditions: Conditions }[] {
  const sets = new Map<string, { names: string[]; conditions: Conditions }>();
  for (const group of config.groups) {
    const like: Record<string, string | string[]> = {};
    const present: Record<string, string> = { [`aws:ResourceTag/${group.nodeIdTag}`]: 'false' };
    for (const filter of pairFilters(group.filters, group.nodeIdTag)) {
      if (filter.Name.startsWith('tag:')) {
        const key = filter.Name.slice('tag:'.length);
        if (key === group.nodeIdTag && filter.Values.every((v) => v === '*')) continue; // the Null check says it
        like[`aws:ResourceTag/${key}`] = listOrOne(filter.Values);
      } else if (filter.Name === 'tag-key' && filter.Values.length === 1 && !/[*?]/.test(filter.Values[0]!)) {
        present[`aws:ResourceTag/${filter.Values[0]!}`] = 'false';
      } else {
        notes.push(`group ${group.name}: filter ${filter.Name}=${filter.Values.join('|')} has no IAM condition here; the policy does not narrow by it`);
      }
    }
    const conditions: Conditions = { Null: present, ...(Object.keys(like).length > 0 ? { StringLike: like } : {}) };
    const key = JSON.stringify(conditions);
    const set = sets.get(key) ?? { names: [], conditions };
    set.names.push(group.name);
    sets.set(key, set);
  }
  return [...sets.values()];
}

/** AWS's own documents (`AWS-…`) have no account in their ARN; a full ARN is taken as given. */
function documentArn(document: string, arn: (service: string, resource: string, account?: string) => string): string {
  if (document.startsWith('arn:')) return document;
  return arn('ssm', `document/${document}`, document.startsWith('AWS-') ? '' : '*');
}

export function listOrOne(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values;
}

/** Sid suffixes from group names (Sids are alphanumeric and unique): none when one set of statements serves every group. */
function sidSuffixes(groupsPerSet: string[][]): string[] {
  if (groupsPerSet.length === 1) return [''];
  const used = new Set<string>();
  return groupsPerSet.map((names) => {
    const base = names.map((n) => n.replace(/[^A-Za-z0-9]/g, '')).join('');
    let suffix = base;
    for (let i = 2; used.has(suffix) || suffix === ''; i++) suffix = `${base}${i}`;
    used.add(suffix);
    return suffix;
  });
}
