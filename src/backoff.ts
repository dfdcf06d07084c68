/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(cap, base·2^n)),
 * so callers that failed together (replicas, instances throttled by one bucket) do
 * not come back together. The one definition of "backoff": AWS retries, the
 * controller's requeue, notification deliveries and failed resyncs all use it.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
  /** [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

/** The wait before retry number `retry` (0 for the first retry). */
export function backoffDelay(retry: number, backoff: Backoff): number {
  const random = backoff.random ?? Math.random;
  return Math.floor(random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** retry));
}
