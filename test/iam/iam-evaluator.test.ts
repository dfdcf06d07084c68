import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedCall } from '../../fake-aws/call-recorder.ts';
import { arnLike, evaluate, type Policy, type Statement } from '../../fake-aws/iam-evaluator.ts';

/**
 * The evaluator the policy tests rely on, held to IAM's documented rules where a
 * sloppy evaluator would let a hole through: ForAllValues on an absent key, Null,
 * Deny over Allow, every resource of a call, wildcards not crossing ARN parts.
 */
const VOLUME = 'arn:aws:ec2:us-east-1:123456789012:volume/vol-1';
const INSTANCE = 'arn:aws:ec2:us-east-1:123456789012:instance/i-1';

function call(overrides: Partial<RecordedCall>): RecordedCall {
  return { action: 'ec2:DeleteTags', region: 'us-east-1', resources: [{ arn: VOLUME, tags: {} }], requestKeys: {}, ...overrides };
}

const onlyOwnTags = (withNull: boolean): Policy => ({
  Statement: [
    {
      Effect: 'Allow',
      Action: 'ec2:DeleteTags',
      Resource: 'arn:aws:ec2:*:*:volume/*',
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['mine'] }, ...(withNull ? { Null: { 'aws:TagKeys': 'false' } } : {}) },
    },
  ],
});

describe('IAM evaluator', () => {
  it('ForAllValues passes a request without the key (the DeleteTags-without-keys hole); Null closes it', () => {
    assert.equal(evaluate(onlyOwnTags(false), call({})).decision, 'allowed');
    assert.equal(evaluate(onlyOwnTags(true), call({})).decision, 'implicitly denied');
    assert.equal(evaluate(onlyOwnTags(true), call({ requestKeys: { 'aws:TagKeys': ['mine'] } })).decision, 'allowed');
    assert.equal(evaluate(onlyOwnTags(true), call({ requestKeys: { 'aws:TagKeys': ['mine', 'theirs'] } })).decision, 'implicitly denied');
  });

  it('ForAnyValue fails without the key; a plain operator on a multivalued key is an error, not a guess', () => {
    const any: Policy = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'mine' } } }] };
    assert.equal(evaluate(any, call({})).decision, 'implicitly denied');
    const plain: Policy = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:TagKeys': 'mine' } } }] };
    assert.throws(() => evaluate(plain, call({ requestKeys: { 'aws:TagKeys': ['mine'] } })), /multivalued/);
  });

  it('a missing key fails a single-valued operator unless IfExists; an unknown operator is an error', () => {
    const policy = (op: string): Policy => ({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { [op]: { 'aws:ResourceTag/Service': 'etcd' } } }] });
    assert.equal(evaluate(policy('StringEquals'), call({})).decision, 'implicitly denied');
    assert.equal(evaluate(policy('StringEqualsIfExists'), call({})).decision, 'allowed');
    assert.throws(() => evaluate(policy('NumericLessThan'), call({})), /not supported/);
  });

  it('every resource of a call must be allowed; an explicit Deny wins; actions ignore case', () => {
    const policy: Policy = {
      Statement: [
        { Effect: 'Allow', Action: 'ec2:attach*', Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:instance/*'] },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'ec2:ResourceTag/Locked': 'yes' } } },
      ],
    };
    const attach = call({ action: 'ec2:AttachVolume', resources: [{ arn: INSTANCE, tags: {} }, { arn: VOLUME, tags: {} }] });
    assert.equal(evaluate(policy, attach).decision, 'allowed');
    assert.equal(evaluate({ Statement: [{ ...policy.Statement[0]!, Resource: 'arn:aws:ec2:*:*:volume/*' }] }, attach).decision, 'implicitly denied');
    assert.equal(evaluate(policy, { ...attach, resources: [{ arn: INSTANCE, tags: { Locked: 'yes' } }, { arn: VOLUME, tags: {} }] }).decision, 'explicitly denied');
  });

  it('a call without resources is authorized on "*" only; wildcards stay inside their ARN part', () => {
    const scoped: Policy = { Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: 'arn:aws:ec2:*:*:volume/*' }] };
    assert.equal(evaluate(scoped, call({ action: 'ec2:DescribeVolumes', resources: [] })).decision, 'implicitly denied');
    assert.ok(arnLike('arn:aws:ec2:*:*:volume/*', VOLUME));
    assert.ok(!arnLike('arn:aws:ec2:*:123456789012:volume/*', 'arn:aws:ec2:us-east-1:999999999999:123456789012:volume/vol-1'), 'a * does not reach across the colons between ARN parts');
    assert.ok(arnLike('arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/etcd', 'arn:aws:autoscaling:us-east-1:1:autoScalingGroup:u-u:autoScalingGroupName/etcd'));
    assert.ok(!arnLike('arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/etcd', 'arn:aws:autoscaling:us-east-1:1:autoScalingGroup:u-u:autoScalingGroupName/etcd2'));
  });
});

/** A queue's policy as SNS meets it: the service principal sns.amazonaws.com sending on behalf of a topic. */
describe('IAM evaluator on a resource-based policy', () => {
  const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:intake';
  const TOPIC = 'arn:aws:sns:us-east-1:123456789012:asg';
  const SNS = { service: 'sns.amazonaws.com' };
  const send = call({ action: 'sqs:SendMessage', resources: [{ arn: QUEUE, tags: {} }], requestKeys: { 'aws:SourceArn': TOPIC, 'aws:SourceAccount': '123456789012' } });
  const allowing = (principal: NonNullable<Statement['Principal']>, condition?: Statement['Condition']): Statement => ({
    Effect: 'Allow',
    Principal: principal,
    Action: 'SQS:SendMessage',
    Resource: QUEUE,
    ...(condition ? { Condition: condition } : {}),
  });
  const decide = (...statements: Statement[]) => evaluate({ Version: '2012-10-17', Id: 'q', Statement: statements }, send, SNS).decision;

  it('a statement applies only when its Principal names the caller: "*", AWS "*", or that exact service', () => {
    assert.equal(decide(allowing('*')), 'allowed');
    assert.equal(decide(allowing({ AWS: '*' })), 'allowed');
    assert.equal(decide(allowing({ Service: ['events.amazonaws.com', 'sns.amazonaws.com'] })), 'allowed');
    assert.equal(decide(allowing({ Service: 'events.amazonaws.com' })), 'implicitly denied');
    assert.equal(decide(allowing({ Service: 'sns.amazonaws.com.evil' })), 'implicitly denied');
    assert.equal(decide(allowing({ AWS: 'arn:aws:iam::123456789012:root' })), 'implicitly denied');
    assert.equal(decide({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE }), 'implicitly denied', 'no Principal, nobody');
    assert.equal(decide(), 'implicitly denied');
  });

  it('ArnEquals on aws:SourceArn lets in the topic named and no other; a Deny beside the Allow wins', () => {
    assert.equal(decide(allowing({ Service: 'sns.amazonaws.com' }, { ArnEquals: { 'aws:SourceArn': TOPIC } })), 'allowed');
    assert.equal(decide(allowing({ Service: 'sns.amazonaws.com' }, { ArnEquals: { 'aws:SourceArn': `${TOPIC}-other` } })), 'implicitly denied');
    assert.equal(decide(allowing('*', { StringEquals: { 'aws:SourceAccount': '123456789012' } })), 'allowed');
    assert.equal(decide(allowing('*'), { ...allowing({ Service: 'sns.amazonaws.com' }), Sid: 'no-sns', Effect: 'Deny' }), 'explicitly denied');
  });

  it('NotPrincipal, NotAction and NotResource are errors, never a silent match', () => {
    for (const not of ['NotPrincipal', 'NotAction', 'NotResource']) {
      const statement = { ...allowing('*'), [not]: '*' };
      assert.throws(() => decide(statement), new RegExp(not));
      assert.throws(() => evaluate({ Statement: [statement] }, send), new RegExp(not));
    }
  });
});
