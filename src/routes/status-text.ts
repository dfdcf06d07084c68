/**
 * `GET /v1/status` for a person at a terminal (`Accept: text/plain`, and what
 * `pairkeeper status` prints): is it ready, when resync last ran, per group its
 * members, pairs per AZ, who waits and what is wrong, and the latest failures. The
 * JSON answer holds the same facts; this is a few lines to read, not to parse.
 */
import type { ControllerStatus } from '../controller/facade.ts';

/** Failures shown at most; the JSON answer has the full list. */
const FAILURES_SHOWN = 5;

export interface StatusHeader {
  version: string;
  uptimeSeconds: number;
}

export function statusText(header: StatusHeader, status: ControllerStatus): string {
  const lines = [
    `pairkeeper ${header.version}, up ${duration(header.uptimeSeconds)}: ${status.ready ? 'ready' : `NOT READY (${status.notReadyReason ?? 'no reason given'})`}`,
    `resync: last ${status.resync.last ? `${status.resync.last.startedAt} (${status.resync.last.durationMs} ms)${status.resync.last.error ? `, failed: ${status.resync.last.error}` : ''}` : 'never'}` +
      `, last success ${status.resync.lastSuccessAt ?? 'never'}`,
    `work: ${status.queueDepth} instance(s) queued, ${status.lifecycleHolds} launch(es) held by a hook, ${status.leftToOtherReplicas} left to other replicas`,
  ];
  if (status.parameterStoreShare !== undefined) lines.push(`claims: ${Math.round(status.parameterStoreShare * 100)}% of the account's Parameter Store rate is this replica's`);
  for (const g of status.groups) {
    lines.push('', `group ${g.name}`);
    lines.push(`  members  ${g.members ? counts(g.members) || 'none' : 'not seen yet'}`);
    if (g.pairs) {
      const zones = Object.entries(g.pairs);
      if (zones.length === 0) lines.push('  pairs    none');
      for (const [zone, byStatus] of zones) lines.push(`  pairs    ${zone}: ${counts(byStatus)}`);
    } else lines.push('  pairs    not seen yet');
    lines.push(`  waiting  ${g.waiting.length === 0 ? 'nobody' : g.waiting.map((w) => `${w.instanceId} (${w.availabilityZone ?? '?'}, since ${w.since})`).join(', ')}`);
    for (const p of g.problems ?? []) lines.push(`  problem  ${p.problem}${p.nodeId ? ` ${p.nodeId}` : ''}${p.instanceId ? ` ${p.instanceId}` : ''}: ${p.detail}`);
    if (g.resyncError) lines.push(`  resync   failed: ${g.resyncError}`);
  }
  lines.push('', status.recentFailures.length === 0 ? 'recent failures: none' : 'recent failures:');
  for (const f of status.recentFailures.slice(0, FAILURES_SHOWN)) {
    lines.push(`  ${f.updatedAt}  ${f.group}  ${f.instanceId}  ${f.status}${f.reason ? `: ${f.reason}` : ''}`);
  }
  if (status.recentFailures.length > FAILURES_SHOWN) lines.push(`  … ${status.recentFailures.length - FAILURES_SHOWN} more in the JSON answer`);
  return `${lines.join('\n')}\n`;
}

function counts(byKey: Record<string, number | undefined>): string {
  return Object.entries(byKey)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}
