import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { PairingService } from '../pairing-service.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Failures and abandoned launches listed at most, newest first. */
const RECENT_FAILURES = 20;

/**
 * `GET /v1/status`: the one summary an operator curls first — is it ready and why
 * not, when resync last ran and what it saw per group (members by lifecycle state,
 * pairs by AZ and status, problems for a person), who waits for a pair, and what
 * failed lately.
 */
export function statusRoutes(app: FastifyInstance, service: PairingService, startedAt: Date): void {
  app.get('/v1/status', () => {
    const { ready, reason } = service.resync.readiness();
    const { last, lastGood } = service.resync.runs();
    const instances = service.registry.list();
    return {
      version: VERSION,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      ready,
      notReadyReason: reason,
      resync: {
        last: last && { startedAt: last.startedAt, durationMs: last.durationMs, error: last.error, actions: last.actions },
        lastSuccessAt: lastGood?.finishedAt,
      },
      queueDepth: service.queue.depth,
      lifecycleHolds: service.holds.size,
      groups: service.groups.map((g) => {
        const seen = lastGood?.groups.find((s) => s.group === g.name);
        return {
          name: g.name,
          members: seen?.members,
          pairs: seen?.pairs,
          waiting: instances.filter((r) => r.group === g.name && r.status === 'waiting').map((r) => ({ instanceId: r.instanceId, availabilityZone: r.availabilityZone, since: r.updatedAt })),
          problems: lastGood?.reports.filter((r) => r.group === g.name).map(({ group: _group, ...r }) => r),
        };
      }),
      recentFailures: instances
        .filter((r) => r.status === 'failed' || r.status === 'abandoned')
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, RECENT_FAILURES),
    };
  });
}
