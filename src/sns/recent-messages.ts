/**
 * The most recent SNS messages pairkeeper handled, newest first, bounded. Enough for
 * an operator to answer "did the launch of i-… reach us, and what happened?".
 */
export interface RecentEvent {
  at: string;
  messageId: string;
  type: string;
  kind?: string;
  group?: string;
  instanceId?: string;
  outcome: string;
  detail?: string;
  durationMs: number;
}

export class RecentEvents {
  /** A ring: `next` is where the next event goes, overwriting the oldest once full. */
  private readonly ring: RecentEvent[] = [];
  private next = 0;
  private readonly limit: number;

  constructor(limit = 500) {
    this.limit = limit;
  }

  add(event: RecentEvent): void {
    this.ring[this.next] = event;
    this.next = (this.next + 1) % this.limit;
  }

  list(filter: { instanceId?: string; limit?: number } = {}): RecentEvent[] {
    const newestFirst = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].reverse();
    return newestFirst.filter((e) => !filter.instanceId || e.instanceId === filter.instanceId).slice(0, filter.limit ?? this.limit);
  }
}
