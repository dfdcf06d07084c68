import { spawn } from 'node:child_process';
import type { CommandConfig, EVENT_FIELD_ENV_NAMES } from '../config/notify-schema.ts';
import type { NotifyEvent, NotifyEventType } from '../domain/notify-event.ts';
import type { AttemptResult, Target } from './target.ts';

/** The output kept for the delivery record: enough for the last error message. */
const OUTPUT_TAIL_BYTES = 2048;

/** Environment variable → event field (every name the schema reserves); each is set only when the event has it. */
const EVENT_ENV = {
  NODE_ID: 'nodeId',
  NODE_IP: 'privateIp',
  INSTANCE_ID: 'instanceId',
  VOLUME_ID: 'volumeId',
  NETWORK_INTERFACE_ID: 'networkInterfaceId',
  GROUP: 'group',
  AVAILABILITY_ZONE: 'availabilityZone',
} as const satisfies Record<(typeof EVENT_FIELD_ENV_NAMES)[number], keyof NotifyEvent>;

/** What every hook gets from pairkeeper's environment: enough to find programs, a home and a locale. */
const ALWAYS_PASSED = ['PATH', 'HOME', 'LANG'];

/**
 * The hook's whole environment, built up rather than filtered down: PATH, HOME, LANG
 * and the operator's `passEnv` names from `base` (when set there), the operator's
 * fixed `env`, then the event. Nothing else of pairkeeper's gets through, so neither
 * its AWS credentials (AWS_*, AWS_CONTAINER_* in ECS) nor a variable added to
 * pairkeeper's environment later. A variable the event does not have is left unset,
 * so a hook never mistakes a stale NODE_ID for the event's.
 */
export function commandEnvironment(event: NotifyEvent, config: Pick<CommandConfig, 'env' | 'passEnv'>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...ALWAYS_PASSED, ...config.passEnv]) if (base[name] !== undefined) env[name] = base[name];
  Object.assign(env, config.env);
  env.PAIRKEEPER_EVENT = JSON.stringify(event);
  env.PAIRKEEPER_EVENT_TYPE = event.type;
  env.PAIRKEEPER_EVENT_ID = event.id;
  for (const [name, field] of Object.entries(EVENT_ENV)) {
    const value = event[field];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Runs argv (no shell) with the event in its environment. Exit 0 is delivered;
 * anything else is retried. The command runs in a process group of its own, and at
 * `timeoutMs` the whole group is killed (SIGKILL): a hook stuck in a child of its
 * own (ssh, salt, curl) must not hold a delivery slot forever. Children it leaves
 * running after it exits are its own business, but they should not keep its stdout
 * and stderr open: those are closed at the timeout all the same.
 */
export class CommandTarget implements Target {
  readonly kind = 'command';
  private readonly config: CommandConfig;
  readonly events: ReadonlySet<NotifyEventType>;

  constructor(config: CommandConfig) {
    this.config = config;
    this.events = new Set(config.events);
  }

  describe(): string {
    return this.config.run[0]!;
  }

  attempt(event: NotifyEvent, signal: AbortSignal): Promise<AttemptResult> {
    const [file, ...args] = this.config.run as [string, ...string[]];
    const { timeoutMs } = this.config;
    return new Promise((resolve) => {
      const child = spawn(file, args, { env: commandEnvironment(event, this.config), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let output = Buffer.alloc(0);
      const keep = (chunk: Buffer) => {
        output = Buffer.concat([output, chunk]);
        if (output.length > OUTPUT_TAIL_BYTES) output = output.subarray(output.length - OUTPUT_TAIL_BYTES);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);

      let exited = false;
      let ended: 'timeout' | 'closing' | undefined;
      let spawnError: Error | undefined;
      const stop = (why: 'timeout' | 'closing') => {
        if (!exited) {
          ended = why;
          // The group (negative pid) takes the hook's children with it.
          if (child.pid !== undefined) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }
        }
        child.stdout.destroy();
        child.stderr.destroy();
      };
      const timer = setTimeout(() => stop('timeout'), timeoutMs);
      const onAbort = () => stop('closing');
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();

      child.on('exit', () => {
        exited = true;
      });
      child.on('error', (err) => {
        spawnError = err;
      });
      // 'close' comes last: after 'error' when it could not start, after the exit and the end of its output otherwise.
      child.on('close', (code, killedBy) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const tail = output.toString('utf8').trim();
        const seen = { ...(code !== null ? { exitCode: code } : {}), ...(killedBy ? { signal: killedBy } : {}), ...(tail ? { output: tail } : {}) };
        if (spawnError) resolve({ ok: false, retryable: true, error: `cannot run ${file}: ${spawnError.message}` });
        else if (ended === 'timeout') resolve({ ok: false, retryable: true, ...seen, error: `timed out after ${timeoutMs} ms; killed` });
        else if (ended === 'closing') resolve({ ok: false, retryable: true, ...seen, error: 'killed: the notifier is closing' });
        else if (code === 0) resolve({ ok: true, retryable: false, ...seen });
        else resolve({ ok: false, retryable: true, ...seen, error: code !== null ? `exited with ${code}` : `killed by ${killedBy}` });
      });
    });
  }
}
