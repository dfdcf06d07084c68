// What pairkeeper uses of @aws-sdk/client-sqs: sqs.js, beside this, is that package cut to it
// (npm run aws-sdk-bundles after changing this list; scripts/aws-sdk-bundles.ts says why).
export {
  SQSClient,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
