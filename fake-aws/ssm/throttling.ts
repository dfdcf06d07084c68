/**
 * Parameter Store's per-account, per-region throttling, shaped like the EC2 fake's:
 * calls are always counted per bucket, and `enable` makes the buckets bite (refill sped
 * up by `scale`) with the `ThrottlingException` (HTTP 400, "Rate exceeded") real SSM
 * answers on its JSON 1.1 protocol.
 *
 * The buckets, as AWS documents and reports them:
 * - reads: GetParameter, GetParameters and GetParametersByPath share 40 TPS at standard
 *   throughput; with higher throughput GetParameter/GetParameters get 10,000 and
 *   GetParametersByPath 100, each on its own (AWS's Systems Manager quotas page);
 * - writes: PutParameter and DeleteParameter about 3 TPS at standard throughput, about
 *   10 with higher throughput (not in the docs; what AWS support tells throttled users).
 * Burst capacity is one second's worth: AWS publishes no larger one.
 */
import { FakeAwsError } from '../errors.ts';
import { MeteredBuckets, type BucketStats } from '../metered-buckets.ts';

export type SsmBucket = 'read' | 'read-by-path' | 'write';

const BUCKET_OF: Readonly<Record<string, SsmBucket>> = {
  GetParameter: 'read',
  GetParameters: 'read',
  GetParametersByPath: 'read-by-path',
  PutParameter: 'write',
  DeleteParameter: 'write',
};

/** Transactions per second of each bucket; at standard throughput both reads share one bucket. */
const TPS: Readonly<Record<'standard' | 'higher', Record<SsmBucket, number>>> = {
  standard: { read: 40, 'read-by-path': 40, write: 3 },
  higher: { read: 10_000, 'read-by-path': 100, write: 10 },
};

export type SsmBucketStats = BucketStats;

export class SsmThrottling {
  private throughput: 'standard' | 'higher' = 'standard';
  private readonly meter: MeteredBuckets<SsmBucketStats>;

  constructor(options: { now?: () => number } = {}) {
    this.meter = new MeteredBuckets(options.now);
  }

  get enabled(): boolean {
    return this.meter.enabled;
  }

  /** Starts throttling with full buckets and fresh counts; `higherThroughput` is the account's Parameter Store setting. */
  enable(options: { scale?: number; higherThroughput?: boolean } = {}): void {
    this.throughput = options.higherThroughput ? 'higher' : 'standard';
    this.meter.enable(options.scale ?? 1);
  }

  disable(): void {
    this.meter.disable();
  }

  reset(): void {
    this.meter.reset();
    this.throughput = 'standard';
  }

  /** Counts a Parameter Store call and, when throttling is on, takes a token or answers ThrottlingException. */
  take(action: string): void {
    const bucket = BUCKET_OF[action];
    if (!bucket) return;
    // At standard throughput every read draws from the one shared bucket.
    const key = bucket === 'read-by-path' && this.throughput === 'standard' ? 'read' : bucket;
    const tps = TPS[this.throughput][key];
    if (!this.meter.admit(key, () => ({ refillPerSecond: tps, capacity: tps, calls: 0, throttled: 0 }))) {
      throw new FakeAwsError('ThrottlingException', 'Rate exceeded', 400);
    }
  }

  /** Admitted and throttled calls per bucket (`read`, `read-by-path`, `write`) since the last enable/reset. */
  stats(): Record<string, SsmBucketStats> {
    return this.meter.stats();
  }

  /** The least wall time, in seconds at AWS's real rates, in which Parameter Store would have admitted the calls counted. */
  minimumSeconds(): number {
    return this.meter.minimumSeconds();
  }
}
