import type { FastifyInstance } from 'fastify';

/**
 * `GET /healthz`: the process is alive and serving. `GET /readyz`: it can do its
 * work — config loaded (it would not be serving otherwise), AWS answering and the
 * first resync done; 503 otherwise. The reason is AWS's error text, which names the
 * account, the role and the instance: only the admin listener (`withReason`) tells it.
 */
export function healthRoutes(app: FastifyInstance, readiness: () => { ready: boolean; reason: string | undefined }, options: { withReason: boolean }): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_request, reply) => {
    const { ready, reason } = readiness();
    if (ready) return { status: 'ready' };
    return reply.code(503).send(options.withReason ? { status: 'not ready', reason } : { status: 'not ready' });
  });
}
