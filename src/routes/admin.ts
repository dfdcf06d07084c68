/**
 * Read-only routes for operators, on the admin listener (loopback by default):
 * `/v1/events` lists the SNS messages handled, those refused unauthenticated, and the
 * notification deliveries tried; `/v1/subscriptions` the subscription confirmations,
 * `/metrics` the Prometheus text. The routes see only these read functions; the app
 * wires them.
 */
import type { FastifyInstance } from 'fastify';

export interface AdminSources {
  /** Messages handled, newest first, optionally of one instance and at most `limit`. */
  events(filter: { instanceId?: string; limit?: number }): unknown[];
  /** Messages refused before their signature verified, newest first. */
  refused(limit: number | undefined): unknown[];
  /** Notification delivery attempts, oldest first. */
  deliveries(): { instanceId?: string | undefined }[];
  notificationQueue(): unknown;
  subscriptions(): unknown[];
  metrics(): Promise<{ contentType: string; text: string }>;
}

export function adminRoutes(app: FastifyInstance, sources: AdminSources): void {
  app.get<{ Querystring: { instance?: string; limit?: string } }>('/v1/events', (request) => {
    const limit = request.query.limit === undefined ? undefined : Math.max(1, Number.parseInt(request.query.limit, 10) || 1);
    const instance = request.query.instance;
    // Newest first, like the events; each record is one delivery attempt of a notification.
    const notifications = sources
      .deliveries()
      .filter((d) => !instance || d.instanceId === instance)
      .reverse()
      .slice(0, limit);
    return {
      events: sources.events({ ...(instance ? { instanceId: instance } : {}), ...(limit === undefined ? {} : { limit }) }),
      // Refused before their signature verified: listed apart, so junk never pushes out a genuine event.
      refused: sources.refused(limit),
      notifications,
      notificationQueue: sources.notificationQueue(),
    };
  });
  app.get('/v1/subscriptions', () => ({ subscriptions: sources.subscriptions() }));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await sources.metrics();
    return reply.type(contentType).send(text);
  });
}
