/**
 * The lifecycle actions pairkeeper holds open: an instance Auto Scaling keeps in
 * Pending:Wait or Terminating:Wait until we complete the action. While one is held,
 * a heartbeat goes out every `heartbeatFraction` of the hook's heartbeat timeout, so
 * a long attach does not run into the hook's default result. A heartbeat answered
 * "no such action" means the action ended elsewhere (completed by another replica,
 * timed out, instance gone): the hold is dropped. Every timer is cleared on
 * completion, drop and close.
 */
import type { Logger } from 'pino';
import type { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import type { LifecycleActionRef, LifecycleHookInfo, LifecycleResult, LifecycleTransitionKind } from '../domain/group-members.ts';
import { SharedRead } from './shared-read.ts';

export interface Hold {
  ref: LifecycleActionRef;
  transition: LifecycleTransitionKind;
  /** performance.now() when the hold was taken. */
  since: number;
  heartbeatFraction: number;
  timer: NodeJS.Timeout | undefined;
}

/** Ended actions remembered at most (a few hundred bytes each). */
const ENDED_REMEMBERED = 10_000;
/** Hooks change rarely; a minute-old description is fine for the heartbeat period. */
const HOOKS_MAX_AGE_MS = 60_000;
/** When the hook's timeout cannot be read, assume AWS's shortest: a heartbeat too many costs nothing. */
const SHORTEST_HEARTBEAT_TIMEOUT_S = 30;

export interface HoldOutcome {
  hookName: string;
  result: LifecycleResult;
  answer: 'done' | 'gone';
}

export class LifecycleHolds {
  private readonly holds = new Map<string, Hold>();
  /**
   * Actions known to have ended (completed by us, or answered "no active action"),
   * by instance and hook, oldest first: resync's guesses (no token) for them are
   * ignored, so an instance another tool keeps in Pending:Wait is not completed again
   * at every run. Bounded: the oldest are forgotten first.
   */
  private readonly ended = new Set<string>();
  private readonly hookLists = new SharedRead<LifecycleHookInfo[]>();
  private readonly autoScaling: AutoScalingGateway;
  private readonly logger: Logger;
  private readonly onComplete: (outcome: HoldOutcome & { group: string }) => void;
  private closed = false;

  constructor(deps: { autoScaling: AutoScalingGateway; logger: Logger; onComplete?: (outcome: HoldOutcome & { group: string }) => void }) {
    this.autoScaling = deps.autoScaling;
    this.logger = deps.logger;
    this.onComplete = deps.onComplete ?? (() => {});
  }

  /** Takes a hold (or refreshes the token of one already held for this instance and hook) and starts its heartbeats. */
  hold(ref: LifecycleActionRef, transition: LifecycleTransitionKind, heartbeatFraction: number): void {
    if (this.closed) return;
    const key = keyOf(ref.instanceId, ref.hookName);
    // A message (with its token) is a new action; resync's guess (no token) for one that ended is not.
    if (ref.token) this.ended.delete(key);
    else if (this.ended.has(key)) return;
    const existing = this.holds.get(key);
    if (existing) {
      if (ref.token) existing.ref = { ...existing.ref, token: ref.token };
      return;
    }
    const hold: Hold = { ref, transition, since: performance.now(), heartbeatFraction, timer: undefined };
    this.holds.set(key, hold);
    void this.scheduleHeartbeat(hold);
  }

  /** The instance's holds for this transition. */
  of(instanceId: string, transition: LifecycleTransitionKind): Hold[] {
    return [...this.holds.values()].filter((h) => h.ref.instanceId === instanceId && h.transition === transition);
  }

  /** Completes every hold of the instance for this transition. Throws (holds kept) if AWS cannot be reached: the caller retries. */
  async complete(instanceId: string, transition: LifecycleTransitionKind, result: LifecycleResult, why: string): Promise<HoldOutcome[]> {
    const outcomes: HoldOutcome[] = [];
    for (const hold of this.of(instanceId, transition)) {
      const answer = await this.autoScaling.complete(hold.ref, result);
      this.release(hold);
      this.remember(hold.ref);
      const outcome = { hookName: hold.ref.hookName, result, answer };
      outcomes.push(outcome);
      this.onComplete({ ...outcome, group: hold.ref.group });
      const fields = { instanceId, group: hold.ref.group, hook: hold.ref.hookName, result, why };
      if (answer === 'done') this.logger.info(fields, `lifecycle action completed with ${result}`);
      else this.logger.info(fields, 'lifecycle action had already ended (completed elsewhere or timed out)');
    }
    return outcomes;
  }

  /** Forgets the instance's holds without completing them (it is gone, or its action ended). */
  drop(instanceId: string): void {
    for (const hold of this.holds.values()) if (hold.ref.instanceId === instanceId) this.release(hold);
  }

  get size(): number {
    return this.holds.size;
  }

  close(): void {
    this.closed = true;
    for (const hold of [...this.holds.values()]) this.release(hold);
  }

  private remember(ref: LifecycleActionRef): void {
    const key = keyOf(ref.instanceId, ref.hookName);
    this.ended.delete(key);
    this.ended.add(key);
    if (this.ended.size > ENDED_REMEMBERED) this.ended.delete(this.ended.values().next().value!);
  }

  private release(hold: Hold): void {
    clearTimeout(hold.timer);
    const key = keyOf(hold.ref.instanceId, hold.ref.hookName);
    if (this.holds.get(key) === hold) this.holds.delete(key);
  }

  private async scheduleHeartbeat(hold: Hold): Promise<void> {
    const timeoutS = await this.heartbeatTimeout(hold.ref.group, hold.ref.hookName);
    if (!this.isHeld(hold)) return;
    hold.timer = setTimeout(() => void this.beat(hold), timeoutS * 1000 * hold.heartbeatFraction);
    hold.timer.unref();
  }

  private async beat(hold: Hold): Promise<void> {
    const fields = { instanceId: hold.ref.instanceId, group: hold.ref.group, hook: hold.ref.hookName };
    try {
      const answer = await this.autoScaling.heartbeat(hold.ref);
      if (answer === 'gone') {
        this.logger.info(fields, 'lifecycle action ended elsewhere; no more heartbeats');
        this.release(hold);
        this.remember(hold.ref);
        return;
      }
      this.logger.debug(fields, 'lifecycle heartbeat sent');
    } catch (err) {
      this.logger.warn({ ...fields, err }, 'lifecycle heartbeat failed; trying again at the next one');
    }
    if (this.isHeld(hold)) await this.scheduleHeartbeat(hold);
  }

  private isHeld(hold: Hold): boolean {
    return !this.closed && this.holds.get(keyOf(hold.ref.instanceId, hold.ref.hookName)) === hold;
  }

  private async heartbeatTimeout(group: string, hookName: string): Promise<number> {
    try {
      const hooks = await this.hookLists.get(group, HOOKS_MAX_AGE_MS, () => this.autoScaling.hooks(group));
      return hooks.find((h) => h.name === hookName)?.heartbeatTimeoutSeconds ?? SHORTEST_HEARTBEAT_TIMEOUT_S;
    } catch (err) {
      this.logger.warn({ err, group, hook: hookName }, `cannot read the hook's heartbeat timeout; assuming ${SHORTEST_HEARTBEAT_TIMEOUT_S} s`);
      return SHORTEST_HEARTBEAT_TIMEOUT_S;
    }
  }
}

function keyOf(instanceId: string, hookName: string): string {
  return `${instanceId}\n${hookName}`;
}
