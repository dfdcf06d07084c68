/**
 * Retries AWS calls past the SDK's own three attempts: a burst of hundreds of
 * launches drains AWS's token buckets for longer than the SDK waits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type Backoff } from '../backoff.ts';
import { PairkeeperError } from '../errors.ts';
import { asAwsError, errorCode, kindOf } from './aws-errors.ts';

export interface RetryPolicy extends Backoff {
  /** Calls in all, the first included. */
  attempts: number;
  /** Called before each wait, e.g. to log or count throttling. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
}

/** Worth trying again at once (after a short wait): slow-downs, dropped requests, credentials being refreshed. */
const RETRIED = new Set(['throttled', 'transient', 'credentials']);

/**
 * Long enough to ride out a burst that drains AWS's token buckets (the waits add up
 * to about 5 s at most), short enough that the controller's own backoff takes over.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 8, baseMs: 50, capMs: 2000 };

/**
 * Runs `fn`, retrying throttles, transient failures and credential hiccups with
 * backoff (src/backoff.ts). Any other error is thrown
 * at once, unchanged. After the last attempt it throws a retryable PairkeeperError
 * whose cause is the last failure. `what` names the call in that message.
 */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy & { what?: string }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!RETRIED.has(kindOf(error))) throw error;
      if (attempt >= policy.attempts) {
        throw new PairkeeperError(
          'PK_AWS_RETRIES_EXHAUSTED',
          `${policy.what ?? 'AWS call'} still failing after ${attempt} attempts (${errorCode(error) ?? 'unknown error'})`,
          { cause: error },
        );
      }
      const delayMs = backoffDelay(attempt - 1, policy);
      policy.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs);
    }
  }
}

/** An AWS call with `retry`, whose failure reaches the caller classified (an AwsError, or PK_AWS_RETRIES_EXHAUSTED). */
export async function awsCall<T>(what: string, fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  try {
    return await retry(fn, { ...policy, what });
  } catch (err) {
    throw asAwsError(what, err);
  }
}
