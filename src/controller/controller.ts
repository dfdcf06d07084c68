import type { Logger } from 'pino';
import type { AutoScalingEvent } from '../domain/events.ts';
import { PairkeeperError } from '../errors.ts';
import type { EventSink, SinkOutcome } from '../sns/ingress.ts';
import type { InstanceQueue } from './instance-queue.ts';
import type { InstanceRegistry } from './instance-registry.ts';
import type { Pairing, PairingGroup } from './pairing.ts';

/**
 * Turns accepted events into work on the per-instance queue. SNS is a trigger, not
 * the truth (invariant 4): the work re-reads EC2, so a duplicate or a late message
 * is harmless. A retryable failure is tried again later with backoff; instances
 * waiting for a pair are retried when one is released in their AZ.
 */
const REQUEUE_BASE_MS = 1000;
const REQUEUE_CAP_MS = 60_000;
const REQUEUE_ATTEMPTS = 8;

export class Controller implements EventSink {
  private readonly groups: Map<string, PairingGroup>;
  private readonly pairing: Pairing;
  private readonly queue: InstanceQueue;
  private readonly registry: InstanceRegistry;
  private readonly logger: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waitingTimer: NodeJS.Timeout;

  constructor(deps: { groups: PairingGroup[]; pairing: Pairing; queue: InstanceQueue; registry: InstanceRegistry; logger: Logger; retryWaitingMs: number }) {
    this.groups = new Map(deps.groups.map((g) => [g.name, g]));
    this.pairing = deps.pairing;
    this.queue = deps.queue;
    this.registry = deps.registry;
    this.logger = deps.logger;
    this.waitingTimer = setInterval(() => this.retryWaiting(), deps.retryWaitingMs);
    this.waitingTimer.unref();
  }

  accept(event: AutoScalingEvent): SinkOutcome {
    if (event.kind === 'test' || event.kind === 'unknown') return { outcome: 'ignored', reason: event.kind };
    const group = this.groups.get(event.group);
    if (!group) return { outcome: 'ignored', reason: `group ${event.group} is not configured` };
    switch (event.kind) {
      // Lifecycle actions are completed by the lifecycle feature; here they pair and release like the activity events.
      case 'launch':
      case 'lifecycle-launching':
        this.work(group, event.instanceId!, 'launch', 0);
        return { outcome: 'accepted' };
      case 'terminate':
      case 'lifecycle-terminating':
        this.work(group, event.instanceId!, 'terminate', 0);
        return { outcome: 'accepted' };
      case 'launch-error':
      case 'terminate-error':
        return { outcome: 'ignored', reason: `${event.kind}: nothing to pair or release` };
    }
  }

  /** Gives every instance waiting in this group and AZ another try. */
  released(group: string, availabilityZone: string): void {
    const spec = this.groups.get(group);
    if (!spec) return;
    for (const waiting of this.registry.waitingIn(group, availabilityZone)) this.work(spec, waiting.instanceId, 'launch', 0);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private retryWaiting(): void {
    for (const waiting of this.registry.list().filter((r) => r.status === 'waiting')) {
      const spec = this.groups.get(waiting.group);
      if (spec) this.work(spec, waiting.instanceId, 'launch', 0);
    }
  }

  close(): void {
    clearInterval(this.waitingTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private work(group: PairingGroup, instanceId: string, action: 'launch' | 'terminate', attempt: number): void {
    this.queue.enqueue(instanceId, async () => {
      try {
        await (action === 'launch' ? this.pairing.launch(group, instanceId) : this.pairing.terminate(group, instanceId));
      } catch (err) {
        const retryable = err instanceof PairkeeperError ? err.retryable : true;
        const reason = err instanceof Error ? err.message : String(err);
        this.registry.set(instanceId, group.name, { status: 'failed', reason });
        if (!retryable || attempt + 1 >= REQUEUE_ATTEMPTS) {
          this.logger.error({ err, instanceId, group: group.name, action, attempt }, `${action} failed; giving up until the next event for this instance`);
          return;
        }
        const delay = Math.random() * Math.min(REQUEUE_CAP_MS, REQUEUE_BASE_MS * 2 ** attempt);
        this.logger.warn({ instanceId, group: group.name, action, attempt, retryInMs: Math.round(delay), reason }, `${action} failed; will try again`);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.work(group, instanceId, action, attempt + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      }
    });
  }
}
