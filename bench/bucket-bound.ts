import { EC2_BUCKET_SIZES, Ec2Throttling, type Ec2BucketCategory, type Ec2ThrottleScope } from '../fake-aws/ec2/throttling.ts';

/**
 * The least wall time AWS's EC2 request-token buckets allow for a set of calls: the
 * floor any burst strategy sits on, so a benchmark can print "wall time vs the bound".
 * Bucket sizes and the action → bucket mapping come from the fake (`EC2_BUCKET_SIZES`,
 * `Ec2Throttling.bucketFor`), so the bound and the throttling it is compared with
 * cannot drift apart.
 */

export interface BucketBoundOptions {
  /**
   * The fake's throttling `scale`: refill runs `scale` times faster, capacity is not
   * scaled (see `Ec2Throttling.enable` and `TokenBucket`). Default 1: AWS's real rates.
   */
  scale?: number;
  /** `action` (default, as the fake and AWS today): a bucket per API. `category`: one per category. */
  scope?: Ec2ThrottleScope;
}

export interface BucketLoad {
  /** The bucket's key as `Ec2Throttling.stats()` names it: an action, `X (unfiltered)`, or a category. */
  key: string;
  category: Ec2BucketCategory;
  calls: number;
  capacity: number;
  refillPerSecond: number;
  /** (calls − capacity) / (refill × scale), at least 0. */
  seconds: number;
}

export interface BucketBound {
  seconds: number;
  /** The bucket that sets the bound (undefined when no call goes beyond a capacity). */
  binding: string | undefined;
  /** Every metered bucket the calls draw from, slowest first. */
  buckets: BucketLoad[];
  /** Actions given that no EC2 bucket meters (e.g. not EC2 calls). */
  unmetered: string[];
}

const UNFILTERED = ' (unfiltered)';

/**
 * `calls`: how many calls of each EC2 action must be admitted, keyed by action name
 * (`AttachVolume`, `DescribeVolumes`…); a Describe* that lists everything (no filter,
 * id or paging) is keyed `DescribeVolumes (unfiltered)`, as `Ec2Throttling.stats()`
 * keys it, so that object's admitted `calls` can be passed back in as they are.
 */
export function bucketBound(calls: Readonly<Record<string, number>>, options: BucketBoundOptions = {}): BucketBound {
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new Error(`scale must be > 0, got ${scale}`);
  // A throwaway instance, only for its mapping; enabling it sets the scope it keys by.
  const mapping = new Ec2Throttling();
  mapping.enable({ scope: options.scope ?? 'action' });
  const filtered = new URLSearchParams({ 'Filter.1.Name': 'tag-key', 'Filter.1.Value.1': 'x' });
  const listAll = new URLSearchParams();

  const loads = new Map<string, BucketLoad>();
  const unmetered: string[] = [];
  for (const [name, n] of Object.entries(calls)) {
    if (!Number.isFinite(n) || n < 0) throw new Error(`calls of ${name} must be a count, got ${n}`);
    const unfiltered = name.endsWith(UNFILTERED);
    const action = unfiltered ? name.slice(0, -UNFILTERED.length) : name;
    const bucket = mapping.bucketFor(action, unfiltered ? listAll : filtered);
    if (!bucket) {
      unmetered.push(name);
      continue;
    }
    const size = EC2_BUCKET_SIZES[bucket.category];
    let load = loads.get(bucket.key);
    if (!load) {
      load = { key: bucket.key, category: bucket.category, calls: 0, capacity: size.capacity, refillPerSecond: size.refillPerSecond, seconds: 0 };
      loads.set(bucket.key, load);
    }
    load.calls += n;
  }

  const buckets = [...loads.values()];
  for (const b of buckets) b.seconds = Math.max(0, b.calls - b.capacity) / (b.refillPerSecond * scale);
  buckets.sort((a, b) => b.seconds - a.seconds || b.calls - a.calls);
  const slowest = buckets[0];
  return {
    seconds: slowest?.seconds ?? 0,
    binding: slowest && slowest.seconds > 0 ? slowest.key : undefined,
    buckets,
    unmetered,
  };
}

/** The bound in seconds: the slowest bucket, since buckets refill in parallel. */
export function bucketBoundSeconds(calls: Readonly<Record<string, number>>, options: BucketBoundOptions = {}): number {
  return bucketBound(calls, options).seconds;
}

/**
 * The scale at which the bound of `calls` is `seconds`: for a benchmark that wants its
 * bound at a given length whatever the instance count. 0 when the calls fit in the
 * buckets' capacities (no scale is needed; don't pass 0 to `enable`).
 */
export function scaleForBound(calls: Readonly<Record<string, number>>, seconds: number, options: Omit<BucketBoundOptions, 'scale'> = {}): number {
  if (!(seconds > 0)) throw new Error(`seconds must be > 0, got ${seconds}`);
  return bucketBoundSeconds(calls, { ...options, scale: 1 }) / seconds;
}
