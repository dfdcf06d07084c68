import { randomUUID } from 'node:crypto';
import { autoScalingErrors, validationError } from './errors.ts';
import type { LifecycleHook, LifecycleResult } from './types.ts';

/** One instance held in a wait state by one hook, until completed or timed out. */
export interface LifecycleAction {
  token: string;
  groupName: string;
  hook: LifecycleHook;
  instanceId: string;
  /** When the default result applies unless a heartbeat comes first (epoch ms). */
  deadline: number;
  /** Heartbeats cannot extend past this: 100 × HeartbeatTimeout or 48 h, whichever is smaller. */
  globalDeadline: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (outcome: { result: LifecycleResult; timedOut: boolean }) => void;
}

/** Which action a CompleteLifecycleAction or heartbeat names: by token, or by instance id. */
export interface ActionRef {
  groupName: string;
  hookName: string;
  token?: string | undefined;
  instanceId?: string | undefined;
}

/**
 * The open lifecycle actions. Each one resolves with the caller's result, or with the
 * hook's DefaultResult when its heartbeat timeout passes. Hook seconds pass at
 * `msPerSecond()` so tests can use AWS's real timeout values (30–7200 s) and still run fast.
 */
export class LifecycleActions {
  private readonly open = new Map<string, LifecycleAction>();
  private readonly msPerSecond: () => number;

  constructor(msPerSecond: () => number) {
    this.msPerSecond = msPerSecond;
  }

  start(groupName: string, hook: LifecycleHook, instanceId: string): { token: string; outcome: Promise<{ result: LifecycleResult; timedOut: boolean }> } {
    const token = randomUUID();
    const now = Date.now();
    const scale = this.msPerSecond();
    let resolve!: LifecycleAction['resolve'];
    const outcome = new Promise<{ result: LifecycleResult; timedOut: boolean }>((r) => (resolve = r));
    const action: LifecycleAction = {
      token,
      groupName,
      hook,
      instanceId,
      deadline: now + hook.heartbeatTimeout * scale,
      globalDeadline: now + hook.globalTimeout * scale,
      timer: undefined,
      resolve,
    };
    this.open.set(token, action);
    this.arm(action);
    return { token, outcome };
  }

  complete(ref: ActionRef, result: string): void {
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw validationError(`Invalid LifecycleActionResult ${result}: valid values are CONTINUE and ABANDON`);
    }
    this.end(this.find(ref), result, false);
  }

  /** RecordLifecycleActionHeartbeat: the timeout starts again, capped by the global timeout. */
  heartbeat(ref: ActionRef): void {
    const action = this.find(ref);
    action.deadline = Math.min(Date.now() + action.hook.heartbeatTimeout * this.msPerSecond(), action.globalDeadline);
    clearTimeout(action.timer);
    this.arm(action);
  }

  /** Ends every open action of an instance with `result` (it is leaving the group anyway). */
  endAllOf(instanceId: string, result: LifecycleResult): void {
    for (const action of [...this.open.values()]) if (action.instanceId === instanceId) this.end(action, result, false);
  }

  list(): LifecycleAction[] {
    return [...this.open.values()];
  }

  /** Drops every open action without resolving it (the flows waiting on them are abandoned too). */
  reset(): void {
    for (const action of this.open.values()) clearTimeout(action.timer);
    this.open.clear();
  }

  private find(ref: ActionRef): LifecycleAction {
    if (ref.token) {
      const action = this.open.get(ref.token);
      if (!action || action.groupName !== ref.groupName || action.hook.name !== ref.hookName) {
        throw autoScalingErrors.noActionWithToken(ref.token);
      }
      if (ref.instanceId && action.instanceId !== ref.instanceId) throw autoScalingErrors.noActionWithToken(ref.token);
      return action;
    }
    if (!ref.instanceId) throw validationError('Either LifecycleActionToken or InstanceId must be specified.');
    const action = [...this.open.values()].find(
      (a) => a.instanceId === ref.instanceId && a.groupName === ref.groupName && a.hook.name === ref.hookName,
    );
    if (!action) throw autoScalingErrors.noActionWithInstance(ref.instanceId);
    return action;
  }

  private arm(action: LifecycleAction): void {
    action.timer = setTimeout(() => this.end(action, action.hook.defaultResult, true), Math.max(0, action.deadline - Date.now()));
    action.timer.unref();
  }

  private end(action: LifecycleAction, result: LifecycleResult, timedOut: boolean): void {
    clearTimeout(action.timer);
    this.open.delete(action.token);
    action.resolve({ result, timedOut });
  }
}
