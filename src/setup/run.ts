/**
 * Runs `pairs create` or `setup` as the command line does: input checked before any
 * call, the plan read from AWS and printed, and with `apply` the steps done and each
 * reported. The clients are built here for the config's region (endpoints from the
 * environment, as for the service) and destroyed at the end, so the process can exit.
 */
import { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import { Ec2Gateway } from '../aws/ec2-gateway.ts';
import { RateLimiter, ec2BucketFor } from '../aws/rate-limiter.ts';
import { DEFAULT_RETRY_POLICY } from '../aws/retry.ts';
import { SetupGateway, createSetupClients, destroySetupClients } from '../aws/setup-gateway.ts';
import type { Config } from '../config/schema.ts';
import { checkSetupInput, planSetup, type SetupInput } from './aws-setup.ts';
import { checkPairsInput, planPairsCreate, type PairsCreateInput } from './pairs-create.ts';
import { applyPlan, planText, type Plan } from './plan.ts';

export { DEFAULT_HOOK_HEARTBEAT_SECONDS } from './aws-setup.ts';
export type { SetupInput } from './aws-setup.ts';
export type { PairsCreateInput } from './pairs-create.ts';
export { SetupBlockedError, SetupInputError } from './setup-errors.ts';

interface Gateways {
  setup: SetupGateway;
  ec2: Ec2Gateway;
  autoScaling: AutoScalingGateway;
}

export interface RunOptions {
  apply: boolean;
  /** Where the plan and what was done are written (stdout). */
  write: (text: string) => void;
}

export async function runPairsCreate(config: Config, input: PairsCreateInput, options: RunOptions): Promise<void> {
  checkPairsInput(config, input);
  await withGateways(config, options, (aws) => planPairsCreate(config, input, aws));
}

export async function runSetup(config: Config, input: SetupInput, options: RunOptions): Promise<void> {
  checkSetupInput(config, input);
  await withGateways(config, options, (aws) => planSetup(config, input, aws));
}

async function withGateways(config: Config, options: RunOptions, plan: (aws: Gateways) => Promise<Plan>): Promise<void> {
  const clients = createSetupClients(config.aws.region);
  try {
    const aws: Gateways = {
      setup: new SetupGateway(clients),
      ec2: new Ec2Gateway({ client: clients.ec2, limiter: new RateLimiter({ sizeOf: ec2BucketFor }), retry: DEFAULT_RETRY_POLICY, batchWindowMs: 0 }),
      autoScaling: new AutoScalingGateway({ client: clients.autoScaling, retry: DEFAULT_RETRY_POLICY }),
    };
    const planned = await plan(aws);
    options.write(planText(planned));
    if (!options.apply) {
      if (planned.steps.length > 0) options.write('Plan only: nothing changed. Run again with --apply to make these changes.\n');
      return;
    }
    await applyPlan(planned, (line) => options.write(`${line}\n`));
  } finally {
    destroySetupClients(clients);
  }
}
