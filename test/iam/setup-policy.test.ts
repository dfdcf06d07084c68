import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { setupIamPolicy } from '../../src/iam/setup-policy.ts';

const GROUPS = 'groups: [{ name: etcd, filters: "Service=etcd" }]\n';
const WITH_TOPIC = `aws: { region: eu-west-1 }\nsns: { topicArns: [arn:aws:sns:eu-west-1:123456789012:pairkeeper] }\n${GROUPS}`;
const QUEUE_ONLY = `aws: { region: eu-west-1 }\nintake: { sqs: { queueUrl: https://sqs.eu-west-1.amazonaws.com/123456789012/pairkeeper } }\n${GROUPS}`;

const actions = (text: string) => setupIamPolicy(parseConfig(text, 'test')).policy.Statement.flatMap((s) => s.Action);
/** What only `setup` calls: the topic, its subscription, the groups' notifications and hooks. */
const SETUP_ONLY = ['sns:CreateTopic', 'sns:Subscribe', 'sns:ListTopics', 'sns:ListSubscriptionsByTopic', 'autoscaling:PutNotificationConfiguration', 'autoscaling:DescribeNotificationConfigurations', 'autoscaling:PutLifecycleHook', 'autoscaling:DescribeLifecycleHooks', 'iam:PassRole'];

describe('the setup policy (pairkeeper iam-policy --for setup)', () => {
  it('with a topic, grants what setup calls beside what pairs create calls', () => {
    const granted = actions(WITH_TOPIC);
    assert.deepEqual(SETUP_ONLY.filter((a) => !granted.includes(a)), []);
    assert.ok(granted.includes('ec2:CreateVolume'));
  });

  it('with the events from a queue alone (no topic, so setup refuses), grants only what pairs create calls', () => {
    const granted = actions(QUEUE_ONLY);
    assert.deepEqual(SETUP_ONLY.filter((a) => granted.includes(a)), []);
    assert.ok(granted.includes('ec2:CreateVolume') && granted.includes('ec2:CreateNetworkInterface') && granted.includes('autoscaling:DescribeAutoScalingGroups'));
    assert.ok(setupIamPolicy(parseConfig(QUEUE_ONLY, 'test')).notes.some((n) => /no sns\.topicArns/.test(n)));
  });
});
