import type { FakeInstance } from '../ec2/types.ts';

/**
 * EC2's `EC2 Instance State-change Notification`, as the EC2 user guide shows it
 * ("State change events for Amazon EC2 instances"): the instance ARN as the one
 * resource, and only the id and new state in the detail.
 */
export function instanceStateChange(instance: FakeInstance, region: string, accountId: string) {
  return {
    source: 'aws.ec2',
    detailType: 'EC2 Instance State-change Notification',
    resources: [`arn:aws:ec2:${region}:${accountId}:instance/${instance.instanceId}`],
    detail: { 'instance-id': instance.instanceId, state: instance.state },
  };
}
