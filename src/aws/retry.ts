import { setTimeout as sleep } from 'node:timers/promises';
import { PairkeeperError } from '../errors.ts';
import { errorCode, isThrottle, isTransient } from './aws-errors.ts';

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** Called before each wait, e.g. to log or count throttling. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
  /** [0, 1); injectable so tests can seed it. */
  random?: () => number;
}

/**
 * Long enough to ride out a burst that drains AWS's token buckets (the waits add up
 * to about 5 s at most), short enough that the controller's own backoff takes over.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 8, baseMs: 50, capMs: 2000 };

/**
 * Runs `fn`, retrying throttles and transient failures with exponential backoff and
 * full jitter (a uniform wait in [0, min(cap, base·2^n))), so replicas and instances
 * that were throttled together do not come back together. Any other error is thrown
 * at once, unchanged. After the last attempt it throws a retryable PairkeeperError
 * whose cause is the last failure. `what` names the call in that message.
 */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy & { what?: string }): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottle(error) && !isTransient(error)) throw error;
      if (attempt >= policy.attempts) {
        throw new PairkeeperError(
          'PK_AWS_RETRIES_EXHAUSTED',
          `${policy.what ?? 'AWS call'} still failing after ${attempt} attempts (${errorCode(error) ?? 'unknown error'})`,
          { retryable: true, cause: error },
        );
      }
      const delayMs = Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1)));
      policy.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs);
    }
  }
}
