import { FakeAwsError } from '../errors.ts';
import { MeteredBuckets, type BucketStats } from '../metered-buckets.ts';

export type Ec2BucketCategory = 'describe' | 'describe-unfiltered' | 'mutating' | 'tags';

/** AWS's request-token bucket sizes for the actions the fake serves (capacity, refill per second). */
export const EC2_BUCKET_SIZES: Readonly<Record<Ec2BucketCategory, { capacity: number; refillPerSecond: number }>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  'describe-unfiltered': { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
  tags: { capacity: 100, refillPerSecond: 10 },
};

const CATEGORY: Readonly<Record<string, 'describe' | 'mutating' | 'tags'>> = {
  DescribeVolumes: 'describe',
  DescribeNetworkInterfaces: 'describe',
  DescribeInstances: 'describe',
  DescribeSubnets: 'describe',
  DescribeSecurityGroups: 'describe',
  CreateVolume: 'mutating',
  CreateNetworkInterface: 'mutating',
  AttachVolume: 'mutating',
  AttachNetworkInterface: 'mutating',
  DetachNetworkInterface: 'mutating',
  ModifyNetworkInterfaceAttribute: 'mutating',
  CreateTags: 'tags',
  DeleteTags: 'tags',
};

/**
 * `action`: every API has its own bucket of its category's size, as AWS's current
 * throttling page says ("each API is evaluated individually"). `category`: one bucket
 * per category shared by its APIs, as the older page described — the stricter model.
 */
export type Ec2ThrottleScope = 'action' | 'category';

export interface Ec2BucketStats extends BucketStats {
  category: Ec2BucketCategory;
}

/**
 * EC2's per-account, per-region request throttling. Calls are always counted per
 * bucket, so a benchmark run without throttling can still ask how long AWS would
 * have needed at least (`minimumSeconds`); `enable` makes the buckets bite, with
 * refill sped up by `scale` so a benchmark keeps AWS's shape at a faster pace.
 */
export class Ec2Throttling {
  private scope: Ec2ThrottleScope = 'action';
  private readonly meter: MeteredBuckets<Ec2BucketStats>;

  constructor(options: { now?: () => number } = {}) {
    this.meter = new MeteredBuckets(options.now);
  }

  get enabled(): boolean {
    return this.meter.enabled;
  }

  /** Starts throttling with full buckets and fresh counts. */
  enable(options: { scale?: number; scope?: Ec2ThrottleScope } = {}): void {
    this.scope = options.scope ?? 'action';
    this.meter.enable(options.scale ?? 1);
  }

  disable(): void {
    this.meter.disable();
  }

  reset(): void {
    this.meter.reset();
    this.scope = 'action';
  }

  /**
   * The bucket a call draws from. A Describe* call with no filter, no ids and no
   * pagination lists everything, which AWS meters in the smaller unfiltered bucket.
   */
  bucketFor(action: string, params: URLSearchParams): { key: string; category: Ec2BucketCategory } | undefined {
    const base = CATEGORY[action];
    if (!base) return undefined;
    const unfiltered = base === 'describe' && ![...params.keys()].some((k) => /^(Filter\.|MaxResults$|NextToken$|\w+Id\.\d)/.test(k));
    const category = unfiltered ? 'describe-unfiltered' : base;
    const key = this.scope === 'category' ? category : unfiltered ? `${action} (unfiltered)` : action;
    return { key, category };
  }

  /** Counts the call and, when throttling is on, takes a token or answers RequestLimitExceeded (503). */
  take(action: string, params: URLSearchParams): void {
    const bucket = this.bucketFor(action, params);
    if (!bucket) return;
    const size = EC2_BUCKET_SIZES[bucket.category];
    if (!this.meter.admit(bucket.key, () => ({ category: bucket.category, ...size, calls: 0, throttled: 0 }))) {
      throw new FakeAwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    }
  }

  /** Admitted and throttled calls per bucket key since the last enable/reset. */
  stats(): Record<string, Ec2BucketStats> {
    return this.meter.stats();
  }

  /**
   * The least wall time, in seconds at AWS's real rates, in which AWS's buckets would
   * have admitted the calls counted: buckets refill in parallel, so the slowest one.
   */
  minimumSeconds(): number {
    return this.meter.minimumSeconds();
  }
}
