import type { FastifyInstance } from 'fastify';

/** `GET /healthz`: the process is alive and serving. Readiness is a separate question. */
export function healthRoutes(app: FastifyInstance): void {
  app.get('/healthz', () => ({ status: 'ok' }));
}
