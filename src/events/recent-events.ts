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
  private readonly events: RecentEvent[] = [];
  private readonly limit: number;

  constructor(limit = 500) {
    this.limit = limit;
  }

  add(event: RecentEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }

  list(filter: { instanceId?: string; limit?: number } = {}): RecentEvent[] {
    const matching = this.events.filter((e) => !filter.instanceId || e.instanceId === filter.instanceId);
    return matching.reverse().slice(0, filter.limit ?? this.limit);
  }
}
