// What pairkeeper uses of @aws-sdk/client-sns: sns.js, beside this, is that package cut to it
// (npm run aws-sdk-bundles after changing this list; scripts/aws-sdk-bundles.ts says why).
export {
  SNSClient,
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
