/**
 * Each group's pairs, read with two filtered, paginated Describe calls and shared
 * (see SharedRead). Staleness is safe here: claims decide who may take a pair, every
 * attach re-reads the ENI, and AttachVolume itself refuses a volume in use.
 */
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import type { GroupConfig } from '../config/schema.ts';
import { pairFilters } from '../domain/filters.ts';
import { buildPairs } from '../domain/inventory.ts';
import type { Pair } from '../domain/pairs.ts';
import { SharedRead } from './shared-read.ts';

/** What a group's pairs are read by. */
type GroupSpec = Pick<GroupConfig, 'name' | 'filters' | 'nodeIdTag'>;

export class InventoryCache {
  private readonly reads = new SharedRead<Pair[]>();
  private readonly ec2: Ec2Gateway;
  private readonly maxAgeMs: number;

  constructor(options: { ec2: Ec2Gateway; maxAgeMs: number }) {
    this.ec2 = options.ec2;
    this.maxAgeMs = options.maxAgeMs;
  }

  /** `maxAgeMs`: how old a read (finished or still running) may be to be shared; 0 always reads anew. */
  get(group: GroupSpec, options: { maxAgeMs?: number } = {}): Promise<Pair[]> {
    return this.reads.get(group.name, options.maxAgeMs ?? this.maxAgeMs, () => this.read(group));
  }

  /** After a pair was freed: the instances woken for it must not look at a read from before. */
  forget(group: string): void {
    this.reads.forget(group);
  }

  private async read(group: GroupSpec): Promise<Pair[]> {
    const filters = pairFilters(group.filters, group.nodeIdTag);
    const [volumes, enis] = await Promise.all([this.ec2.describeVolumes(filters), this.ec2.describeNetworkInterfaces(filters)]);
    return buildPairs(group.name, group.nodeIdTag, volumes, enis);
  }
}
