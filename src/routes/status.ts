/**
 * `GET /v1/status`: the one summary an operator curls first — the controller's
 * status (readiness, last resync, per group members, pairs, waiting instances and
 * problems, recent failures) with the version and uptime of this process.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ControllerFacade } from '../controller/facade.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function statusRoutes(app: FastifyInstance, controller: Pick<ControllerFacade, 'status'>, startedAt: Date): void {
  app.get('/v1/status', () => {
    const { ready, notReadyReason, ...rest } = controller.status();
    return {
      version: VERSION,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      ready,
      notReadyReason,
      ...rest,
    };
  });
}
