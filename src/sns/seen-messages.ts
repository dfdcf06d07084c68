/**
 * MessageIds already handled, for replay and duplicate protection. SNS retries and
 * duplicates keep the MessageId. An id only needs remembering while its message
 * would still pass the age check (`windowMs`); past `capacity` the oldest are
 * forgotten, which at worst lets a genuine, still-fresh message be handled twice —
 * harmless, since every action is idempotent.
 */
export type Admission = 'new' | 'duplicate' | 'in-flight';

export class SeenMessages {
  private readonly done = new Map<string, number>();
  private readonly working = new Set<string>();
  private readonly windowMs: number;
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(options: { windowMs: number; capacity: number; now?: () => number }) {
    this.windowMs = options.windowMs;
    this.capacity = options.capacity;
    this.now = options.now ?? Date.now;
  }

  /** Claims an id for handling; `commit` or `release` it afterwards. */
  begin(messageId: string): Admission {
    this.expire();
    if (this.done.has(messageId)) return 'duplicate';
    if (this.working.has(messageId)) return 'in-flight';
    this.working.add(messageId);
    return 'new';
  }

  /** Handled: later copies are duplicates. */
  commit(messageId: string): void {
    this.working.delete(messageId);
    this.done.set(messageId, this.now());
    while (this.done.size > this.capacity) this.done.delete(this.done.keys().next().value as string);
  }

  /** Not handled (a retryable failure): the retry SNS sends must be handled. */
  release(messageId: string): void {
    this.working.delete(messageId);
  }

  get size(): number {
    return this.done.size;
  }

  private expire(): void {
    const cutoff = this.now() - this.windowMs;
    for (const [id, at] of this.done) {
      if (at >= cutoff) break; // insertion order is time order
      this.done.delete(id);
    }
  }
}
