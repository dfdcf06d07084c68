import { FAKE_CREDENTIALS, type FakeAws } from '../../fake-aws/index.ts';

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
  return clientConfigFor(aws.url, aws.region);
}

/** The same settings for any endpoint (also one where nothing listens). */
export function clientConfigFor(endpoint: string, region: string): FakeAwsClientConfig {
  return { region, endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1 };
}
