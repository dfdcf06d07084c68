import { afterEach } from 'node:test';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { InitializeMiddleware } from '@smithy/types';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../src/app.ts';
import type { InstanceRecord, PairingStep } from '../../src/controller/facade.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { seedPairs, type PairsDescription, type SeedResult } from '../../fake-aws/ec2/seed.ts';
import { startFakeAws, type FakeAws, type FakeAwsOptions } from '../../fake-aws/index.ts';
import { SQSClient } from '../../src/aws/sdk/sqs.js';
import { clientConfigFor, clientsFor } from '../../fake-aws/clients.ts';
import { LogSink } from './log-sink.ts';
import { waitFor } from './wait-for.ts';

export const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export interface Replica {
  app: App;
  logs: LogSink;
  /** pairkeeper's public URL, subscribed to the topic. */
  snsUrl: string;
  /**
   * Stops it the way a crash would: the listener goes at once, and every AWS call it
   * makes from now on fails, so work in flight stops at its next step. A call already
   * sent completes at AWS, as after a real kill.
   */
  kill(): Promise<void>;
  /**
   * The start of kill(), at once, for a crash from inside (an onStep hook): the kill
   * switch flips, connections are cut, and notifications not yet sent are lost, as
   * they would be with the process. kill() or restart() finishes it.
   */
  crash(): void;
  close(): Promise<void>;
  /** The configuration it runs with (a restart keeps it). */
  config: Config;
}

export interface World {
  aws: FakeAws;
  topicArn: string;
  /** Set when the intake is a queue. */
  queue: WorldQueue | undefined;
  seeded: SeedResult;
  /** pairkeeper's configuration (JSON, hence also YAML), for a pairkeeper started elsewhere. */
  configText: string;
  /** The first (often only) pairkeeper. */
  app: App;
  logs: LogSink;
  replicas: Replica[];
  /** Starts one more pairkeeper with the same configuration (and `config`'s top-level keys over it), subscribed too. */
  addReplica(config?: Record<string, unknown>): Promise<Replica>;
  /** Kills a replica and starts a new one in its place (same port, so its subscription stays). */
  restart(replica: Replica): Promise<Replica>;
  /** Kinds of the events pairkeeper received, oldest first. */
  eventKinds(app?: App): string[];
  close(): Promise<void>;
}

export type Intake = 'sns' | 'sqs-envelope' | 'sqs-raw' | 'eventbridge';

/** The intake queue of a world whose intake is a queue. */
export interface WorldQueue {
  url: string;
  arn: string;
  deadLetterUrl: string;
}

export interface WorldOptions {
  pairs?: Omit<PairsDescription, 'azs'>;
  fake?: FakeAwsOptions;
  claims?: 'file' | 'ssm';
  /** Extra keys for pairkeeper's config (merged at the top level). */
  config?: Record<string, unknown>;
  /**
   * How Auto Scaling's messages reach pairkeeper: SNS over HTTP (the default), or an
   * SQS queue (with a dead-letter queue after 3 receives) fed by SNS with its
   * envelope, by SNS with raw delivery, or by an EventBridge rule.
   */
  intake?: Intake;
  /** 0: no pairkeeper in this process (a test runs its own, e.g. as a child process). Default 1. */
  replicas?: 0 | 1;
  /** Told as any replica does a pairing step, with that replica's crash(): a crash-point test stops it there. */
  onStep?: (step: PairingStep, ids: { instanceId: string; nodeId: string }, crash: () => void) => void;
}

/**
 * A whole world on loopback: the local AWS with seeded pairs (tag Service=etcd) and an
 * Auto Scaling group `etcd` notifying a topic, and pairkeeper listening for real,
 * configured for the group, subscribed and confirmed the way SNS confirms.
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const aws = await startFakeAws({ ec2Timing: { attachDelayMs: 5, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 }, ...options.fake });
  aws.sns.policy = { retries: 3, retryDelayMs: 50, timeoutMs: 2000 };
  const seeded = seedPairs(aws.ec2, { azs: AZS, pairs: 6, tags: { Service: 'etcd' }, ...options.pairs });
  const topicArn = aws.sns.createTopic('etcd-autoscaling');
  aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: AZS, minSize: 0, maxSize: 500, desiredCapacity: 0, notifications: [{ topicArn }] });
  const intake = options.intake ?? 'sns';
  const queue = intake === 'sns' ? undefined : intakeQueue(aws, topicArn, intake);
  const claimsPath = join(mkdtempSync(join(tmpdir(), 'pk-world-')), 'claims.json');

  const configText = JSON.stringify({
    // Time runs faster here (hooks 20×, attaches in ms): AWS's request rates are scaled with it; a test of the rates themselves sets its own.
    aws: { region: aws.region, ec2RateScale: 1000, ssmRateScale: 1000, pollIntervalMs: 10, attachTimeoutSeconds: 20 },
    // A queue fed raw or by EventBridge carries no SNS message: such a config names no topic.
    ...(intake === 'sns' || intake === 'sqs-envelope' ? { sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' } } : {}),
    groups: [{ name: 'etcd', filters: 'Service=etcd' }],
    claims: { store: options.claims ?? 'file', path: claimsPath },
    resync: { intervalSeconds: 3600 },
    log: { level: 'debug' },
    ...(queue ? { intake: { sqs: { queueUrl: queue.url, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2 } } } : {}),
    ...options.config,
  });
  const replicas: Replica[] = [];
  const startReplica = async (port: number, config: Config): Promise<Replica> => {
    const logs = new LogSink();
    const clients = clientsFor(aws.url, aws.region);
    let killed = false;
    const killSwitch = <I extends object, O extends object>(): InitializeMiddleware<I, O> => (next) => (args) =>
      killed ? Promise.reject(new Error('killed: this pairkeeper no longer runs')) : next(args);
    clients.ec2.middlewareStack.add(killSwitch(), { step: 'initialize' });
    clients.ssm.middlewareStack.add(killSwitch(), { step: 'initialize' });
    clients.autoScaling.middlewareStack.add(killSwitch(), { step: 'initialize' });
    const sqs = new SQSClient(clientConfigFor(aws.url, aws.region));
    sqs.middlewareStack.add(killSwitch(), { step: 'initialize' });
    // Filled once built: a step can only come after the app has started making AWS calls.
    const built: { app?: App } = {};
    const crash = () => {
      killed = true;
      built.app?.publicApp.server.closeAllConnections();
      void built.app?.notifier.close();
    };
    const onStep = options.onStep;
    const app = await buildApp({ config, logger: createLogger('debug', logs), clients, sqs, ...(onStep ? { onStep: (step, ids) => onStep(step, ids, crash) } : {}) });
    built.app = app;
    await app.publicApp.listen({ host: '127.0.0.1', port });
    const snsUrl = `http://127.0.0.1:${(app.publicApp.server.address() as AddressInfo).port}/sns`;
    let closed: Promise<void> | undefined;
    const kill = async () => {
      crash();
      // The app's own shutdown order; what was in flight fails at its next AWS call and finishes failing.
      await (closed ??= app.close());
    };
    const replica = { app, logs, snsUrl, kill, crash, config, close: () => (closed ??= app.close()) };
    replicas.push(replica);
    return replica;
  };
  const addReplica = async (overrides: Record<string, unknown> = {}): Promise<Replica> => {
    const replica = await startReplica(0, parseConfig(JSON.stringify({ ...JSON.parse(configText), ...overrides }), 'world'));
    if (queue) return replica;
    const subscription = aws.sns.subscribe(topicArn, replica.snsUrl);
    await waitFor(() => subscription.confirmed, 'pairkeeper to confirm its subscription');
    return replica;
  };
  const restart = async (replica: Replica): Promise<Replica> => {
    await replica.kill();
    replicas.splice(replicas.indexOf(replica), 1);
    return startReplica(Number(new URL(replica.snsUrl).port), replica.config);
  };
  if (options.replicas !== 0) await addReplica();

  return {
    aws,
    topicArn,
    queue,
    seeded,
    configText,
    get app() {
      return replicas[0]!.app;
    },
    get logs() {
      return replicas[0]!.logs;
    },
    replicas,
    addReplica,
    restart,
    eventKinds: (app = replicas[0]!.app) => app.recentEvents.list().reverse().filter((e) => e.type === 'Notification').map((e) => e.kind ?? ''),
    close: async () => {
      // pairkeeper first: it finishes the work it accepted while the AWS it talks to is still there.
      await Promise.all(replicas.map((r) => r.close()));
      await aws.close();
    },
  };
}

/**
 * `startWorld` for a test file: every world it starts is closed after its test.
 * Call once at the top of the file; it registers the afterEach hook there.
 */
export function worldsClosedAfterEach(): (options?: WorldOptions) => Promise<World> {
  const open: World[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
  });
  return async (options) => {
    const w = await startWorld(options);
    open.push(w);
    return w;
  };
}

/** What the app knows of one instance (its /v1/instances row). */
export function instanceRecord(app: App, instanceId: string): InstanceRecord | undefined {
  return app.controller.instances().find((r) => r.instanceId === instanceId);
}

/** A queue (with its dead-letter queue) that the group's messages reach by the given way. */
function intakeQueue(aws: FakeAws, topicArn: string, intake: Exclude<Intake, 'sns'>): WorldQueue {
  const deadLetter = aws.sqs.createQueue('pairkeeper-intake-dlq');
  const queue = aws.sqs.createQueue('pairkeeper-intake', {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: 3 }),
  });
  if (intake === 'eventbridge') {
    aws.events.putRule({ name: 'etcd-to-pairkeeper', pattern: { source: ['aws.autoscaling'], detail: { AutoScalingGroupName: ['etcd'] } }, queueArn: queue.arn });
  } else {
    aws.sns.subscribeQueue(topicArn, queue.arn, { rawMessageDelivery: intake === 'sqs-raw' });
  }
  return { url: aws.sqs.urlOf(queue), arn: queue.arn, deadLetterUrl: aws.sqs.urlOf(deadLetter) };
}
