import { partitionOf } from '../call-recorder.ts';
import { SsmAgents, type InstanceView } from './agents.ts';
import { CommandRunner } from './commands.ts';
import { ParameterStore } from './parameters.ts';
import { SsmThrottling } from './throttling.ts';

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
  /** Off by default so tests are not throttled unless they ask for it; calls are counted either way. */
  readonly throttling = new SsmThrottling();

  constructor(options: { region: string; accountId: string; instanceLookup?: (instanceId: string) => InstanceView | undefined }) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.agents = new SsmAgents(options.instanceLookup);
    this.commands = new CommandRunner(this.agents, options.accountId);
  }

  parameterArn(name: string): string {
    return `arn:${partitionOf(this.region)}:ssm:${this.region}:${this.accountId}:parameter/${name.replace(/^\//, '')}`;
  }

  reset(): void {
    this.parameters.clear();
    this.agents.reset();
    this.commands.reset();
    this.throttling.reset();
  }
}
