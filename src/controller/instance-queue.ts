/**
 * Work per instance: one instance's tasks run one at a time, in the order they
 * came; different instances run in parallel up to `concurrency`. Bounded: past
 * `limit` instances waiting, `enqueue` refuses (SNS gets a 503 and retries later)
 * rather than letting memory grow without end.
 */
import { PairkeeperError } from '../errors.ts';

export class QueueFullError extends PairkeeperError {
  constructor(limit: number) {
    super('PK_QUEUE_FULL', `more than ${limit} instances are waiting for work`);
  }
}

export class InstanceQueue {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private readonly concurrency: number;
  private readonly limit: number;
  private readonly onError: (key: string, err: unknown) => void;

  constructor(options: { concurrency: number; limit: number; onError: (key: string, err: unknown) => void }) {
    this.concurrency = options.concurrency;
    this.limit = options.limit;
    this.onError = options.onError;
  }

  /** Keys with work queued or running. */
  get depth(): number {
    return this.chains.size;
  }

  /** Whether the key has work queued or running. */
  has(key: string): boolean {
    return this.chains.has(key);
  }

  enqueue(key: string, task: () => Promise<void>): void {
    if (!this.chains.has(key) && this.chains.size >= this.limit) throw new QueueFullError(this.limit);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.withSlot(key, task));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async withSlot(key: string, task: () => Promise<void>): Promise<void> {
    // A finished task hands its slot straight to the next waiter, so a newcomer
    // arriving in between cannot slip in and push the count past `concurrency`.
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      await task();
    } catch (err) {
      this.onError(key, err);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
