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

  it('with a topic feeding the queue, grants reading and writing that queue\'s attributes (its policy), on that queue only', () => {
    const statements = setupIamPolicy(parseConfig(`${WITH_TOPIC}${QUEUE_ONLY.split('\n')[1]!}\n`, 'test')).policy.Statement;
    const queue = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));
    assert.deepEqual(
      queue.map((s) => [s.Action, s.Resource]),
      [[['sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'], 'arn:aws:sqs:eu-west-1:123456789012:pairkeeper']],
    );
    assert.deepEqual(actions(WITH_TOPIC).filter((a) => a.startsWith('sqs:')), [], 'no queue, no queue actions');
  });

  it('with the events from a queue alone (no topic, so setup refuses), grants only what pairs create calls', () => {
    const granted = actions(QUEUE_ONLY);
    assert.deepEqual(SETUP_ONLY.filter((a) => granted.includes(a)), []);
    assert.ok(granted.includes('ec2:CreateVolume') && granted.includes('ec2:CreateNetworkInterface') && granted.includes('autoscaling:DescribeAutoScalingGroups'));
    assert.ok(setupIamPolicy(parseConfig(QUEUE_ONLY, 'test')).notes.some((n) => /no sns\.topicArns/.test(n)));
  });
});
