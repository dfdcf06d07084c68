import type { AddressInfo } from 'node:net';
import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { seedPairs, type PairsDescription, type SeedResult } from '../../fake-aws/ec2/seed.ts';
import { startFakeAws, type FakeAws, type FakeAwsOptions } from '../../fake-aws/index.ts';
import { CollectingSink } from './sns-app.ts';
import { LogSink } from './log-sink.ts';
import { waitFor } from './wait-for.ts';

export const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export interface World {
  aws: FakeAws;
  app: App;
  topicArn: string;
  seeded: SeedResult;
  sink: CollectingSink;
  logs: LogSink;
  /** pairkeeper's public URL, subscribed to the topic. */
  snsUrl: string;
  close(): Promise<void>;
}

/**
 * A whole world on loopback: the local AWS with seeded pairs and an Auto Scaling
 * group `etcd` that notifies a topic, and pairkeeper listening for real, subscribed
 * to that topic and confirmed the way SNS confirms (SubscriptionConfirmation →
 * pairkeeper visits the SubscribeURL).
 */
export async function startWorld(options: { pairs?: Omit<PairsDescription, 'azs'>; fake?: FakeAwsOptions } = {}): Promise<World> {
  const aws = await startFakeAws({ ec2Timing: { attachDelayMs: 5, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 }, ...options.fake });
  aws.sns.policy = { retries: 3, retryDelayMs: 50, timeoutMs: 2000 };
  const seeded = seedPairs(aws.ec2, { azs: AZS, pairs: 6, tags: { Service: 'etcd' }, ...options.pairs });
  const topicArn = aws.sns.createTopic('etcd-autoscaling');
  aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: AZS, minSize: 0, maxSize: 10, desiredCapacity: 0, notifications: [{ topicArn }] });

  const config = parseConfig(
    JSON.stringify({ aws: { region: aws.region }, sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' }, log: { level: 'debug' } }),
    'world',
  );
  const logs = new LogSink();
  const sink = new CollectingSink();
  const app = await buildApp({ config, logger: createLogger('debug', logs), sink });
  await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
  const snsUrl = `http://127.0.0.1:${(app.publicApp.server.address() as AddressInfo).port}/sns`;
  const subscription = aws.sns.subscribe(topicArn, snsUrl);
  await waitFor(() => subscription.confirmed, 'pairkeeper to confirm its subscription');

  return {
    aws,
    app,
    topicArn,
    seeded,
    sink,
    logs,
    snsUrl,
    close: async () => {
      await aws.close();
      await app.close();
    },
  };
}
