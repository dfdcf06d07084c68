/**
 * `GET /v1/status`: the one summary an operator curls first — the controller's
 * status (readiness, last resync, per group members, pairs, waiting instances and
 * problems, recent failures) with the version and uptime of this process. JSON by
 * default; a few readable lines for `Accept: text/plain` (src/routes/status-text.ts),
 * which is also what `pairkeeper status` prints.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ControllerFacade } from '../controller/facade.ts';
import { wantsText } from './send-rows.ts';
import { statusText } from './status-text.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function statusRoutes(app: FastifyInstance, controller: Pick<ControllerFacade, 'status'>, startedAt: Date): void {
  app.get('/v1/status', (request, reply) => {
    const status = controller.status();
    const uptimeSeconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
    if (wantsText(request)) return reply.type('text/plain; charset=utf-8').send(statusText({ version: VERSION, uptimeSeconds }, status));
    const { ready, notReadyReason, ...rest } = status;
    return reply.send({ version: VERSION, startedAt: startedAt.toISOString(), uptimeSeconds, ready, notReadyReason, ...rest });
  });
}
