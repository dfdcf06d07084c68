import { randomUUID } from 'node:crypto';
import { FakeAwsError } from '../errors.ts';
import { Timers } from '../timers.ts';
import type { SsmAgents } from './agents.ts';

export type FinalStatus = 'Success' | 'Failed' | 'TimedOut';
export type InvocationStatus = 'Pending' | 'InProgress' | FinalStatus;

/** What a command does on one instance; tests script it with a handler. */
export interface CommandOutcome {
  status: FinalStatus;
  stdout?: string;
  stderr?: string;
  /** How long the invocation stays InProgress before it reaches `status`. */
  delayMs?: number;
  /** Defaults: 0 on Success, 1 on Failed, -1 on TimedOut. */
  responseCode?: number;
}

export type CommandHandler = (
  instanceId: string,
  documentName: string,
  parameters: Record<string, string[]>,
) => CommandOutcome | Promise<CommandOutcome>;

export interface CommandInvocation {
  commandId: string;
  instanceId: string;
  documentName: string;
  comment: string;
  status: InvocationStatus;
  responseCode: number;
  stdout: string;
  stderr: string;
  startedAt: Date | undefined;
  endedAt: Date | undefined;
  /** GetCommandInvocation answers InvocationDoesNotExist before this time, as AWS does just after SendCommand. */
  visibleAt: number;
}

export interface SentCommand {
  commandId: string;
  documentName: string;
  comment: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  requestedAt: Date;
  timeoutSeconds: number;
  invocations: Map<string, CommandInvocation>;
}

const DEFAULT_OUTCOME: CommandOutcome = { status: 'Success', stdout: '', stderr: '' };

/**
 * Run Command: SendCommand creates one invocation per instance, each going Pending →
 * InProgress → Success/Failed/TimedOut on timers, with the outcome the test's handler
 * chose. Only instances whose agent is online are accepted.
 */
export class CommandRunner {
  handler: CommandHandler = () => DEFAULT_OUTCOME;
  /** How long an invocation stays Pending (the agent picking the command up). */
  pickupDelayMs = 5;
  /** How long after SendCommand an invocation becomes visible to GetCommandInvocation. */
  visibilityDelayMs = 0;

  private readonly commands = new Map<string, SentCommand>();
  private readonly timers = new Timers();
  private readonly agents: SsmAgents;
  private readonly accountId: string;

  constructor(agents: SsmAgents, accountId: string) {
    this.agents = agents;
    this.accountId = accountId;
  }

  send(input: {
    documentName: string;
    instanceIds: string[];
    parameters: Record<string, string[]>;
    comment: string;
    timeoutSeconds: number;
  }): SentCommand {
    const offline = input.instanceIds.filter((id) => !this.agents.isOnline(id));
    if (offline.length > 0) {
      throw new FakeAwsError('InvalidInstanceId', `Instances [[${offline.join(', ')}]] not in a valid state for account ${this.accountId}`);
    }
    const command: SentCommand = { ...input, commandId: randomUUID(), requestedAt: new Date(), invocations: new Map() };
    const visibleAt = Date.now() + this.visibilityDelayMs;
    for (const instanceId of input.instanceIds) {
      const invocation: CommandInvocation = {
        commandId: command.commandId,
        instanceId,
        documentName: input.documentName,
        comment: input.comment,
        status: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
        startedAt: undefined,
        endedAt: undefined,
        visibleAt,
      };
      command.invocations.set(instanceId, invocation);
      this.timers.later(this.pickupDelayMs, () => void this.run(invocation, input.parameters));
    }
    this.commands.set(command.commandId, command);
    return command;
  }

  invocation(commandId: string, instanceId: string): CommandInvocation {
    const invocation = this.commands.get(commandId)?.invocations.get(instanceId);
    if (!invocation || Date.now() < invocation.visibleAt) throw new FakeAwsError('InvocationDoesNotExist', '');
    return invocation;
  }

  reset(): void {
    this.timers.clear();
    this.commands.clear();
    this.handler = () => DEFAULT_OUTCOME;
    this.pickupDelayMs = 5;
    this.visibilityDelayMs = 0;
  }

  private async run(invocation: CommandInvocation, parameters: Record<string, string[]>): Promise<void> {
    invocation.status = 'InProgress';
    invocation.startedAt = new Date();
    let outcome: CommandOutcome;
    try {
      outcome = await this.handler(invocation.instanceId, invocation.documentName, parameters);
    } catch (err) {
      // A throwing handler is a script that crashed: the invocation fails with its message.
      outcome = { status: 'Failed', stderr: String(err) };
    }
    this.timers.later(outcome.delayMs ?? 0, () => {
      invocation.status = outcome.status;
      invocation.stdout = outcome.stdout ?? '';
      invocation.stderr = outcome.stderr ?? '';
      invocation.responseCode = outcome.responseCode ?? { Success: 0, Failed: 1, TimedOut: -1 }[outcome.status];
      invocation.endedAt = new Date();
    });
  }
}
