import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partition } from '@aws-sdk/core/client';
import type { RecordedCall } from '../../fake-aws/call-recorder.ts';
import { evaluate } from '../../fake-aws/iam-evaluator.ts';
import { parseConfig } from '../../src/config/load.ts';
import { partitionOf, queueArn } from '../../src/domain/aws-arn.ts';
import { iamPolicy, type PolicyDocument } from '../../src/iam/policy.ts';

/**
 * The generator's narrowing, one configuration choice at a time, decided by the
 * evaluator on calls shaped like those the fake records (test/iam/policy-evaluation
 * runs the real ones): partitions, several groups, filters, preparation, claims.
 */
function policyFor(extra: Record<string, unknown>): { policy: PolicyDocument; notes: string[] } {
  const config = parseConfig(JSON.stringify({ aws: { region: 'us-east-1' }, sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:t'] }, ...extra }), 'test');
  return iamPolicy(config);
}

const ACCOUNT = '123456789012';
const arn = (region: string, service: string, resource: string, account = ACCOUNT) => `arn:${partitionOf(region)}:${service}:${region}:${account}:${resource}`;

function attachVolume(region: string, instanceTags: Record<string, string>, volumeTags: Record<string, string>): RecordedCall {
  return {
    action: 'ec2:AttachVolume',
    region,
    resources: [
      { arn: arn(region, 'ec2', 'instance/i-0123456789abcdef0'), tags: instanceTags },
      { arn: arn(region, 'ec2', 'volume/vol-0123456789abcdef0'), tags: volumeTags },
    ],
    requestKeys: {},
  };
}

function sendCommand(region: string, document: string, instanceTags: Record<string, string>): RecordedCall {
  return {
    action: 'ssm:SendCommand',
    region,
    resources: [
      { arn: arn(region, 'ssm', `document/${document}`, document.startsWith('AWS-') ? '' : ACCOUNT), tags: {} },
      { arn: arn(region, 'ec2', 'instance/i-0123456789abcdef0'), tags: instanceTags },
    ],
    requestKeys: {},
  };
}

const GROUP = 'aws:autoscaling:groupName';

describe('iam-policy generator', () => {
  it('knows the partition of a region as the AWS SDK does', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'cn-north-1', 'cn-northwest-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', 'mx-central-1']) {
      assert.equal(partitionOf(region), partition(region).name, region);
    }
  });

  it('writes ARNs of the configured region and its partition (aws-cn), and nothing of another partition is allowed', () => {
    const { policy } = policyFor({ aws: { region: 'cn-north-1' }, groups: [{ name: 'etcd', filters: 'Service=etcd' }] });
    const arns = policy.Statement.flatMap((s) => [s.Resource].flat()).filter((r) => r !== '*');
    assert.ok(arns.length > 0 && arns.every((r) => r.startsWith('arn:aws-cn:') && r.split(':')[3] === 'cn-north-1'), arns.join(' '));
    const call = attachVolume('cn-north-1', { [GROUP]: 'etcd' }, { NodeID: 'n1', Service: 'etcd' });
    assert.equal(evaluate(policy, call).decision, 'allowed');
    const inAws = { ...call, resources: call.resources.map((r) => ({ ...r, arn: r.arn.replace('arn:aws-cn:', 'arn:aws:') })) };
    assert.equal(evaluate(policy, inAws).decision, 'implicitly denied');
  });

  it('several groups: each group\'s own filters and NodeID tag pick its pairs, and instances of any configured group', () => {
    const { policy } = policyFor({
      groups: [
        { name: 'etcd', filters: 'Service=etcd' },
        { name: 'zk', filters: ['Service=zookeeper', 'Env=prod', 'Env=staging'], nodeIdTag: 'ZkNode' },
      ],
    });
    const allowed = (instance: string, volumeTags: Record<string, string>) => evaluate(policy, attachVolume('us-east-1', { [GROUP]: instance }, volumeTags)).decision === 'allowed';
    assert.ok(allowed('etcd', { NodeID: 'n1', Service: 'etcd' }));
    assert.ok(allowed('zk', { ZkNode: 'z1', Service: 'zookeeper', Env: 'staging' }), 'a name given twice matches either value');
    assert.ok(!allowed('zk', { ZkNode: 'z1', Service: 'zookeeper', Env: 'dev' }));
    assert.ok(!allowed('zk', { NodeID: 'z1', Service: 'zookeeper', Env: 'prod' }), "the zk group's NodeID tag is ZkNode");
    assert.ok(!allowed('kafka', { NodeID: 'n1', Service: 'etcd' }));
    const sids = policy.Statement.map((s) => s.Sid);
    assert.equal(new Set(sids).size, sids.length, `Sids are unique: ${sids.join(' ')}`);
    assert.ok(sids.every((s) => /^[A-Za-z0-9]+$/.test(s)));
  });

  it('filters: tag-key=K needs the tag, wildcards match as EC2 filters do, and what IAM cannot say is a note', () => {
    const { policy, notes } = policyFor({ groups: [{ name: 'etcd', filters: 'Service=etcd-*,tag-key=Project,availability-zone=us-east-1a' }] });
    const decision = (tags: Record<string, string>) => evaluate(policy, attachVolume('us-east-1', { [GROUP]: 'etcd' }, tags)).decision;
    assert.equal(decision({ NodeID: 'n', Service: 'etcd-main', Project: 'x' }), 'allowed');
    assert.equal(decision({ NodeID: 'n', Service: 'etcd-main' }), 'implicitly denied', 'tag-key=Project');
    assert.equal(decision({ NodeID: 'n', Service: 'zookeeper', Project: 'x' }), 'implicitly denied');
    assert.match(notes.join('\n'), /availability-zone=us-east-1a has no IAM condition/);
  });

  it('preparation: SendCommand of the configured document, only to instances of groups that prepare; no statement without it', () => {
    const { policy } = policyFor({
      groups: [
        { name: 'etcd', prepare: { mountPoint: '/var/lib/etcd' } },
        { name: 'zk', prepare: { mountPoint: '/var/lib/zk', document: 'Our-PrepareVolume' } },
        { name: 'web' },
      ],
    });
    assert.equal(evaluate(policy, sendCommand('us-east-1', 'AWS-RunShellScript', { [GROUP]: 'etcd' })).decision, 'allowed');
    assert.equal(evaluate(policy, sendCommand('us-east-1', 'Our-PrepareVolume', { [GROUP]: 'zk' })).decision, 'allowed');
    assert.equal(evaluate(policy, sendCommand('us-east-1', 'AWS-RunShellScript', { [GROUP]: 'web' })).decision, 'implicitly denied');
    assert.equal(evaluate(policy, sendCommand('us-east-1', 'AWS-RunShellScript', {})).decision, 'implicitly denied');
    assert.equal(evaluate(policy, sendCommand('us-east-1', 'AWS-RunPowerShellScript', { [GROUP]: 'etcd' })).decision, 'implicitly denied');

    const without = policyFor({ groups: [{ name: 'etcd' }] }).policy;
    assert.ok(!without.Statement.some((s) => s.Action.some((a) => a.startsWith('ssm:'))), 'no preparation, no SSM');
  });

  it('claims in Parameter Store: only under the configured prefix, and no statement for the file store', () => {
    const { policy } = policyFor({ groups: [{ name: 'etcd' }], claims: { store: 'ssm', ssmPrefix: '/prod/pairkeeper' } });
    const get = (name: string): RecordedCall => ({ action: 'ssm:GetParameter', region: 'us-east-1', resources: [{ arn: arn('us-east-1', 'ssm', `parameter/${name}`), tags: {} }], requestKeys: {} });
    assert.equal(evaluate(policy, get('prod/pairkeeper/etcd/node-1')).decision, 'allowed');
    assert.equal(evaluate(policy, { ...get('prod/pairkeeper'), action: 'ssm:GetParametersByPath' }).decision, 'allowed');
    assert.equal(evaluate(policy, get('prod/pairkeeper-other/x')).decision, 'implicitly denied');
    assert.equal(evaluate(policy, get('pairkeeper/etcd/node-1')).decision, 'implicitly denied');
    assert.ok(!policyFor({ groups: [{ name: 'etcd' }] }).policy.Statement.some((s) => s.Action.includes('ssm:GetParameter')));
  });

  it('notes kms:CreateGrant for volumes encrypted with a customer managed key', () => {
    assert.match(policyFor({ groups: [{ name: 'etcd' }] }).notes.join('\n'), /kms:CreateGrant.*kms:GrantIsForAWSResource/);
  });

  it('the SQS intake: receive, delete and extend visibility on the configured queue only; no SQS statement without it', () => {
    const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/pairkeeper-intake';
    const { policy } = policyFor({ groups: [{ name: 'etcd' }], intake: { sqs: { queueUrl } } });
    const onQueue = (action: string, name: string, region = 'eu-west-1'): RecordedCall => ({
      action,
      region,
      resources: [{ arn: arn(region, 'sqs', name), tags: {} }],
      requestKeys: {},
    });
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']) {
      assert.equal(evaluate(policy, onQueue(action, 'pairkeeper-intake')).decision, 'allowed', action);
      assert.equal(evaluate(policy, onQueue(action, 'pairkeeper-intake-dlq')).decision, 'implicitly denied', `${action} on another queue`);
      assert.equal(evaluate(policy, onQueue(action, 'pairkeeper-intake', 'us-east-1')).decision, 'implicitly denied', `${action} in another region`);
    }
    for (const action of ['sqs:SendMessage', 'sqs:PurgeQueue', 'sqs:SetQueueAttributes']) {
      assert.equal(evaluate(policy, onQueue(action, 'pairkeeper-intake')).decision, 'implicitly denied', action);
    }
    assert.equal(queueArn(queueUrl, 'us-east-1'), 'arn:aws:sqs:eu-west-1:123456789012:pairkeeper-intake', 'the region the URL names');
    assert.equal(queueArn('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'us-east-1'), 'arn:aws-cn:sqs:cn-north-1:123456789012:q');
    assert.equal(queueArn('http://127.0.0.1:4566/123456789012/q', 'us-east-1'), 'arn:aws:sqs:us-east-1:123456789012:q', 'another host: the configured region');
    assert.ok(!policyFor({ groups: [{ name: 'etcd' }] }).policy.Statement.some((s) => s.Action.some((a) => a.startsWith('sqs:'))));
  });
});
