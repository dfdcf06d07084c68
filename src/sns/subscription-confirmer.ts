import { SnsRejection } from '../errors.ts';

/**
 * Confirms a subscription by GETting its (already validated) SubscribeURL, the way
 * SNS expects. Bounded: a timeout per attempt and a fixed number of attempts, so
 * the whole thing fits inside the 15 s SNS waits for an answer. SNS refusing the
 * token (a 4xx: expired, already used) cannot get better by retrying; a timeout or a
 * 5xx can, so only those are answered with a 5xx that makes SNS send it again.
 */
export async function confirmSubscription(
  url: URL,
  options: { timeoutMs: number; attempts: number; retryDelayMs: number },
): Promise<{ subscriptionArn: string | undefined }> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, options.retryDelayMs));
    try {
      const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
      const text = (await res.text()).slice(0, 16 * 1024);
      if (res.status === 200) {
        return { subscriptionArn: /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(text)?.[1] };
      }
      if (res.status < 500 && res.status !== 429) {
        throw new SnsRejection('PK_SNS_CONFIRM_REFUSED', `SNS refused the subscription confirmation: HTTP ${res.status}`);
      }
      lastError = new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (err instanceof SnsRejection) throw err;
      lastError = err as Error;
    }
  }
  throw new SnsRejection('PK_SNS_CONFIRM_FAILED', `confirming the subscription failed: ${lastError?.message ?? 'no attempt'}`, lastError);
}
