/**
 * The counting and token buckets behind the fake's throttling (EC2's, Parameter
 * Store's): every call is counted in its bucket whether throttling is on or not, so a
 * benchmark can compute its bound; `enable` makes the buckets bite, refill sped up by
 * `scale`. Each service decides the bucket of a call, its size, and what a refused
 * call answers.
 */
import { TokenBucket } from './token-bucket.ts';

export interface BucketStats {
  /** AWS's sizes, not scaled: what the real service would allow. */
  capacity: number;
  refillPerSecond: number;
  /** Calls admitted (each took a token when throttling is on). */
  calls: number;
  /** Calls refused. */
  throttled: number;
}

export class MeteredBuckets<S extends BucketStats> {
  private scale: number | undefined;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly counts = new Map<string, S>();
  private readonly now: (() => number) | undefined;

  constructor(now?: () => number) {
    this.now = now;
  }

  get enabled(): boolean {
    return this.scale !== undefined;
  }

  /** Starts throttling with full buckets and fresh counts. */
  enable(scale: number): void {
    this.scale = scale;
    this.buckets.clear();
    this.counts.clear();
  }

  disable(): void {
    this.scale = undefined;
    this.buckets.clear();
  }

  reset(): void {
    this.disable();
    this.counts.clear();
  }

  /** Counts a call in bucket `key` (made by `stats` the first time); false when throttling is on and the bucket is empty. */
  admit(key: string, stats: () => S): boolean {
    let counted = this.counts.get(key);
    if (!counted) {
      counted = stats();
      this.counts.set(key, counted);
    }
    if (this.scale !== undefined) {
      let tokens = this.buckets.get(key);
      if (!tokens) {
        tokens = new TokenBucket(counted.capacity, counted.refillPerSecond * this.scale, this.now);
        this.buckets.set(key, tokens);
      }
      if (!tokens.take()) {
        counted.throttled += 1;
        return false;
      }
    }
    counted.calls += 1;
    return true;
  }

  /** Admitted and refused calls per bucket since the last enable/reset. */
  stats(): Record<string, S> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  /** The least wall time, in seconds at AWS's real rates, in which the buckets would have admitted the calls counted: buckets refill in parallel, so the slowest. */
  minimumSeconds(): number {
    let worst = 0;
    for (const s of this.counts.values()) worst = Math.max(worst, Math.max(0, s.calls - s.capacity) / s.refillPerSecond);
    return worst;
  }
}
