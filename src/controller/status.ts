/**
 * What `GET /v1/status` says of the controller: is it ready and why not, when
 * resync last ran and what it saw per group (members by lifecycle state, pairs by
 * AZ and status, problems for a person), who waits for a pair, and what failed
 * lately.
 */
import type { GroupConfig } from '../config/schema.ts';
import type { ResyncReport } from '../domain/resync-plan.ts';
import { compareCodeUnits } from '../domain/text-order.ts';
import type { InstanceRecord, InstanceRegistry } from './instance-registry.ts';
import type { GroupSummary, Resync, ResyncRun } from './resync.ts';

/** Failures and abandoned launches listed at most, newest first. */
const RECENT_FAILURES = 20;

export interface Readiness {
  ready: boolean;
  reason: string | undefined;
}

export interface ControllerStatus {
  ready: boolean;
  notReadyReason: string | undefined;
  resync: {
    last: Pick<ResyncRun, 'startedAt' | 'durationMs' | 'error' | 'actions'> | undefined;
    lastSuccessAt: string | undefined;
  };
  queueDepth: number;
  lifecycleHolds: number;
  /** Instances whose message work this replica left to their owner among the replicas, and will check on. */
  leftToOtherReplicas: number;
  /** This replica's part of the account's Parameter Store buckets now (0–1; undefined with the file store). */
  parameterStoreShare: number | undefined;
  groups: {
    name: string;
    members: GroupSummary['members'] | undefined;
    pairs: GroupSummary['pairs'] | undefined;
    waiting: { instanceId: string; availabilityZone: string | undefined; since: string }[];
    problems: ResyncReport[] | undefined;
    /** Why the latest resync of this group failed (the other groups went on). */
    resyncError: string | undefined;
  }[];
  recentFailures: InstanceRecord[];
}

export function describeStatus(from: {
  resync: Resync;
  registry: InstanceRegistry;
  groups: GroupConfig[];
  queueDepth: number;
  lifecycleHolds: number;
  leftToOtherReplicas: number;
  parameterStoreShare: number | undefined;
}): ControllerStatus {
  const { ready, reason } = from.resync.readiness();
  const { last, lastGood } = from.resync.runs();
  const instances = from.registry.list();
  return {
    ready,
    notReadyReason: reason,
    resync: {
      last: last && { startedAt: last.startedAt, durationMs: last.durationMs, error: last.error, actions: last.actions },
      lastSuccessAt: lastGood?.finishedAt,
    },
    queueDepth: from.queueDepth,
    lifecycleHolds: from.lifecycleHolds,
    leftToOtherReplicas: from.leftToOtherReplicas,
    parameterStoreShare: from.parameterStoreShare,
    groups: from.groups.map((g) => {
      const seen = lastGood?.groups.find((s) => s.group === g.name);
      return {
        name: g.name,
        members: seen?.members,
        pairs: seen?.pairs,
        waiting: instances
          .filter((r) => r.group === g.name && r.status === 'waiting')
          .map((r) => ({ instanceId: r.instanceId, availabilityZone: r.availabilityZone, since: r.updatedAt })),
        problems: lastGood?.reports.filter((r) => r.group === g.name).map(({ group: _group, ...r }) => r),
        resyncError: last?.failedGroups.find((f) => f.group === g.name)?.error,
      };
    }),
    recentFailures: instances
      .filter((r) => r.status === 'failed' || r.status === 'abandoned')
      .sort((a, b) => compareCodeUnits(b.updatedAt, a.updatedAt))
      .slice(0, RECENT_FAILURES),
  };
}
