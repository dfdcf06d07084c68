import { FakeAwsError } from '../errors.ts';
import { isWellFormedId } from './ids.ts';

/**
 * EC2's error codes and messages for the cases the fake models, worded as real EC2
 * words them (seen in SDK issue reports), so code matching on messages keeps working.
 */
export const ec2Errors = {
  volumeNotFound: (id: string) => new FakeAwsError('InvalidVolume.NotFound', `The volume '${id}' does not exist.`),
  networkInterfaceNotFound: (id: string) =>
    new FakeAwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`),
  instancesNotFound: (ids: string[]) =>
    new FakeAwsError(
      'InvalidInstanceID.NotFound',
      ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`,
    ),
  subnetNotFound: (id: string) => new FakeAwsError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`),
  securityGroupNotFound: (id: string, vpcId: string) =>
    new FakeAwsError('InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${vpcId}'`),
  attachmentNotFound: (id: string) =>
    new FakeAwsError('InvalidAttachmentID.NotFound', `The network interface attachment ID '${id}' does not exist`),
  malformed: (code: string, id: string, prefix: string) =>
    new FakeAwsError(code, `Invalid id: "${id}" (expecting "${prefix}-...")`),
  invalidValue: (message: string) => new FakeAwsError('InvalidParameterValue', message),
  missing: (name: string) => new FakeAwsError('MissingParameter', `The request must contain the parameter ${name}`),
  combination: (message: string) => new FakeAwsError('InvalidParameterCombination', message),
  invalidPaginationToken: () => new FakeAwsError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.'),
};

const MALFORMED_CODES: Record<string, string> = {
  i: 'InvalidInstanceID.Malformed',
  vol: 'InvalidVolumeID.Malformed',
  eni: 'InvalidNetworkInterfaceID.Malformed',
  subnet: 'InvalidSubnetID.Malformed',
  sg: 'InvalidGroupId.Malformed',
};

/** EC2 checks an id's shape before looking it up. */
export function assertWellFormed(prefix: 'i' | 'vol' | 'eni' | 'subnet' | 'sg', id: string): void {
  if (!isWellFormedId(prefix, id)) throw ec2Errors.malformed(MALFORMED_CODES[prefix]!, id, prefix);
}
