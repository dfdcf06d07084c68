/**
 * pairkeeper's Prometheus metrics, on a registry of their own per app (tests build
 * many). Gauges that mirror live state (queue depth, instances by status) are read
 * at scrape time through `observe`; pair counts are as of the last resync, so a
 * scrape never calls AWS.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pairkeeper_' });
  const registers = [registry];
  const live = { queueDepth: () => 0, instances: (): Record<string, number> => ({}) };
  return {
    registry,
    /** Where the live gauges read from; set once the pairing service exists. */
    observe(sources: { queueDepth: () => number; instances: () => Record<string, number> }): void {
      Object.assign(live, sources);
    },
    snsMessages: new Counter({
      name: 'pairkeeper_sns_messages_total',
      help: 'SNS deliveries by message type and outcome (accepted, duplicate, ignored, rejected, failed).',
      labelNames: ['type', 'outcome'] as const,
      registers,
    }),
    snsRejections: new Counter({
      name: 'pairkeeper_sns_rejections_total',
      help: 'SNS deliveries refused, by reason (bad_signature, stale, topic_not_allowed, …).',
      labelNames: ['reason'] as const,
      registers,
    }),
    snsShed: new Counter({
      name: 'pairkeeper_sns_shed_total',
      help: 'SNS deliveries answered 503 before any work because the process was overloaded (SNS retries them).',
      labelNames: ['reason'] as const,
      registers,
    }),
    autoScalingEvents: new Counter({
      name: 'pairkeeper_autoscaling_events_total',
      help: 'Auto Scaling events received, by kind (launch, terminate, lifecycle-launching, test, unknown, …).',
      labelNames: ['kind'] as const,
      registers,
    }),
    queueMessages: new Counter({
      name: 'pairkeeper_queue_messages_total',
      help: 'SQS intake messages by body format (sns-envelope, raw, eventbridge, unknown) and outcome (accepted, ignored, poison, failed).',
      labelNames: ['format', 'outcome'] as const,
      registers,
    }),
    queuePoisonMessages: new Counter({
      name: 'pairkeeper_queue_poison_messages_total',
      help: 'SQS intake messages that can never become an event (left for the redrive policy), by error code.',
      labelNames: ['code'] as const,
      registers,
    }),
    queueReceiveErrors: new Counter({
      name: 'pairkeeper_queue_receive_errors_total',
      help: 'SQS ReceiveMessage calls that failed (the intake backs off).',
      registers,
    }),
    awsCalls: new Counter({
      name: 'pairkeeper_aws_calls_total',
      help: 'AWS API calls by service, action and outcome (ok, throttled, error); each retry counts.',
      labelNames: ['service', 'action', 'outcome'] as const,
      registers,
    }),
    attachDuration: new Histogram({
      name: 'pairkeeper_attach_duration_seconds',
      help: 'From the first attach call to a whole pair (volume and ENI attached), by group.',
      labelNames: ['group'] as const,
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    pairings: new Counter({
      name: 'pairkeeper_pairings_total',
      help: 'Pairing work finished, by group and outcome (paired; unchanged: already whole; waiting, gone, released, adopted, failed).',
      labelNames: ['group', 'outcome'] as const,
      registers,
    }),
    lifecycleActions: new Counter({
      name: 'pairkeeper_lifecycle_actions_total',
      help: 'Lifecycle actions completed, by group, result (CONTINUE, ABANDON) and answer (done; gone: it had already ended).',
      labelNames: ['group', 'result', 'answer'] as const,
      registers,
    }),
    notifications: new Counter({
      name: 'pairkeeper_notifications_total',
      help: 'Notification deliveries by kind (webhook, command), event type and outcome (delivered, failed, gave-up, dropped).',
      labelNames: ['kind', 'type', 'outcome'] as const,
      registers,
    }),
    pairs: new Gauge({
      name: 'pairkeeper_pairs',
      help: 'Pairs by group, AZ and status (free, claimed, attached, incomplete, broken), as of the last resync.',
      labelNames: ['group', 'availability_zone', 'status'] as const,
      registers,
    }),
    resyncs: new Counter({
      name: 'pairkeeper_resyncs_total',
      help: 'Resync runs, by outcome (ok, failed).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    resyncProblems: new Gauge({
      name: 'pairkeeper_resync_problems',
      help: 'What the last resync reported for a person to fix, by group and problem (split-pair, two-pairs, …).',
      labelNames: ['group', 'problem'] as const,
      registers,
    }),
    lastResync: new Gauge({
      name: 'pairkeeper_last_successful_resync_timestamp_seconds',
      help: 'When the last successful resync finished (Unix time).',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'pairkeeper_queue_depth',
      help: 'Instances with work queued or running.',
      registers,
      collect() {
        this.set(live.queueDepth());
      },
    }),
    instances: new Gauge({
      name: 'pairkeeper_instances',
      help: 'Instances this replica knows of, by status (pairing, paired, waiting, failed, abandoned, …).',
      labelNames: ['status'] as const,
      registers,
      collect() {
        this.reset();
        for (const [status, count] of Object.entries(live.instances())) this.set({ status }, count);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
