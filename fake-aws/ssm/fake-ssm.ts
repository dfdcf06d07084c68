import { partitionOf } from '../call-recorder.ts';
import { FakeAwsError } from '../errors.ts';
import { TokenBucket } from '../token-bucket.ts';
import { SsmAgents, type InstanceView } from './agents.ts';
import { CommandRunner } from './commands.ts';
import { ParameterStore } from './parameters.ts';

/** Parameter Store's default throughput: about 40 transactions per second, shared by reads and writes. */
export const DEFAULT_PARAMETER_TPS = 40;

/**
 * The fake SSM's state: Parameter Store, Run Command and the agents that Run Command
 * needs. Its JSON service is in service.ts.
 */
export class FakeSsm {
  readonly region: string;
  readonly accountId: string;
  readonly parameters = new ParameterStore();
  readonly agents: SsmAgents;
  readonly commands: CommandRunner;
  /** Off by default so tests are not throttled unless they ask for it. */
  private throughput: TokenBucket | undefined;

  constructor(options: { region: string; accountId: string; instanceLookup?: (instanceId: string) => InstanceView | undefined }) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.agents = new SsmAgents(options.instanceLookup);
    this.commands = new CommandRunner(this.agents, options.accountId);
  }

  /**
   * Throttles Parameter Store calls with a token bucket of `tps` capacity refilled at
   * `tps` per second (`scale` speeds the refill for benchmarks); `undefined` turns it off.
   */
  limitThroughput(tps: number | undefined = DEFAULT_PARAMETER_TPS, scale = 1): void {
    this.throughput = tps === undefined ? undefined : new TokenBucket(tps, tps * scale);
  }

  /** Takes a token for one Parameter Store call, or answers ThrottlingException as AWS does. */
  takeParameterToken(): void {
    if (this.throughput && !this.throughput.take()) throw new FakeAwsError('ThrottlingException', 'Rate exceeded', 400);
  }

  parameterArn(name: string): string {
    return `arn:${partitionOf(this.region)}:ssm:${this.region}:${this.accountId}:parameter/${name.replace(/^\//, '')}`;
  }

  reset(): void {
    this.parameters.clear();
    this.agents.reset();
    this.commands.reset();
    this.throughput = undefined;
  }
}
