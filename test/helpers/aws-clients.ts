import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/pairing-service.ts';

const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };

/** Real SDK clients pointed at a local AWS (one attempt each: pairkeeper retries itself). */
export function clientsFor(endpoint: string, region = 'us-east-1'): AwsClients {
  return {
    ec2: new EC2Client({ region, endpoint, credentials, maxAttempts: 1 }),
    ssm: new SSMClient({ region, endpoint, credentials, maxAttempts: 1 }),
  };
}

/** For apps that configure no groups and so never call AWS: nothing listens at port 9. */
export const offlineClients = (): AwsClients => clientsFor('http://127.0.0.1:9');
