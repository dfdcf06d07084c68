import type { FastifyInstance } from 'fastify';
import type { RecentEvents } from '../events/recent-events.ts';
import type { Metrics } from '../metrics.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { SubscriptionLog } from '../sns/subscriptions.ts';

/**
 * Read-only routes for operators, on the admin listener (loopback by default):
 * `/v1/events` lists the SNS messages handled, those refused unauthenticated, and the
 * notification deliveries tried.
 */
export function adminRoutes(
  app: FastifyInstance,
  deps: { recentEvents: RecentEvents; subscriptions: SubscriptionLog; metrics: Metrics; notifier: Notifier },
): void {
  app.get<{ Querystring: { instance?: string; limit?: string } }>('/v1/events', (request) => {
    const limit = request.query.limit === undefined ? undefined : Math.max(1, Number.parseInt(request.query.limit, 10) || 1);
    const instance = request.query.instance;
    // Newest first, like the events; each record is one delivery attempt of a notification.
    const notifications = deps.notifier
      .deliveries()
      .filter((d) => !instance || d.instanceId === instance)
      .reverse()
      .slice(0, limit);
    return {
      events: deps.recentEvents.list({
        ...(instance ? { instanceId: instance } : {}),
        ...(limit === undefined ? {} : { limit }),
      }),
      // Refused before their signature verified: listed apart, so junk never pushes out a genuine event.
      refused: deps.recentEvents.refused(limit),
      notifications,
      notificationQueue: deps.notifier.stats(),
    };
  });
  app.get('/v1/subscriptions', () => ({ subscriptions: deps.subscriptions.list() }));
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
