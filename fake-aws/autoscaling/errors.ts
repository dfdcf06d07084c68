import { FakeAwsError } from '../errors.ts';

/** Auto Scaling answers most bad requests with `ValidationError` (400) and a sentence; these are its sentences. */
export function validationError(message: string): FakeAwsError {
  return new FakeAwsError('ValidationError', message, 400);
}

export const autoScalingErrors = {
  groupNotFound: (name: string) => validationError(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`),
  groupExists: (name: string) =>
    new FakeAwsError('AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`, 400),
  noActionWithToken: (token: string) => validationError(`No active Lifecycle Action found with token ${token}`),
  noActionWithInstance: (instanceId: string) => validationError(`No active Lifecycle Action found with instance ID ${instanceId}`),
  hookNotFound: (hook: string, group: string) => validationError(`No Lifecycle Hook found with name ${hook} for group ${group}`),
  instanceNotFound: (instanceId: string) => validationError(`Instance Id not found - No managed instance found for instance ID: ${instanceId}`),
  invalidNextToken: () => new FakeAwsError('InvalidNextToken', 'The token is not valid.', 400),
};
