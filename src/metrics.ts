import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** pairkeeper's Prometheus metrics, on a registry of their own per app (tests build many). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pairkeeper_' });
  return {
    registry,
    snsMessages: new Counter({
      name: 'pairkeeper_sns_messages_total',
      help: 'SNS deliveries by message type and outcome (accepted, duplicate, ignored, rejected, failed).',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    snsRejections: new Counter({
      name: 'pairkeeper_sns_rejections_total',
      help: 'SNS deliveries refused, by reason (bad_signature, stale, topic_not_allowed, …).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    autoScalingEvents: new Counter({
      name: 'pairkeeper_autoscaling_events_total',
      help: 'Auto Scaling events received, by kind (launch, terminate, test, unknown, …).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
