/**
 * The most recent SNS messages pairkeeper handled, newest first, bounded. Enough for
 * an operator to answer "did the launch of i-… reach us, and what happened?".
 * Messages refused before their signature verified are kept in a ring of their own:
 * anyone can send those, and they must never push a genuine message out.
 */
import type { HandledMessage } from '../domain/handled-message.ts';

export type RecentEvent = HandledMessage;

/** `next` is where the next item goes, overwriting the oldest once full. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.limit;
  }

  newestFirst(): T[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)].reverse();
  }
}

export class RecentEvents {
  private readonly authenticated: Ring<RecentEvent>;
  private readonly unauthenticated: Ring<RecentEvent>;

  constructor(limits: { authenticated: number; unauthenticated: number } = { authenticated: 500, unauthenticated: 100 }) {
    this.authenticated = new Ring(limits.authenticated);
    this.unauthenticated = new Ring(limits.unauthenticated);
  }

  /** A message whose signature verified, whatever became of it. */
  add(event: RecentEvent): void {
    this.authenticated.add(event);
  }

  /** A message refused before its signature verified; its fields are bounded by then. */
  addRefused(event: RecentEvent): void {
    this.unauthenticated.add(event);
  }

  list(filter: { instanceId?: string; limit?: number } = {}): RecentEvent[] {
    return this.authenticated
      .newestFirst()
      .filter((e) => !filter.instanceId || e.instanceId === filter.instanceId)
      .slice(0, filter.limit ?? this.authenticated.limit);
  }

  refused(limit = this.unauthenticated.limit): RecentEvent[] {
    return this.unauthenticated.newestFirst().slice(0, limit);
  }
}
