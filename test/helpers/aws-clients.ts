import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/pairing-service.ts';
import { clientConfigFor } from './fake-aws-client.ts';

/** Real SDK clients pointed at a local AWS (one attempt each: pairkeeper retries itself). */
export function clientsFor(endpoint: string, region = 'us-east-1'): AwsClients {
  return {
    ec2: new EC2Client(clientConfigFor(endpoint, region)),
    ssm: new SSMClient(clientConfigFor(endpoint, region)),
    autoScaling: new AutoScalingClient(clientConfigFor(endpoint, region)),
  };
}

/** For apps that configure no groups and so never call AWS: nothing listens at port 9. */
export const offlineClients = (): AwsClients => clientsFor('http://127.0.0.1:9');
