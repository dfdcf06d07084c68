/**
 * Paces calls per EC2 API with AWS's own token buckets (capacity, refill per second),
 * so a burst of launches waits its turn here instead of spending calls on
 * RequestLimitExceeded. A reservation bucket: a call takes a token now, or reserves
 * the next one and waits for it, which keeps callers in arrival order. `scale`
 * multiplies the refill, for accounts with raised limits (and for benchmarks).
 * `sizeOf` is asked at every call: a waiting call keeps the turn it was given.
 */
export interface BucketSize {
  capacity: number;
  refillPerSecond: number;
}

/** AWS's default request-rate buckets, each API with its own (EC2 API reference, "Request throttling"). */
export function ec2BucketFor(action: string): BucketSize {
  if (action.startsWith('Describe')) return { capacity: 100, refillPerSecond: 20 };
  if (action === 'CreateTags' || action === 'DeleteTags') return { capacity: 100, refillPerSecond: 10 };
  return { capacity: 50, refillPerSecond: 5 };
}

/** A bucket whose size is asked at each call: a replica's part of an account's bucket can change (see WriteShares). */
class Bucket {
  private tokens: number;
  private last: number;
  private readonly size: () => BucketSize;
  private readonly now: () => number;

  constructor(size: () => BucketSize, now: () => number) {
    this.size = size;
    this.tokens = size().capacity;
    this.now = now;
    this.last = now();
  }

  /** Milliseconds until the caller's token is there (0: now), at the refill of this moment. */
  reserve(): number {
    const t = this.now();
    const { capacity, refillPerSecond } = this.size();
    this.tokens = Math.min(capacity, this.tokens + ((t - this.last) / 1000) * refillPerSecond);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / refillPerSecond) * 1000;
  }
}

/**
 * For pacing against AWS: a little under AWS's refill rate, because a request's
 * arrival at AWS jitters by milliseconds, and a bucket paced exactly at the refill
 * loses a call to that jitter now and then. 3% slower costs a 500-launch burst a
 * quarter of a second.
 */
export const PACING_MARGIN = 0.97;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sizeOf: (action: string) => BucketSize;
  private readonly now: () => number;

  constructor(options: { sizeOf: (action: string) => BucketSize; scale?: number; now?: () => number }) {
    const scale = options.scale ?? 1;
    this.sizeOf = (action) => {
      const size = options.sizeOf(action);
      return { capacity: size.capacity, refillPerSecond: size.refillPerSecond * scale };
    };
    this.now = options.now ?? (() => performance.now());
  }

  async take(action: string): Promise<void> {
    let bucket = this.buckets.get(action);
    if (!bucket) this.buckets.set(action, (bucket = new Bucket(() => this.sizeOf(action), this.now)));
    const waitMs = bucket.reserve();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

/**
 * Parameter Store's buckets, per account and region: GetParameter, GetParameters and
 * GetParametersByPath share about 40 calls a second at standard throughput (with higher
 * throughput GetParametersByPath has 100 of its own, the others far more); PutParameter
 * and DeleteParameter share about 3 a second (about 10 with higher throughput: not in
 * AWS's docs, but what AWS support tells throttled users). One second's worth of burst.
 * The buckets are the account's: `share` is this replica's part of them (0.5 each for
 * two), burst included, so that replicas starting together do not overdraw the burst.
 */
export function ssmBucketOf(action: string, higherThroughput: boolean): string {
  if (action === 'PutParameter' || action === 'DeleteParameter') return 'write';
  if (action === 'GetParametersByPath' && higherThroughput) return 'read-by-path';
  return 'read';
}

export function ssmBucketSize(bucket: string, options: { higherThroughput: boolean; share: number }): BucketSize {
  const tps = bucket === 'write' ? (options.higherThroughput ? 10 : 3) : bucket === 'read-by-path' ? 100 : options.higherThroughput ? 10_000 : 40;
  return { capacity: Math.max(1, Math.floor(tps * options.share)), refillPerSecond: tps * options.share };
}
