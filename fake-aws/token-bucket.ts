/**
 * A token bucket as AWS describes its API throttling: `capacity` tokens, refilled at
 * `refillPerSecond`, one token per call. `scale` multiplies the refill rate so
 * benchmarks can run AWS's shape at a faster pace.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(capacity: number, refillPerSecond: number, now: () => number = () => performance.now()) {
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.tokens = capacity;
    this.now = now;
    this.last = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.refillPerSecond);
    this.last = t;
  }
}
