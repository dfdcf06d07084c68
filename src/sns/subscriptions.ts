/**
 * What pairkeeper did with each subscription message, kept for operators
 * (`GET /v1/subscriptions`). Tokens and SubscribeURLs are not kept: whoever holds
 * them can confirm a subscription.
 */
export type SubscriptionOutcome = 'confirmed' | 'confirm-failed' | 'awaiting-manual-confirmation' | 'unsubscribed';

export interface SubscriptionRecord {
  at: string;
  topicArn: string;
  messageId: string;
  outcome: SubscriptionOutcome;
  subscriptionArn?: string;
  error?: string;
}

export class SubscriptionLog {
  private readonly records: SubscriptionRecord[] = [];
  private readonly limit: number;

  constructor(limit = 100) {
    this.limit = limit;
  }

  add(record: SubscriptionRecord): void {
    this.records.push(record);
    if (this.records.length > this.limit) this.records.shift();
  }

  list(): SubscriptionRecord[] {
    return [...this.records].reverse();
  }
}
