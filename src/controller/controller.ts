/**
 * Turns accepted events (from SNS, or from resync) into work on the per-instance
 * queue, so the two paths never race for one instance. SNS is a trigger, not the
 * truth (invariant 4): the work re-reads EC2, so a duplicate or a late message is
 * harmless. A retryable failure is tried again later with backoff; instances
 * waiting for a pair are retried when one is released in their AZ.
 *
 * Lifecycle hooks: a launching instance is held until its pair is attached, then
 * let go with CONTINUE. When no pair can be had — none freed within the group's
 * `noPairWaitSeconds`, or attaching failed for good — the action is completed with
 * the group's `onNoPair` result. A terminating instance is let go at once (nothing
 * can be detached from it while it runs), and its pair is released once it is gone.
 */
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.ts';
import type { GroupConfig } from '../config/schema.ts';
import type { AutoScalingEvent, EventSink, EventSource, SinkOutcome } from '../domain/autoscaling-event.ts';
import type { LifecycleActionRef, LifecycleResult } from '../domain/group-members.ts';
import { ownerOf } from '../domain/replica-owner.ts';
import type { WriteShares } from './write-shares.ts';
import type { ResyncAction } from '../domain/resync-plan.ts';
import { PairkeeperError } from '../errors.ts';
import { notifyEvent, type NotifyEvent } from '../domain/notify-event.ts';
import type { InstancePairing, PairingStep } from './instance-pairing.ts';
import { QueueFullError, type InstanceQueue } from './instance-queue.ts';
import type { InstanceRegistry } from './instance-registry.ts';
import type { LifecycleHolds } from './lifecycle-holds.ts';

const REQUEUE_BACKOFF = { baseMs: 1000, capMs: 60_000 };
/** A timer's work that found the queue full tries again within this long. */
const QUEUE_FULL_BACKOFF = { baseMs: 2000, capMs: 2000 };
const REQUEUE_ATTEMPTS = 8;

/**
 * Work for one instance, by the same names as resync's actions: pair (a launch),
 * release (the instance is gone), continue-terminating (our terminating hook: let it
 * go, release once gone), adopt (record a lost claim). `takeover`: work a message
 * asked of the instance's owner, taken over because the owner has not done it.
 */
export type Task =
  | { kind: 'pair'; takeover?: boolean }
  | { kind: 'release'; takeover?: boolean }
  | { kind: 'continue-terminating'; takeover?: boolean }
  | { kind: 'adopt'; nodeId: string }
  | { kind: 'drop-claim'; nodeId: string }
  | { kind: 'tell-released'; nodeId: string }
  /** A warm-pool move: its hooks of that transition are continued, and no pair is given or taken. */
  | { kind: 'continue-warm'; transition: 'launching' | 'terminating' };

/** Work a message asks for, which the instance's owner does (see Replicas). */
type MessageTask = Exclude<Task, { kind: NodeTask }>;

/** Tasks (and the resync actions they come from) about one pair of the instance, not the instance as a whole. */
const NODE_TASKS = ['adopt', 'drop-claim', 'tell-released'] as const;
type NodeTask = (typeof NODE_TASKS)[number];

function isNodeTask<T extends { kind: string }>(task: T): task is Extract<T, { kind: NodeTask }> {
  return (NODE_TASKS as readonly string[]).includes(task.kind);
}

/** This replica's place among the replicas that share the claim store (config `replicas`). */
export interface Replicas {
  index: number;
  count: number;
  /** How long another replica gives the owner of an instance before doing its work. */
  takeoverMs: number;
  /** Told the owner of each instance a message every replica gets is about (this replica's part of Parameter Store follows it). */
  shares?: Pick<WriteShares, 'saw' | 'tookOver'>;
}

/** Tasks as resync plans them, with the lifecycle hooks resync found waiting on us. */
export function taskOf(action: ResyncAction): Task {
  if (isNodeTask(action)) return { kind: action.kind, nodeId: action.nodeId };
  if (action.kind === 'continue-warm') return { kind: 'continue-warm', transition: 'launching' };
  return { kind: action.kind };
}

export type WorkOutcome = 'paired' | 'unchanged' | 'elsewhere' | 'waiting' | 'gone' | 'refused' | 'holds-others' | 'released' | 'adopted' | 'failed';

export interface ControllerDeps {
  groups: GroupConfig[];
  pairing: InstancePairing;
  queue: InstanceQueue;
  registry: InstanceRegistry;
  holds: LifecycleHolds;
  logger: Logger;
  /** Called when a task ends, for metrics. */
  onOutcome?: (group: string, outcome: WorkOutcome) => void;
  /** Told when a launch is abandoned. */
  notify?: (event: NotifyEvent) => void;
  /** Told as each step is done (see PAIRING_STEPS). */
  onStep?: (step: PairingStep, ids: { instanceId: string; nodeId: string }) => void;
  /** Default: one replica, which owns every instance. */
  replicas?: Replicas;
}

export class Controller implements EventSink {
  private readonly groups: Map<string, GroupConfig>;
  private readonly pairing: InstancePairing;
  private readonly queue: InstanceQueue;
  private readonly registry: InstanceRegistry;
  private readonly holds: LifecycleHolds;
  private readonly logger: Logger;
  /** At most one timer per instance (a retry or a no-pair wake-up): the work it queues re-reads everything anyway. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Task kinds queued for an instance and not started yet: the same work is never queued twice. */
  private readonly queued = new Map<string, Set<string>>();
  private closed = false;
  /** Counts releases: a launch that ends "waiting" while one happened may have missed its wake-up, and looks again. */
  private releases = 0;
  private readonly replicas: Replicas;
  /** Instances whose message work this replica left to their owner, until when (resync leaves them alone meanwhile). */
  private readonly leftToOwner = new Map<string, number>();

  private readonly onOutcome: (group: string, outcome: WorkOutcome) => void;
  private readonly notify: (event: NotifyEvent) => void;
  private readonly onStep: (step: PairingStep, ids: { instanceId: string; nodeId: string }) => void;

  constructor(deps: ControllerDeps) {
    this.groups = new Map(deps.groups.map((g) => [g.name, g]));
    this.pairing = deps.pairing;
    this.queue = deps.queue;
    this.registry = deps.registry;
    this.holds = deps.holds;
    this.logger = deps.logger;
    this.onOutcome = deps.onOutcome ?? (() => {});
    this.notify = deps.notify ?? (() => {});
    this.onStep = deps.onStep ?? (() => {});
    this.replicas = deps.replicas ?? { index: 0, count: 1, takeoverMs: 0 };
  }

  accept(event: AutoScalingEvent, source: Pick<EventSource, 'everyReplica'>): SinkOutcome {
    if (event.kind === 'test' || event.kind === 'unknown') return { outcome: 'ignored', reason: event.kind };
    const group = this.groups.get(event.group);
    if (!group) return { outcome: 'ignored', reason: `group ${event.group} is not configured` };
    // Warm pools: into the pool (EC2 → WarmPool) no pair; out of it (WarmPool → AutoScalingGroup) paired like a launch.
    const intoPool = 'destination' in event && event.destination === 'WarmPool';
    switch (event.kind) {
      case 'launch':
        if (intoPool) return { outcome: 'ignored', reason: 'launched into the warm pool: paired when it leaves the pool' };
        this.messageWork(group, event.instanceId!, { kind: 'pair' }, source);
        return { outcome: 'accepted' };
      case 'lifecycle-launching':
        this.hold(group, event, 'launching');
        this.messageWork(group, event.instanceId, intoPool ? { kind: 'continue-warm', transition: 'launching' } : { kind: 'pair' }, source);
        return { outcome: 'accepted' };
      case 'terminate':
        if (intoPool) return { outcome: 'ignored', reason: 'went back to the warm pool: it keeps its pair' };
        this.messageWork(group, event.instanceId!, { kind: 'release' }, source);
        return { outcome: 'accepted' };
      case 'lifecycle-terminating':
        this.hold(group, event, 'terminating');
        // Back to the pool (ReuseOnScaleIn, refused by resync): it keeps its pair, since nothing is detached from it.
        this.messageWork(group, event.instanceId, intoPool ? { kind: 'continue-warm', transition: 'terminating' } : { kind: 'continue-terminating' }, source);
        return { outcome: 'accepted' };
      case 'launch-error':
      case 'terminate-error':
        return { outcome: 'ignored', reason: `${event.kind}: nothing to pair or release` };
    }
  }

  /** Queues work for an instance (resync's way in); false when the group is not configured. */
  submit(groupName: string, instanceId: string, task: Task, hooks: { launching?: string[]; terminating?: string[] } = {}): boolean {
    const group = this.groups.get(groupName);
    if (!group) return false;
    for (const hookName of hooks.launching ?? []) this.hold(group, { group: groupName, hookName, instanceId, token: undefined }, 'launching');
    for (const hookName of hooks.terminating ?? []) this.hold(group, { group: groupName, hookName, instanceId, token: undefined }, 'terminating');
    // One task per instance whatever its source: work queued or running for it completes the holds just taken.
    if (!isNodeTask(task) && (this.busy(instanceId) || this.isLeftToOwner(instanceId))) return false;
    return this.workOrDefer(group, instanceId, task, 'resync');
  }

  /** Records a member resync found with no pair to be had in its AZ as waiting (unless work for it is queued): a release wakes it. */
  waitForPair(groupName: string, instanceId: string, availabilityZone: string): void {
    const group = this.groups.get(groupName);
    if (group && !this.busy(instanceId)) this.pairing.waitForPair(group, instanceId, availabilityZone);
  }

  /** Whether work for the instance is queued or running. */
  busy(instanceId: string): boolean {
    return this.queue.has(instanceId);
  }

  /** Gives every instance waiting in this group and AZ another try. */
  released(group: string, availabilityZone: string): void {
    this.releases += 1;
    const spec = this.groups.get(group);
    if (!spec) return;
    for (const waiting of this.registry.waitingIn(group, availabilityZone)) this.workOrDefer(spec, waiting.instanceId, { kind: 'pair' }, 'release');
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.holds.close();
  }

  private hold(group: GroupConfig, ref: LifecycleActionRef, transition: 'launching' | 'terminating'): void {
    this.holds.hold(ref, transition, group.lifecycle.heartbeatFraction);
  }

  /**
   * Work a message asks for: queued here if this replica owns the instance, or if the
   * message reached this replica alone (a queue's). Otherwise the owner (which got the
   * same message) does it, and this replica takes it over after `takeoverMs` only if
   * it is not done by then: the owner may have died. Until then resync leaves the
   * instance to its owner too.
   */
  private messageWork(group: GroupConfig, instanceId: string, task: MessageTask, source: Pick<EventSource, 'everyReplica'>): void {
    const { index, count, takeoverMs } = this.replicas;
    const owner = ownerOf(instanceId, count);
    if (source.everyReplica) this.replicas.shares?.saw(instanceId, owner);
    if (owner === index || !source.everyReplica) return this.work(group, instanceId, task);
    this.leftToOwner.set(instanceId, performance.now() + takeoverMs);
    if (task.kind === 'pair') {
      const reason = `replica ${owner} of ${count} owns it; this replica takes over if it is not paired within ${takeoverMs / 1000} s`;
      this.registry.set(instanceId, group.name, { status: 'elsewhere', reason });
    }
    this.logger.debug({ instanceId, group: group.name, task: task.kind, owner }, 'left to the replica that owns the instance');
    this.later(instanceId, takeoverMs, () => {
      this.leftToOwner.delete(instanceId);
      // Completing a warm-pool hook again is harmless: Auto Scaling answers that it is no longer active.
      this.workOrDefer(group, instanceId, task.kind === 'continue-warm' ? task : { ...task, takeover: true }, 'timer');
    });
  }

  /** How many instances this replica left to their owners and has yet to check on. */
  leftToOtherReplicas(): number {
    for (const id of [...this.leftToOwner.keys()]) this.isLeftToOwner(id);
    return this.leftToOwner.size;
  }

  private isLeftToOwner(instanceId: string): boolean {
    const until = this.leftToOwner.get(instanceId);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.leftToOwner.delete(instanceId);
    return false;
  }

  /** Queues a task unless the same one already waits its turn; throws QueueFullError when full (SNS then gets 503). */
  private work(group: GroupConfig, instanceId: string, task: Task, attempt = 0): void {
    if (this.closed) return;
    const key = isNodeTask(task) ? `${task.kind} ${task.nodeId}` : task.kind;
    const waiting = this.queued.get(instanceId) ?? new Set<string>();
    if (waiting.has(key)) return;
    this.queue.enqueue(instanceId, async () => {
      waiting.delete(key);
      if (waiting.size === 0 && this.queued.get(instanceId) === waiting) this.queued.delete(instanceId);
      try {
        await this.run(group, instanceId, task);
      } catch (err) {
        await this.failed(group, instanceId, task, attempt, err);
      }
    });
    waiting.add(key);
    this.queued.set(instanceId, waiting);
  }

  /**
   * Queues work from a path that has no sender to answer (resync, a release's wake-up,
   * a timer): when the queue is full it is deferred, never thrown. Resync and release
   * work is found again by the next resync; a timer's work is tried again shortly.
   */
  private workOrDefer(group: GroupConfig, instanceId: string, task: Task, source: 'resync' | 'release' | 'timer', attempt = 0): boolean {
    try {
      this.work(group, instanceId, task, attempt);
      return true;
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      this.logger.warn({ instanceId, group: group.name, task: task.kind, source }, 'work queue is full: deferred');
      if (source === 'timer') this.later(instanceId, backoffDelay(0, QUEUE_FULL_BACKOFF), () => this.workOrDefer(group, instanceId, task, 'timer', attempt));
      return false;
    }
  }

  private async run(group: GroupConfig, instanceId: string, task: Task): Promise<void> {
    switch (task.kind) {
      case 'pair': {
        // The owner paired it (the usual case): nothing to take over, and its hook is the owner's to complete.
        if (task.takeover && (await this.pairing.pairedByOwner(group, instanceId))) {
          this.holds.drop(instanceId);
          return this.onOutcome(group.name, 'elsewhere');
        }
        if (task.takeover) {
          this.logger.warn({ instanceId, group: group.name }, 'the replica that owns the instance has not paired it: taking over');
          // Its claim is this replica's to write now: a replica that died leaves its part of Parameter Store to the ones taking over.
          this.replicas.shares?.tookOver(instanceId);
        }
        const releasesBefore = this.releases;
        const launched = await this.pairing.launch(group, instanceId);
        this.onOutcome(group.name, launched.outcome);
        if (launched.outcome === 'paired' || launched.outcome === 'unchanged') {
          const done = await this.holds.complete(instanceId, 'launching', 'CONTINUE', 'pair attached');
          const registered = this.registry.get(instanceId);
          if (done.length > 0 && registered?.nodeId) this.onStep('hook-completed', { instanceId, nodeId: registered.nodeId });
        } else if (launched.outcome === 'waiting') {
          // A pair released while this launch looked woke only instances already marked waiting: look again.
          if (this.releases !== releasesBefore) this.workOrDefer(group, instanceId, { kind: 'pair' }, 'release');
          else await this.noPairYet(group, instanceId, launched.reason);
        }
        // Parts of other pairs on it: a person decides; its hook gets the group's no-pair result.
        else if (launched.outcome === 'holds-others') await this.giveUp(group, instanceId, launched.reason);
        else this.holds.drop(instanceId);
        return;
      }
      case 'release':
        await this.pairing.terminate(group, instanceId, { takeover: task.takeover === true });
        return this.onOutcome(group.name, 'released');
      case 'continue-terminating':
        await this.holds.complete(instanceId, 'terminating', 'CONTINUE', 'its pair is released once it is gone');
        await this.pairing.terminate(group, instanceId, { departing: true, takeover: task.takeover === true });
        return this.onOutcome(group.name, 'released');
      case 'adopt':
        await this.pairing.adopt(group, instanceId, task.nodeId);
        return this.onOutcome(group.name, 'adopted');
      case 'drop-claim':
        await this.pairing.dropLeftoverClaim(group, instanceId, task.nodeId);
        return this.onOutcome(group.name, 'released');
      case 'tell-released':
        return this.pairing.tellUntoldRelease(group, instanceId, task.nodeId);
      case 'continue-warm':
        await this.holds.complete(
          instanceId,
          task.transition,
          'CONTINUE',
          task.transition === 'launching' ? 'into the warm pool: paired when it leaves the pool' : 'back to the warm pool: it keeps its pair',
        );
        return;
    }
  }

  /** A hook-held instance with no pair waits up to noPairWaitSeconds (a release wakes it sooner), then gets onNoPair. */
  private async noPairYet(group: GroupConfig, instanceId: string, reason: string): Promise<void> {
    const holds = this.holds.of(instanceId, 'launching');
    if (holds.length === 0) return;
    const waitedMs = performance.now() - Math.min(...holds.map((h) => h.since));
    const leftMs = group.lifecycle.noPairWaitSeconds * 1000 - waitedMs;
    if (leftMs > 0) {
      this.later(instanceId, leftMs, () => this.workOrDefer(group, instanceId, { kind: 'pair' }, 'timer'));
      return;
    }
    // This replica's view is not the store: another replica may be pairing it. Never abandon a launch somebody holds a claim for.
    if (await this.pairing.claimedElsewhere(group, instanceId)) {
      this.holds.drop(instanceId);
      return;
    }
    await this.giveUp(group, instanceId, reason);
  }

  private async giveUp(group: GroupConfig, instanceId: string, reason: string): Promise<void> {
    const result: LifecycleResult = group.lifecycle.onNoPair === 'abandon' ? 'ABANDON' : 'CONTINUE';
    const outcomes = await this.holds.complete(instanceId, 'launching', result, reason);
    if (result === 'ABANDON' && outcomes.some((o) => o.answer === 'done')) {
      this.registry.set(instanceId, group.name, { status: 'abandoned', reason });
      this.logger.warn({ instanceId, group: group.name, reason }, 'launch abandoned: Auto Scaling replaces the instance');
      this.notify(notifyEvent('lifecycle.abandoned', { group: group.name, instanceId, reason }));
    }
  }

  private async failed(group: GroupConfig, instanceId: string, task: Task, attempt: number, err: unknown): Promise<void> {
    const retryable = err instanceof PairkeeperError ? err.retryable : true;
    const reason = err instanceof Error ? err.message : String(err);
    this.registry.set(instanceId, group.name, { status: 'failed', reason });
    this.onOutcome(group.name, 'failed');
    const fields = { instanceId, group: group.name, task: task.kind, attempt };
    if (retryable && attempt + 1 < REQUEUE_ATTEMPTS) {
      const delay = backoffDelay(attempt, REQUEUE_BACKOFF);
      this.logger.warn({ ...fields, retryInMs: Math.round(delay), reason }, `${task.kind} failed; will try again`);
      this.later(instanceId, delay, () => this.workOrDefer(group, instanceId, task, 'timer', attempt + 1));
      return;
    }
    this.logger.error({ ...fields, err }, `${task.kind} failed; giving up until the next event or resync for this instance`);
    if (task.kind !== 'pair') return;
    try {
      await this.giveUp(group, instanceId, `attaching failed: ${reason}`);
    } catch (completeErr) {
      this.logger.error({ ...fields, err: completeErr }, 'could not complete the lifecycle action; resync will try again');
    }
  }

  /** Runs `fn` for the instance after `ms`, unless a timer of the instance is already set (its work re-reads everything). */
  private later(instanceId: string, ms: number, fn: () => void): void {
    if (this.closed || this.timers.has(instanceId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(instanceId);
      fn();
    }, ms);
    timer.unref();
    this.timers.set(instanceId, timer);
  }
}
