/**
 * The resources an Auto Scaling call is authorized against: the group, for the
 * lifecycle actions pairkeeper calls and the hook and notification puts of
 * `pairkeeper setup`; none for the Describe calls (Service Authorization
 * Reference). Other actions are recorded without resources.
 */
import { NO_RESOURCES, tagsOf, type CallResources } from '../call-recorder.ts';
import type { FakeAutoScaling } from './fake-autoscaling.ts';

const ON_THE_GROUP = new Set(['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat', 'PutLifecycleHook', 'PutNotificationConfiguration']);

export function autoScalingCallResources(asg: FakeAutoScaling, action: string, params: URLSearchParams): CallResources {
  if (!ON_THE_GROUP.has(action)) return NO_RESOURCES;
  const group = asg.groups().find((g) => g.name === params.get('AutoScalingGroupName'));
  return group ? { resources: [{ arn: group.arn, tags: tagsOf(group.tags) }], requestKeys: {} } : NO_RESOURCES;
}
