/**
 * Real AWS SDK clients (and their settings) pointed at the local AWS: its endpoint
 * and region, the fake's credentials, and no SDK retries, so every error the fake
 * answers reaches the caller. Tests and benchmarks both use these.
 */
import { AutoScalingClient } from '../src/aws/sdk/auto-scaling.js';
import { EC2Client } from '../src/aws/sdk/ec2.js';
import { SSMClient } from '../src/aws/sdk/ssm.js';
import type { AwsClients } from '../src/aws/clients.ts';
import { FAKE_CREDENTIALS, type FakeAws } from './index.ts';

export interface FakeAwsClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/** An SDK client's settings for this fake. */
export function fakeAwsClientConfig(aws: FakeAws): FakeAwsClientConfig {
  return clientConfigFor(aws.url, aws.region);
}

/** The same settings for any endpoint (also one where nothing listens). */
export function clientConfigFor(endpoint: string, region: string): FakeAwsClientConfig {
  return { region, endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1 };
}

/** pairkeeper's three clients pointed at a local AWS (one attempt each: pairkeeper retries itself). */
export function clientsFor(endpoint: string, region = 'us-east-1'): AwsClients {
  return {
    ec2: new EC2Client(clientConfigFor(endpoint, region)),
    ssm: new SSMClient(clientConfigFor(endpoint, region)),
    autoScaling: new AutoScalingClient(clientConfigFor(endpoint, region)),
  };
}

/** For apps that configure no groups and so never call AWS: nothing listens at port 9. */
export const offlineClients = (): AwsClients => clientsFor('http://127.0.0.1:9');
