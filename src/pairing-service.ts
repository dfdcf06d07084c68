import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from 'pino';
import { AutoScalingGateway } from './aws/autoscaling-gateway.ts';
import { Ec2Gateway } from './aws/ec2-gateway.ts';
import { PACING_MARGIN, RateLimiter, ec2BucketFor } from './aws/rate-limiter.ts';
import { DEFAULT_RETRY_POLICY } from './aws/retry.ts';
import type { ClaimStore } from './claims/claim-store.ts';
import { FileClaimStore } from './claims/file-claim-store.ts';
import { SsmClaimStore } from './claims/ssm-claim-store.ts';
import type { Config } from './config/schema.ts';
import { Controller, type WorkOutcome } from './controller/controller.ts';
import { InstanceQueue } from './controller/instance-queue.ts';
import { InstanceRegistry } from './controller/instance-registry.ts';
import { InventoryCache } from './controller/inventory-cache.ts';
import { LifecycleHolds, type HoldOutcome } from './controller/lifecycle-holds.ts';
import { Pairing } from './controller/pairing.ts';
import type { NotifyEvent } from './notify/events.ts';
import { VolumePreparer } from './volume-prep/volume-preparer.ts';
import { Resync, type ResyncRun } from './controller/resync.ts';

export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  autoScaling: AutoScalingClient;
}

/** Reads of a group's pairs are shared for this long: a burst of launches costs one inventory. */
const INVENTORY_MAX_AGE_MS = 2000;

/** Where the service reports what happened, for metrics; all optional. */
export interface PairingHooks {
  onLifecycleComplete?: (outcome: HoldOutcome & { group: string }) => void;
  onResync?: (run: ResyncRun) => void;
  onAttached?: (group: string, seconds: number) => void;
  onOutcome?: (group: string, outcome: WorkOutcome) => void;
  notify?: (event: NotifyEvent) => void;
}

/** Builds the pairing machinery from the configuration and the AWS clients. Nothing runs until `resync.start()`. */
export function createPairingService(config: Config, clients: AwsClients, logger: Logger, hooks: PairingHooks = {}) {
  const ec2 = new Ec2Gateway({
    client: clients.ec2,
    limiter: new RateLimiter({ sizeOf: ec2BucketFor, scale: config.aws.ec2RateScale * PACING_MARGIN }),
    retry: DEFAULT_RETRY_POLICY,
    batchWindowMs: config.aws.pollIntervalMs,
  });
  const claims: ClaimStore =
    config.claims.store === 'ssm' ? new SsmClaimStore({ client: clients.ssm, prefix: config.claims.ssmPrefix }) : new FileClaimStore(config.claims.path);
  const inventory = new InventoryCache({ ec2, maxAgeMs: INVENTORY_MAX_AGE_MS });
  const registry = new InstanceRegistry();
  const queue = new InstanceQueue({
    concurrency: config.work.concurrency,
    limit: config.work.queueLimit,
    onError: (instanceId, err) => logger.error({ err, instanceId }, 'unexpected error in instance work'),
  });
  const pairing = new Pairing({
    ec2,
    claims,
    inventory,
    registry,
    logger,
    pollIntervalMs: config.aws.pollIntervalMs,
    attachTimeoutMs: config.aws.attachTimeoutSeconds * 1000,
    onRelease: (group, az) => controller.released(group, az),
    ...(hooks.onAttached ? { onAttached: hooks.onAttached } : {}),
    ...(hooks.notify ? { notify: hooks.notify } : {}),
    ...(config.groups.some((g) => g.prepare)
      ? { preparer: new VolumePreparer({ client: clients.ssm, retry: DEFAULT_RETRY_POLICY, pollIntervalMs: config.aws.pollIntervalMs, logger }) }
      : {}),
  });
  const autoScaling = new AutoScalingGateway({ client: clients.autoScaling, retry: DEFAULT_RETRY_POLICY });
  const holds = new LifecycleHolds({ autoScaling, logger, ...(hooks.onLifecycleComplete ? { onComplete: hooks.onLifecycleComplete } : {}) });
  const controller: Controller = new Controller({
    groups: config.groups,
    pairing,
    queue,
    registry,
    holds,
    logger,
    ...(hooks.onOutcome ? { onOutcome: hooks.onOutcome } : {}),
    ...(hooks.notify ? { notify: hooks.notify } : {}),
  });
  const resync = new Resync({
    groups: config.groups,
    autoScaling,
    ec2,
    claims,
    inventory,
    controller,
    topicArns: config.sns.topicArns,
    intervalMs: config.resync.intervalSeconds * 1000,
    logger,
    ...(hooks.onResync ? { onRun: hooks.onResync } : {}),
  });
  return { ec2, autoScaling, claims, inventory, registry, queue, holds, controller, resync, groups: config.groups };
}

export type PairingService = ReturnType<typeof createPairingService>;
