/**
 * What pairkeeper knows of each instance it has seen, for `/v1/instances` and for
 * waking instances that wait for a pair when one is released. Bounded: finished
 * entries (released, gone) are forgotten first.
 */
import { compareCodeUnits } from '../domain/text-order.ts';

/** elsewhere: another replica claimed a pair for it (the same message reached both) and finishes it. */
export type InstanceStatus = 'pairing' | 'preparing' | 'paired' | 'elsewhere' | 'waiting' | 'refused' | 'failed' | 'abandoned' | 'releasing' | 'released' | 'gone';

export interface InstanceRecord {
  instanceId: string;
  group: string;
  availabilityZone: string | undefined;
  status: InstanceStatus;
  nodeId: string | undefined;
  reason: string | undefined;
  updatedAt: string;
}

const FINISHED: ReadonlySet<InstanceStatus> = new Set(['abandoned', 'refused', 'released', 'gone']);

export class InstanceRegistry {
  private readonly records = new Map<string, InstanceRecord>();
  private readonly limit: number;

  constructor(limit = 10_000) {
    this.limit = limit;
  }

  set(instanceId: string, group: string, change: { status: InstanceStatus; availabilityZone?: string; nodeId?: string; reason?: string }): void {
    const previous = this.records.get(instanceId);
    this.records.delete(instanceId); // re-insert: most recently changed last
    this.records.set(instanceId, {
      instanceId,
      group,
      availabilityZone: change.availabilityZone ?? previous?.availabilityZone,
      status: change.status,
      nodeId: change.nodeId ?? (change.status === 'released' ? undefined : previous?.nodeId),
      reason: change.reason,
      updatedAt: new Date().toISOString(),
    });
    this.trim();
  }

  get(instanceId: string): InstanceRecord | undefined {
    return this.records.get(instanceId);
  }

  list(): InstanceRecord[] {
    return [...this.records.values()].sort((a, b) => compareCodeUnits(a.group, b.group) || compareCodeUnits(a.instanceId, b.instanceId));
  }

  waitingIn(group: string, availabilityZone: string): InstanceRecord[] {
    return [...this.records.values()].filter((r) => r.status === 'waiting' && r.group === group && r.availabilityZone === availabilityZone);
  }

  private trim(): void {
    if (this.records.size <= this.limit) return;
    for (const [id, r] of this.records) {
      if (this.records.size <= this.limit) return;
      if (FINISHED.has(r.status)) this.records.delete(id);
    }
    while (this.records.size > this.limit) this.records.delete(this.records.keys().next().value as string);
  }
}
