/**
 * Prepares a pair's volume on its instance through SSM Run Command: the script
 * beside this file (prove the device is the volume, format only a provably blank
 * volume that may be formatted, mount by UUID with nofail, run the after-command)
 * sent with AWS-RunShellScript. It gets the device EC2 shows for the attachment, and
 * MAY_FORMAT=0 for a volume that may hold data the script cannot see: one created
 * from a snapshot, or one that was ever prepared (it carries PREPARED_TAG). Until the
 * instance's SSM agent has registered, SendCommand answers InvalidInstanceId; that
 * is waited out up to `agentTimeoutSeconds`. A script that fails is not tried again
 * by pairkeeper: its exit code says why (refused, detection failed…) and a person
 * should look; the outcome and the tail of its output are in the error.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommandInvocationCommand, SendCommandCommand, type SSMClient } from '../aws/sdk/ssm.js';
import type { Logger } from 'pino';
import { isAwsKind } from '../aws/aws-errors.ts';
import { retry, type RetryPolicy } from '../aws/retry.ts';
import { PREPARED_TAG, type VolumeInfo } from '../domain/pairs.ts';
import { PairkeeperError } from '../errors.ts';

export interface PrepareSpec {
  mountPoint: string;
  fsType: 'ext4' | 'xfs';
  fsLabel?: string | undefined;
  mountOptions: string;
  afterCommand?: string | undefined;
  document: string;
  agentTimeoutSeconds: number;
  timeoutSeconds: number;
}

const SCRIPT = readFileSync(new URL('./prepare-volume.sh', import.meta.url), 'utf8');
/** The script's exit codes (see its header), for the error an operator reads. */
const EXIT_MEANING: Record<number, string> = {
  10: 'bad input',
  11: 'device not found',
  12: 'detection failed; nothing changed',
  13: 'refused: the volume holds something else, or the mount point or fstab belongs to something else; nothing changed',
  14: 'format failed',
  15: 'mount or fstab update failed',
  16: 'the after-command failed',
  17: 'identity not proven: no NVMe serial or Xen node shows the device is this volume; nothing read or changed',
  18: 'may not format: no filesystem of the configured type, and the volume came from a snapshot or was prepared before; nothing changed',
};
const FINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Cancelling']);
const OUTPUT_TAIL = 2000;

export class VolumePreparer {
  private readonly client: SSMClient;
  private readonly retryPolicy: RetryPolicy;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;

  constructor(deps: { client: SSMClient; retry: RetryPolicy; pollIntervalMs: number; logger: Logger }) {
    this.client = deps.client;
    this.retryPolicy = deps.retry;
    this.pollIntervalMs = deps.pollIntervalMs;
    this.logger = deps.logger;
  }

  /**
   * Runs the preparation of `volume`, as EC2 last showed it attached to the instance,
   * and resolves on success; throws a non-retryable PK_PREPARE_FAILED otherwise.
   */
  async prepare(spec: PrepareSpec, on: { instanceId: string; volume: VolumeInfo }): Promise<void> {
    const target = scriptTarget(on.instanceId, on.volume);
    const log = this.logger.child({ instanceId: target.instanceId, volumeId: target.volumeId });
    const commandId = await this.send(spec, target);
    log.info({ commandId }, 'volume preparation sent');
    const deadline = performance.now() + (spec.timeoutSeconds + 60) * 1000;
    for (;;) {
      await sleep(this.pollIntervalMs);
      const invocation = await this.invocation(commandId, target.instanceId);
      if (invocation && FINAL.has(invocation.Status ?? '')) {
        const output = tail(`${invocation.StandardOutputContent ?? ''}${invocation.StandardErrorContent ?? ''}`);
        if (invocation.Status === 'Success') {
          log.info({ commandId, output }, 'volume prepared');
          return;
        }
        const code = invocation.ResponseCode ?? -1;
        throw failed(`${invocation.Status}, exit ${code}${EXIT_MEANING[code] ? ` (${EXIT_MEANING[code]})` : ''}; output: ${output}`);
      }
      if (performance.now() > deadline) throw failed(`no result after ${spec.timeoutSeconds + 60} s (command ${commandId})`);
    }
  }

  /** SendCommand, waiting for the agent to register (InvalidInstanceId until then). */
  private async send(spec: PrepareSpec, target: ScriptTarget): Promise<string> {
    const deadline = performance.now() + spec.agentTimeoutSeconds * 1000;
    const command = new SendCommandCommand({
      DocumentName: spec.document,
      InstanceIds: [target.instanceId],
      Comment: `pairkeeper: prepare ${target.volumeId}`,
      TimeoutSeconds: spec.timeoutSeconds,
      Parameters: { commands: [scriptCommand(spec, target)], executionTimeout: [String(spec.timeoutSeconds)] },
    });
    for (;;) {
      try {
        const answer = await retry(() => this.client.send(command), { ...this.retryPolicy, what: 'SSM SendCommand' });
        return answer.Command!.CommandId!;
      } catch (err) {
        if (!isAwsKind(err, 'not-found')) throw err;
        if (performance.now() > deadline) throw failed(`the instance's SSM agent did not register within ${spec.agentTimeoutSeconds} s`);
        await sleep(this.pollIntervalMs);
      }
    }
  }

  /** The invocation, or undefined while SSM does not show it yet (InvocationDoesNotExist just after SendCommand). */
  private async invocation(commandId: string, instanceId: string) {
    try {
      return await retry(() => this.client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })), {
        ...this.retryPolicy,
        what: 'SSM GetCommandInvocation',
      });
    } catch (err) {
      if (isAwsKind(err, 'not-found')) return undefined;
      throw err;
    }
  }
}

/** What the script is told about the volume. */
export interface ScriptTarget {
  instanceId: string;
  volumeId: string;
  /** The device name of the attachment, as EC2 shows it (not the group's configured one). */
  device: string;
  mayFormat: boolean;
}

/** The script's view of a volume attached to `instanceId`; refuses one EC2 does not show attached there with a device. */
export function scriptTarget(instanceId: string, volume: VolumeInfo): ScriptTarget {
  const device = volume.attachment?.instanceId === instanceId ? volume.attachment.device : undefined;
  if (!device) throw failed(`EC2 shows no device for ${volume.volumeId} on ${instanceId}`);
  const mayFormat = !volume.snapshotId && !(PREPARED_TAG in volume.tags);
  return { instanceId, volumeId: volume.volumeId, device, mayFormat };
}

/**
 * One command for AWS-RunShellScript: the inputs as environment assignments, then
 * the script as one quoted argument to `bash -c`, so it runs under bash whatever sh
 * is, nothing in it is expanded on the way, and its stdin is not the script itself.
 */
export function scriptCommand(spec: PrepareSpec, target: ScriptTarget): string {
  const env: Record<string, string | undefined> = {
    VOLUME_ID: target.volumeId,
    DEVICE: target.device,
    MAY_FORMAT: target.mayFormat ? '1' : '0',
    MOUNT_POINT: spec.mountPoint,
    FS_TYPE: spec.fsType,
    FS_LABEL: spec.fsLabel,
    MOUNT_OPTIONS: spec.mountOptions,
    AFTER_COMMAND: spec.afterCommand,
  };
  const assignments = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${shellQuote(v!)}`)
    .join(' ');
  return `${assignments} bash -c ${shellQuote(SCRIPT)} pairkeeper-prepare`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text;
}

function failed(message: string): PairkeeperError {
  return new PairkeeperError('PK_PREPARE_FAILED', `volume preparation failed: ${message}`);
}
