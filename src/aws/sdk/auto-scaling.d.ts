// What pairkeeper uses of @aws-sdk/client-auto-scaling: auto-scaling.js, beside this, is that package cut to it
// (npm run aws-sdk-bundles after changing this list; scripts/aws-sdk-bundles.ts says why).
export {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeNotificationConfigurationsCommand,
  DescribeWarmPoolCommand,
  PutLifecycleHookCommand,
  PutNotificationConfigurationCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
