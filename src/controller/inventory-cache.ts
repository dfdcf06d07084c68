import { pairFilters } from '../domain/filters.ts';
import { buildPairs } from '../domain/inventory.ts';
import type { Pair } from '../domain/pairs.ts';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';

export interface GroupSpec {
  name: string;
  filters: string;
  nodeIdTag: string;
}

/**
 * Each group's pairs, read with two filtered, paginated Describe calls and shared:
 * concurrent readers wait for one refresh, and a result younger than `maxAgeMs`
 * is reused. Staleness is safe here — claims decide who may take a pair, and every
 * attach re-reads the pair's volume and ENI first.
 */
export class InventoryCache {
  private readonly entries = new Map<string, { at: number; pairs: Promise<Pair[]> }>();
  private readonly ec2: Ec2Gateway;
  private readonly maxAgeMs: number;

  constructor(options: { ec2: Ec2Gateway; maxAgeMs: number }) {
    this.ec2 = options.ec2;
    this.maxAgeMs = options.maxAgeMs;
  }

  /** `maxAgeMs`: how old a read (finished or still running) may be to be shared; 0 always reads anew. */
  get(group: GroupSpec, options: { maxAgeMs?: number } = {}): Promise<Pair[]> {
    const entry = this.entries.get(group.name);
    const maxAge = options.maxAgeMs ?? this.maxAgeMs;
    if (entry && performance.now() - entry.at < maxAge) return entry.pairs;
    const pairs = this.read(group);
    const fresh = { at: performance.now(), pairs };
    this.entries.set(group.name, fresh);
    pairs.catch(() => {
      if (this.entries.get(group.name) === fresh) this.entries.delete(group.name);
    });
    return pairs;
  }

  private async read(group: GroupSpec): Promise<Pair[]> {
    const filters = pairFilters(group.filters, group.nodeIdTag);
    const [volumes, enis] = await Promise.all([this.ec2.describeVolumes(filters), this.ec2.describeNetworkInterfaces(filters)]);
    return buildPairs(group.name, group.nodeIdTag, volumes, enis);
  }
}
