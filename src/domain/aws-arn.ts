/**
 * How AWS names things pairkeeper names: the partition of a region, and the ARN of
 * an SQS queue from its URL. The IAM policy and the resync (which hooks are ours)
 * both need them.
 */

/**
 * The partition of a region, as the AWS SDK's partition table says (its `regionRegex`
 * per partition; test/iam/policy.test.ts compares with the SDK): ARNs start `arn:<partition>:`.
 */
const PARTITIONS: [RegExp, string][] = [
  [/^cn-\w+-\d+$/, 'aws-cn'],
  [/^us-gov-\w+-\d+$/, 'aws-us-gov'],
  [/^us-iso-\w+-\d+$/, 'aws-iso'],
  [/^us-isob-\w+-\d+$/, 'aws-iso-b'],
  [/^eu-isoe-\w+-\d+$/, 'aws-iso-e'],
  [/^us-isof-\w+-\d+$/, 'aws-iso-f'],
  [/^eusc-de-\w+-\d+$/, 'aws-eusc'],
];

export function partitionOf(region: string): string {
  return PARTITIONS.find(([pattern]) => pattern.test(region))?.[1] ?? 'aws';
}

/**
 * The ARN of a queue from its URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`):
 * the region the host names, or the configured one for any other host.
 */
export function queueArn(queueUrl: string, region: string): string {
  const url = new URL(queueUrl);
  const [, account, name] = url.pathname.split('/');
  const queueRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1] ?? region;
  return `arn:${partitionOf(queueRegion)}:sqs:${queueRegion}:${account}:${name}`;
}
