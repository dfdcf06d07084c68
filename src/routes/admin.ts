import type { FastifyInstance } from 'fastify';
import type { RecentEvents } from '../events/recent-events.ts';
import type { Metrics } from '../metrics.ts';
import type { SubscriptionLog } from '../sns/subscriptions.ts';

/** Read-only routes for operators, on the admin listener (loopback by default). */
export function adminRoutes(
  app: FastifyInstance,
  deps: { recentEvents: RecentEvents; subscriptions: SubscriptionLog; metrics: Metrics },
): void {
  app.get<{ Querystring: { instance?: string; limit?: string } }>('/v1/events', (request) => {
    const limit = request.query.limit === undefined ? undefined : Math.max(1, Number.parseInt(request.query.limit, 10) || 1);
    return {
      events: deps.recentEvents.list({
        ...(request.query.instance ? { instanceId: request.query.instance } : {}),
        ...(limit === undefined ? {} : { limit }),
      }),
    };
  });
  app.get('/v1/subscriptions', () => ({ subscriptions: deps.subscriptions.list() }));
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
