import type { FastifyInstance } from 'fastify';

/**
 * `GET /healthz`: the process is alive and serving. `GET /readyz`: it can do its
 * work — config loaded (it would not be serving otherwise), AWS answering and the
 * first resync done; 503 with the reason otherwise.
 */
export function healthRoutes(app: FastifyInstance, readiness: () => { ready: boolean; reason: string | undefined }): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_request, reply) => {
    const { ready, reason } = readiness();
    return ready ? { status: 'ready' } : reply.code(503).send({ status: 'not ready', reason });
  });
}
