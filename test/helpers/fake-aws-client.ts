import type { FakeAws } from '../../fake-aws/index.ts';

export interface FakeAwsClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/**
 * An AWS SDK client's settings for the fake: its endpoint and region, any credentials,
 * and no SDK retries, so every error the fake answers reaches the assertion.
 */
export function fakeAwsClientConfig(aws: FakeAws): FakeAwsClientConfig {
  return {
    region: aws.region,
    endpoint: aws.url,
    credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' },
    maxAttempts: 1,
  };
}
