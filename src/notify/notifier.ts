import { accessSync, constants } from 'node:fs';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.ts';
import type { NotifyConfig } from '../config/notify-schema.ts';
import { ConfigError } from '../errors.ts';
import { CommandTarget } from './command-hook.ts';
import type { NotifyEvent, NotifyEventType } from '../domain/notify-event.ts';
import type { AttemptResult, Target } from './target.ts';
import { WebhookTarget } from './webhook.ts';

/**
 * One line of delivery history, for the status route and metrics.
 * delivered: this attempt worked. failed: it did not, and another follows after
 * `retryInMs`. gave-up: it did not and none follows (attempts used up, or an answer
 * that no retry can change, like a 404). dropped: never tried again because the
 * queue was full or the notifier closed.
 */
export interface DeliveryRecord {
  eventId: string;
  type: NotifyEventType;
  group: string;
  instanceId: string;
  nodeId?: string;
  kind: 'webhook' | 'command';
  target: string;
  /** Attempts made so far, this one included. */
  attempt: number;
  outcome: 'delivered' | 'failed' | 'gave-up' | 'dropped';
  status?: number;
  exitCode?: number;
  signal?: string;
  error?: string;
  output?: string;
  retryInMs?: number;
  durationMs: number;
  time: string;
}

export interface NotifierOptions {
  config: Pick<NotifyConfig, 'webhooks' | 'commands' | 'retry' | 'queueLimit'>;
  logger: Logger;
  /** Called with every record as it is made, e.g. to count outcomes. */
  onDelivery?: (record: DeliveryRecord) => void;
  /** [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
  /**
   * Attempts in flight at once per target. salt-api's CherryPy serves a few dozen
   * connections at most; a burst of launches must queue here, not there.
   */
  concurrency?: number;
  /** Delivery records kept for deliveries(). */
  historySize?: number;
  /** close() waits this long for attempts in flight, then aborts them. */
  closeTimeoutMs?: number;
}

interface Delivery {
  /** Order of emission: the oldest waiting delivery is the one dropped when the queue is full. */
  seq: number;
  event: NotifyEvent;
  target: Target;
  attempts: number;
  /** performance.now() before which the next attempt does not start. */
  dueAt: number;
}

/**
 * Delivers events to webhooks and commands in the background. emit() queues and
 * returns at once, never throws; each delivery is retried with exponential backoff
 * and full jitter until it succeeds, gets an answer no retry can change, or runs out
 * of attempts. Every failed attempt is logged at warn, giving up at error, so a
 * broken hook shows. Deliveries are not ordered with each other: a receiver orders
 * by `time` and drops duplicates by `id` (a retry after a lost answer repeats one).
 */
export class Notifier {
  private readonly targets: Target[];
  private readonly retry: NotifyConfig['retry'];
  private readonly queueLimit: number;
  private readonly log: Logger;
  private readonly onDelivery: (record: DeliveryRecord) => void;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly historySize: number;
  private readonly closeTimeoutMs: number;

  /** Deliveries waiting for their first attempt or a retry, in `seq` order. */
  private waiting: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly active = new Map<Target, number>();
  private readonly history: DeliveryRecord[] = [];
  /** Per event: deliveries not settled yet, and who waits for them all. */
  private readonly unsettled = new Map<string, { left: number; resolve: () => void }>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private seq = 0;
  private droppedCount = 0;
  private closing: Promise<void> | undefined;

  constructor(options: NotifierOptions) {
    const { config } = options;
    config.webhooks.forEach((w, i) => {
      if (!w.authHeaderFile) return;
      try {
        accessSync(w.authHeaderFile, constants.R_OK);
      } catch (err) {
        throw new ConfigError(`notify.webhooks.${i}.authHeaderFile: cannot read ${w.authHeaderFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    });
    this.targets = [...config.webhooks.map((w) => new WebhookTarget(w)), ...config.commands.map((c) => new CommandTarget(c))];
    this.retry = config.retry;
    this.queueLimit = config.queueLimit;
    this.log = options.logger.child({ component: 'notify' });
    this.onDelivery = options.onDelivery ?? (() => {});
    this.random = options.random ?? Math.random;
    this.concurrency = options.concurrency ?? 4;
    this.historySize = options.historySize ?? 200;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  }

  /**
   * Queues the event for every target that wants its type and returns at once; never
   * throws. The promise resolves once every delivery of it has settled (delivered,
   * given up or dropped), at once when no target wants it: what a caller waits for
   * before recording that the event was announced.
   */
  emit(event: NotifyEvent): Promise<void> {
    try {
      if (this.closing) {
        this.log.warn(eventFields(event), 'notification after close; not delivered');
        return new Promise(() => {});
      }
      const targets = this.targets.filter((t) => t.events.has(event.type));
      if (targets.length === 0) return Promise.resolve();
      const settled = new Promise<void>((resolve) => this.unsettled.set(event.id, { left: targets.length, resolve }));
      for (const target of targets) this.enqueue({ seq: this.seq++, event, target, attempts: 0, dueAt: 0 });
      this.schedulePump();
      return settled;
    } catch (err) {
      this.log.error({ err, eventId: event?.id }, 'cannot queue notification');
      return new Promise(() => {});
    }
  }

  /** The most recent delivery records, oldest first. */
  deliveries(): DeliveryRecord[] {
    return this.history.map((r) => ({ ...r }));
  }

  stats(): { waiting: number; inFlight: number; dropped: number } {
    return { waiting: this.waiting.length, inFlight: this.inFlight.size, dropped: this.droppedCount };
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: retry timers are cleared and waiting deliveries dropped (logged); attempts
   * in flight get closeTimeoutMs to finish, then are aborted (requests cancelled,
   * command process groups killed). Leaves no timer or child behind.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.waiting;
    this.waiting = [];
    for (const d of left) this.record(d, { outcome: 'dropped', error: 'the notifier closed before this delivery was tried again' }, 0);
    if (left.length > 0) {
      this.log.warn({ count: left.length, eventIds: [...new Set(left.map((d) => d.event.id))] }, 'notifier closed with deliveries waiting; dropped');
    }
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = await Promise.race([
        Promise.allSettled([...this.inFlight]).then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.closeTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (expired) {
        this.abort.abort();
        await Promise.allSettled([...this.inFlight]);
      }
    }
    this.settleIdle();
  }

  private enqueue(delivery: Delivery): void {
    const at = this.waiting.findIndex((d) => d.seq > delivery.seq);
    if (at === -1) this.waiting.push(delivery);
    else this.waiting.splice(at, 0, delivery);
    while (this.waiting.length > this.queueLimit) {
      const oldest = this.waiting.shift()!;
      this.droppedCount++;
      const record = this.record(oldest, { outcome: 'dropped', error: `queue full (${this.queueLimit} waiting)` }, 0);
      this.settle(oldest.event.id);
      this.log.warn(logFields(record), 'notification queue full; dropped the oldest delivery');
    }
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Starts every due delivery whose target has a free slot, and sets one timer for the next one due. */
  private pump(): void {
    if (this.closing) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    let next = Infinity;
    const still: Delivery[] = [];
    for (const d of this.waiting) {
      if (d.dueAt > now) {
        next = Math.min(next, d.dueAt);
        still.push(d);
      } else if ((this.active.get(d.target) ?? 0) >= this.concurrency) {
        // Started when a slot frees: finishing an attempt pumps again.
        still.push(d);
      } else {
        this.start(d);
      }
    }
    this.waiting = still;
    if (next !== Infinity) this.timer = setTimeout(() => this.pump(), Math.ceil(next - now));
  }

  private start(d: Delivery): void {
    d.attempts++;
    this.active.set(d.target, (this.active.get(d.target) ?? 0) + 1);
    const started = performance.now();
    const run: Promise<void> = d.target
      .attempt(d.event, this.abort.signal)
      .catch((err: unknown): AttemptResult => ({ ok: false, retryable: true, error: `unexpected: ${(err as Error)?.message ?? String(err)}` }))
      .then((result) => this.finish(d, result, performance.now() - started))
      .catch((err: unknown) => this.log.error({ err, eventId: d.event.id }, 'notification bookkeeping failed'))
      .finally(() => {
        this.inFlight.delete(run);
        this.active.set(d.target, this.active.get(d.target)! - 1);
        this.pump();
        this.settleIdle();
      });
    this.inFlight.add(run);
  }

  private finish(d: Delivery, result: AttemptResult, durationMs: number): void {
    if (result.ok) {
      const record = this.record(d, { outcome: 'delivered', result }, durationMs);
      this.settle(d.event.id);
      this.log.info(logFields(record), 'notification delivered');
      return;
    }
    if (result.retryable && this.closing) {
      const record = this.record(d, { outcome: 'dropped', result, error: `${result.error}; the notifier closed` }, durationMs);
      this.log.warn(logFields(record), 'notification attempt failed as the notifier closed; dropped');
      return;
    }
    if (result.retryable && d.attempts < this.retry.attempts) {
      const retryInMs = backoffDelay(d.attempts - 1, { ...this.retry, random: this.random });
      const record = this.record(d, { outcome: 'failed', result, retryInMs }, durationMs);
      this.log.warn(logFields(record), 'notification attempt failed; will retry');
      d.dueAt = performance.now() + retryInMs;
      this.enqueue(d);
      return;
    }
    const why = result.retryable ? `still failing after ${d.attempts} attempts` : 'not retried: the same request cannot succeed';
    const record = this.record(d, { outcome: 'gave-up', result, error: `${result.error} (${why})` }, durationMs);
    this.settle(d.event.id);
    this.log.error(logFields(record), 'notification gave up');
  }

  private record(
    d: Delivery,
    what: { outcome: DeliveryRecord['outcome']; result?: AttemptResult; error?: string; retryInMs?: number },
    durationMs: number,
  ): DeliveryRecord {
    const { event, target } = d;
    const r = what.result;
    const error = what.error ?? r?.error;
    const record: DeliveryRecord = {
      eventId: event.id,
      type: event.type,
      group: event.group,
      instanceId: event.instanceId,
      ...(event.nodeId !== undefined ? { nodeId: event.nodeId } : {}),
      kind: target.kind,
      target: target.describe(event),
      attempt: d.attempts,
      outcome: what.outcome,
      ...(r?.status !== undefined ? { status: r.status } : {}),
      ...(r?.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      ...(r?.signal !== undefined ? { signal: r.signal } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(r?.output !== undefined ? { output: r.output } : {}),
      ...(what.retryInMs !== undefined ? { retryInMs: what.retryInMs } : {}),
      durationMs: Math.round(durationMs),
      time: new Date().toISOString(),
    };
    this.history.push(record);
    if (this.history.length > this.historySize) this.history.shift();
    try {
      this.onDelivery(record);
    } catch (err) {
      this.log.error({ err }, 'onDelivery callback failed');
    }
    return record;
  }

  /**
   * One delivery of the event reached its end: delivered, given up, or dropped from a
   * full queue. A delivery dropped because the notifier closes never settles: the
   * event was not told, and whoever waits must not record it as told.
   */
  private settle(eventId: string): void {
    const entry = this.unsettled.get(eventId);
    if (!entry || --entry.left > 0) return;
    this.unsettled.delete(eventId);
    entry.resolve();
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.inFlight.size === 0;
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function eventFields(event: NotifyEvent) {
  return { eventId: event.id, eventType: event.type, group: event.group, instanceId: event.instanceId, nodeId: event.nodeId };
}

/** The ids an operator greps for, and what happened. */
function logFields(r: DeliveryRecord) {
  return {
    eventId: r.eventId,
    eventType: r.type,
    group: r.group,
    instanceId: r.instanceId,
    nodeId: r.nodeId,
    target: r.target,
    attempt: r.attempt,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    error: r.error,
    output: r.output,
    retryInMs: r.retryInMs,
    durationMs: r.durationMs,
  };
}
