// What pairkeeper uses of @aws-sdk/client-ssm: ssm.js, beside this, is that package cut to it
// (npm run aws-sdk-bundles after changing this list; scripts/aws-sdk-bundles.ts says why).
export {
  SSMClient,
  DeleteParameterCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
