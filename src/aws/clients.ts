/**
 * The SDK clients for production. One attempt per call: pairkeeper paces and
 * retries throttling and 5xx itself, with longer backoff. A request that hangs
 * fails after 10 s (the SDK only warns about it unless told to throw), so a stuck
 * connection cannot hold an instance's work forever. Endpoints come from the
 * environment as usual (AWS_ENDPOINT_URL_EC2, _SSM, _AUTO_SCALING, for the local AWS).
 */

import { AutoScalingClient } from './sdk/auto-scaling.js';
import { EC2Client } from './sdk/ec2.js';
import { SQSClient } from './sdk/sqs.js';
import { SSMClient } from './sdk/ssm.js';

/** The three clients pairkeeper uses. */
export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  autoScaling: AutoScalingClient;
}

const requestHandler = { connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true };

export function createAwsClients(region: string): AwsClients {
  return {
    ec2: new EC2Client({ region, maxAttempts: 1, requestHandler }),
    ssm: new SSMClient({ region, maxAttempts: 1, requestHandler }),
    autoScaling: new AutoScalingClient({ region, maxAttempts: 1, requestHandler }),
  };
}

/**
 * The SQS intake's client (endpoint from AWS_ENDPOINT_URL_SQS for the local AWS).
 * Its request timeout outlasts the longest long poll (20 s), which would otherwise
 * be cut off as a hung request.
 */
export function createSqsClient(region: string): SQSClient {
  return new SQSClient({ region, maxAttempts: 1, requestHandler: { ...requestHandler, requestTimeout: 30_000 } });
}

/** Lets the process end: the clients keep connections alive. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.ec2.destroy();
  clients.ssm.destroy();
  clients.autoScaling.destroy();
}
