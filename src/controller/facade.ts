/**
 * The controller as the rest of pairkeeper sees it: one narrow facade that the
 * app, the routes, the command line and the tests use, and the factory that
 * assembles what is behind it (EC2 and Auto Scaling gateways, the claim store,
 * the per-instance queue, lifecycle holds, resync, facts). Nothing behind the
 * facade is reachable from outside, so the internals can change without touching
 * a route. Nothing runs until `start()`.
 */
import type { Logger } from 'pino';
import { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../aws/clients.ts';
import { Ec2Gateway } from '../aws/ec2-gateway.ts';
import { PACING_MARGIN, RateLimiter, ec2BucketFor, ssmBucketOf, ssmBucketSize } from '../aws/rate-limiter.ts';
import { DEFAULT_RETRY_POLICY } from '../aws/retry.ts';
import type { ClaimStore } from '../claims/claim-store.ts';
import { FileClaimStore } from '../claims/file-claim-store.ts';
import { ClaimView } from './claim-view.ts';
import { SsmClaimStore } from '../claims/ssm-claim-store.ts';
import type { Config } from '../config/schema.ts';
import type { EventSink } from '../domain/autoscaling-event.ts';
import { queueArn } from '../domain/aws-arn.ts';
import type { Claim } from '../domain/pairs.ts';
import { FactsFile, type ClusterFacts } from '../notify/facts.ts';
import type { NotifyEvent } from '../domain/notify-event.ts';
import { VolumePreparer } from '../volume-prep/volume-preparer.ts';
import { Controller, type WorkOutcome } from './controller.ts';
import { FactsPublisher } from './facts-publisher.ts';
import { InstancePairing, type PairingStep } from './instance-pairing.ts';
export { PAIRING_STEPS, type PairingStep } from './instance-pairing.ts';
import { InstanceQueue } from './instance-queue.ts';
import { InstanceRegistry, type InstanceRecord } from './instance-registry.ts';
import { InventoryCache } from './inventory-cache.ts';
import { LifecycleHolds, type HoldOutcome } from './lifecycle-holds.ts';
import { pairRows, type PairRow } from './pair-rows.ts';
import { Resync, type ResyncRun } from './resync.ts';
import { SharedRead } from './shared-read.ts';
import { WriteShares } from './write-shares.ts';
import { describeStatus, type ControllerStatus, type Readiness } from './status.ts';

export type { ControllerStatus, Readiness } from './status.ts';
export type { PairRow } from './pair-rows.ts';
export { PAIR_COLUMNS } from './pair-rows.ts';
export type { InstanceRecord } from './instance-registry.ts';
export type { ResyncRun } from './resync.ts';
export type { WorkOutcome } from './controller.ts';

export interface ControllerFacade extends EventSink {
  /** Starts resync: now, then every interval. */
  start(): void;
  /** One resync run now (or the one in progress). */
  resyncNow(): Promise<ResyncRun>;
  readiness(): Readiness;
  status(): ControllerStatus;
  /** Every configured group's pairs with status and holder, read anew (requests within a second share the read). */
  pairRows(): Promise<PairRow[]>;
  /** The claims, of one group or all. */
  claims(group?: string): Promise<Claim[]>;
  /** What pairkeeper knows of each instance it has seen. */
  instances(): InstanceRecord[];
  facts(): Promise<ClusterFacts>;
  /** Resolves when no instance work is queued or running. */
  idle(): Promise<void>;
  /** Stops resync and retries, lets the work already accepted finish, then the facts file. */
  close(): Promise<void>;
}

/** What the controller reports as it works (for metrics and notifications); all optional. */
export interface ControllerReports {
  onLifecycleComplete?: (outcome: HoldOutcome & { group: string }) => void;
  onResync?: (run: ResyncRun) => void;
  onAttached?: (group: string, seconds: number) => void;
  onOutcome?: (group: string, outcome: WorkOutcome) => void;
  /** Resolves once the event has been delivered or given up on (the notifier's emit). */
  notify?: (event: NotifyEvent) => Promise<void>;
  onStep?: (step: PairingStep, ids: { instanceId: string; nodeId: string }) => void;
}

/** /v1/pairs answers from one read for this long. */
const PAIR_ROWS_SHARED_MS = 1000;
/** How far back the instances each replica owns are counted for its part of Parameter Store (a burst of 100 launches writes its claims in about 33 s). */
const SHARE_WINDOW_MS = 60_000;

/** Reads of a group's pairs are shared for this long: a burst of launches costs one inventory. */
const INVENTORY_MAX_AGE_MS = 2000;

/**
 * Assembles the controller. Without `clients` it makes its own from the config's
 * region and destroys them on close (the command line's case).
 */
export function createController(config: Config, options: { logger: Logger; clients?: AwsClients; reports?: ControllerReports }): ControllerFacade {
  const { logger, reports = {} } = options;
  const clients = options.clients ?? createAwsClients(config.aws.region);
  const ec2 = new Ec2Gateway({
    client: clients.ec2,
    limiter: new RateLimiter({ sizeOf: ec2BucketFor, scale: config.aws.ec2RateScale * PACING_MARGIN }),
    retry: DEFAULT_RETRY_POLICY,
    batchWindowMs: config.aws.pollIntervalMs,
  });
  // Replicas not given a fixed part of Parameter Store's buckets take parts in proportion to the instances they own.
  const shares =
    config.replicas.count > 1 && config.aws.ssmShare === undefined
      ? new WriteShares({ index: config.replicas.index, count: config.replicas.count, windowMs: SHARE_WINDOW_MS })
      : undefined;
  // Without shares and a fixed part there is one replica: the whole.
  const parameterStoreShare = config.claims.store === 'ssm' ? () => config.aws.ssmShare ?? shares?.mine() ?? 1 : undefined;
  const claims: ClaimStore = parameterStoreShare ? ssmClaimStore(config, clients, parameterStoreShare) : new FileClaimStore(config.claims.path);
  const inventory = new InventoryCache({ ec2, maxAgeMs: INVENTORY_MAX_AGE_MS });
  const claimView = new ClaimView(claims);
  const registry = new InstanceRegistry();
  const rowReads = new SharedRead<PairRow[]>();
  const groups = config.groups;
  const facts = new FactsPublisher({ service: { groups, inventory, claims }, file: config.notify.factsFile ? new FactsFile(config.notify.factsFile) : undefined, logger });
  const notify = (event: NotifyEvent): Promise<void> => {
    if (event.type === 'pair.attached' || event.type === 'pair.released') facts.refresh({ fresh: true });
    return reports.notify?.(event) ?? Promise.resolve();
  };
  const queue = new InstanceQueue({
    concurrency: config.work.concurrency,
    limit: config.work.queueLimit,
    onError: (instanceId, err) => logger.error({ err, instanceId }, 'unexpected error in instance work'),
  });
  const autoScaling = new AutoScalingGateway({ client: clients.autoScaling, retry: DEFAULT_RETRY_POLICY });
  const pairing = new InstancePairing({
    ec2,
    autoScaling,
    claims,
    claimView,
    inventory,
    registry,
    logger,
    pollIntervalMs: config.aws.pollIntervalMs,
    attachTimeoutMs: config.aws.attachTimeoutSeconds * 1000,
    replicaCount: config.replicas.count,
    onRelease: (group, az) => controller.released(group, az),
    notify,
    ...(reports.onStep ? { onStep: reports.onStep } : {}),
    ...(reports.onAttached ? { onAttached: reports.onAttached } : {}),
    ...(groups.some((g) => g.prepare)
      ? { preparer: new VolumePreparer({ client: clients.ssm, retry: DEFAULT_RETRY_POLICY, pollIntervalMs: config.aws.pollIntervalMs, logger }) }
      : {}),
  });
  const holds = new LifecycleHolds({ autoScaling, logger, ...(reports.onLifecycleComplete ? { onComplete: reports.onLifecycleComplete } : {}) });
  const controller: Controller = new Controller({
    groups,
    pairing,
    queue,
    registry,
    holds,
    logger,
    notify: (event) => void notify(event),
    replicas: { index: config.replicas.index, count: config.replicas.count, takeoverMs: config.replicas.takeoverSeconds * 1000, ...(shares ? { shares } : {}) },
    ...(reports.onStep ? { onStep: reports.onStep } : {}),
    ...(reports.onOutcome ? { onOutcome: reports.onOutcome } : {}),
  });
  const resync = new Resync({
    groups,
    autoScaling,
    ec2,
    claims,
    claimView,
    inventory,
    controller,
    hookTargetArns: [...config.sns.topicArns, ...(config.intake.sqs ? [queueArn(config.intake.sqs.queueUrl, config.aws.region)] : [])],
    intervalMs: config.resync.intervalSeconds * 1000,
    logger,
    onRun: (run) => {
      reports.onResync?.(run);
      // Resync has just read the pairs: share that read.
      if (!run.error) facts.refresh({ fresh: false });
    },
  });

  return {
    accept: (event, source) => controller.accept(event, source),
    start: () => resync.start(),
    resyncNow: () => resync.run(),
    readiness: () => resync.readiness(),
    status: () =>
      describeStatus({
        resync,
        registry,
        groups,
        queueDepth: queue.depth,
        lifecycleHolds: holds.size,
        leftToOtherReplicas: controller.leftToOtherReplicas(),
        parameterStoreShare: parameterStoreShare?.(),
      }),
    // Requests within a second share one fresh read: an operator's dashboard polling the route cannot
    // turn it into a stream of AWS calls competing with pairing for the same rate limits.
    pairRows: () => rowReads.get('rows', PAIR_ROWS_SHARED_MS, () => pairRows({ groups, inventory, claims })),
    claims: (group) => claims.list(group),
    instances: () => registry.list(),
    facts: () => facts.current(),
    idle: async () => {
      await queue.idle();
      await pairing.recordsIdle();
      await facts.idle();
    },
    close: async () => {
      resync.close();
      controller.close();
      await queue.idle();
      await facts.idle();
      if (!options.clients) destroyAwsClients(clients);
    },
  };
}

/**
 * Claims in Parameter Store, paced with its buckets (this replica's part of them at each call:
 * `aws.ssmShare`, or in proportion to the instances it owns, see WriteShares) as EC2 calls are with EC2's.
 */
function ssmClaimStore(config: Config, clients: AwsClients, share: () => number): SsmClaimStore {
  const { ssmHigherThroughput: higher, ssmRateScale } = config.aws;
  const limiter = new RateLimiter({ sizeOf: (bucket) => ssmBucketSize(bucket, { higherThroughput: higher, share: share() }), scale: ssmRateScale * PACING_MARGIN });
  return new SsmClaimStore({ client: clients.ssm, prefix: config.claims.ssmPrefix, pace: (action) => limiter.take(ssmBucketOf(action, higher)) });
}
