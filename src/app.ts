import { readFileSync } from 'node:fs';
import underPressure from '@fastify/under-pressure';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { countAwsCalls } from './aws/call-metrics.ts';
import { countBy } from './count-by.ts';
import type { Config } from './config/schema.ts';
import { ConfigError } from './errors.ts';
import { RecentEvents } from './events/recent-events.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { NotifyEvent } from './notify/events.ts';
import { FactsFile } from './notify/facts.ts';
import { FactsPublisher } from './notify/facts-publisher.ts';
import { Notifier } from './notify/notifier.ts';
import { createPairingService, type AwsClients, type PairingHooks, type PairingService } from './pairing-service.ts';
import { requireAdminHost, requireBearerToken } from './routes/admin-auth.ts';
import { adminRoutes } from './routes/admin.ts';
import { pairRoutes } from './routes/pairs.ts';
import { healthRoutes } from './routes/health.ts';
import { SNS_BODY_LIMIT, snsRoutes } from './routes/sns.ts';
import { statusRoutes } from './routes/status.ts';
import { factsRoutes } from './routes/facts.ts';
import { CertificateCache } from './sns/certificate-cache.ts';
import { SnsIngress, type EventSink } from './sns/ingress.ts';
import { SubscriptionLog } from './sns/subscriptions.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clients: AwsClients;
  /** Where accepted events go; the pairing controller unless a test wants to look at the events alone. */
  sink?: EventSink;
  now?: () => number;
}

export interface App {
  /** `POST /sns`, `GET /healthz`: what SNS reaches. */
  publicApp: FastifyInstance;
  /** Ops routes: loopback by default. */
  adminApp: FastifyInstance;
  metrics: Metrics;
  pairing: PairingService;
  notifier: Notifier;
  facts: FactsPublisher;
  recentEvents: RecentEvents;
  certificates: CertificateCache;
  close(): Promise<void>;
}

/** Builds both listeners' apps without listening; only server.ts listens. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, logger } = deps;
  const metrics = createMetrics();
  const recentEvents = new RecentEvents();
  const subscriptions = new SubscriptionLog();
  const https = config.listen.tls ? readTls(config.listen.tls) : undefined;
  countAwsCalls(deps.clients, (service, action, outcome) => metrics.awsCalls.inc({ service, action, outcome }));
  const notifier = new Notifier({
    config: config.notify,
    logger,
    onDelivery: (r) => metrics.notifications.inc({ kind: r.kind, type: r.type, outcome: r.outcome }),
  });
  // Nothing is told before resync.start() below, so `facts` exists by the first event.
  const notify = (event: NotifyEvent) => {
    notifier.emit(event);
    if (event.type === 'pair.attached' || event.type === 'pair.released') facts.refresh({ fresh: true });
  };
  const hooks = metricHooks(metrics);
  const pairing = createPairingService(config, deps.clients, logger, {
    ...hooks,
    notify,
    onResync: (run) => {
      hooks.onResync?.(run);
      // Resync has just read the pairs: share that read.
      if (!run.error) facts.refresh({ fresh: false });
    },
  });
  const facts = new FactsPublisher({ service: pairing, file: config.notify.factsFile ? new FactsFile(config.notify.factsFile) : undefined, logger });
  metrics.observe({ queueDepth: () => pairing.queue.depth, instances: () => countBy(pairing.registry.list().map((r) => r.status)) });
  const readiness = () => pairing.resync.readiness();
  const certificates = new CertificateCache({ timeoutMs: config.sns.certFetchTimeoutMs, maxEntries: config.sns.certCacheSize });
  const ingress = new SnsIngress({
    config: config.sns,
    certificates,
    sink: deps.sink ?? pairing.controller,
    logger,
    metrics,
    recentEvents,
    subscriptions,
    ...(deps.now ? { now: deps.now } : {}),
  });

  const publicLogger: FastifyBaseLogger = logger.child({ listener: 'public' });
  const adminLogger: FastifyBaseLogger = logger.child({ listener: 'admin' });
  const publicApp = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: publicLogger,
    // The ingress logs one line per message; per-request lines would double that.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request: the ingress logs with the SNS MessageId, which is
    // what an operator greps for, and a child per request costs more than the line.
    childLoggerFactory: (logger) => logger,
    bodyLimit: SNS_BODY_LIMIT,
    // SNS gives up after 15 s; a client slower than that is not SNS.
    requestTimeout: 15_000,
    return503OnClosing: true,
  });
  shapeErrors(publicApp);
  healthRoutes(publicApp, readiness, { withReason: false });
  await publicApp.register(async (scope) => {
    // Overloaded (the event loop lagging): answer 503 before any work, and SNS retries later.
    if (config.listen.maxEventLoopDelayMs > 0) {
      await scope.register(underPressure, {
        maxEventLoopDelay: config.listen.maxEventLoopDelayMs,
        sampleInterval: 100,
        retryAfter: 20,
        pressureHandler: (request, reply, type, value) => {
          metrics.snsShed.inc({ reason: type });
          request.log.warn({ code: 'PK_OVERLOADED', type, value }, 'overloaded: answering 503 so SNS retries later');
          void reply.code(503).header('retry-after', '20').send({ code: 'PK_OVERLOADED', message: `overloaded (${type}); retry later` });
        },
      });
    }
    snsRoutes(scope, ingress);
  });

  const adminApp = Fastify({ loggerInstance: adminLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  shapeErrors(adminApp);
  requireAdminHost(adminApp, config.admin.host);
  if (config.admin.token) requireBearerToken(adminApp, config.admin.token);
  healthRoutes(adminApp, readiness, { withReason: true });
  adminRoutes(adminApp, { recentEvents, subscriptions, metrics, notifier });
  pairRoutes(adminApp, pairing);
  statusRoutes(adminApp, pairing, new Date());
  factsRoutes(adminApp, facts);

  await Promise.all([publicApp.ready(), adminApp.ready()]);
  pairing.resync.start();
  return {
    publicApp,
    adminApp,
    metrics,
    pairing,
    notifier,
    facts,
    recentEvents,
    certificates,
    close: async () => {
      // Stop taking messages, then let the work already accepted finish.
      await Promise.all([publicApp.close(), adminApp.close()]);
      pairing.resync.close();
      pairing.controller.close();
      await pairing.queue.idle();
      await facts.idle();
      await notifier.close();
    },
  };
}

/** The public listener's certificate and key, read once at start-up; a bad path stops it there. */
function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`listen.tls.${what}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: read('cert', tls.cert), key: read('key', tls.key) };
}

/** Every error answer is short JSON with a code; bodies too large are 413 (SNS won't retry them). */
function shapeErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      request.log.warn({ code: 'PK_SNS_BODY_TOO_LARGE' }, 'request body too large');
      return reply.code(413).send({ code: 'PK_SNS_BODY_TOO_LARGE', message: `body is larger than ${SNS_BODY_LIMIT} bytes` });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ code: error.code ?? 'PK_INTERNAL', message: status >= 500 ? 'internal error' : error.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'PK_NOT_FOUND', message: `no route ${request.method} ${request.url}` }),
  );
}

/** The pairing service's reports, turned into metrics. */
function metricHooks(metrics: Metrics): PairingHooks {
  return {
    onAttached: (group, seconds) => metrics.attachDuration.observe({ group }, seconds),
    onOutcome: (group, outcome) => metrics.pairings.inc({ group, outcome }),
    onLifecycleComplete: ({ group, result, answer }) => metrics.lifecycleActions.inc({ group, result, answer }),
    onResync: (run) => {
      metrics.resyncs.inc({ outcome: run.error ? 'failed' : 'ok' });
      if (run.error) return;
      metrics.lastResync.set(Date.parse(run.finishedAt) / 1000);
      metrics.pairs.reset();
      for (const g of run.groups) {
        for (const [az, statuses] of Object.entries(g.pairs)) {
          for (const [status, count] of Object.entries(statuses)) metrics.pairs.set({ group: g.group, availability_zone: az, status }, count);
        }
      }
      metrics.resyncProblems.reset();
      for (const group of new Set(run.reports.map((r) => r.group))) {
        const problems = countBy(run.reports.filter((r) => r.group === group).map((r) => r.problem));
        for (const [problem, count] of Object.entries(problems)) metrics.resyncProblems.set({ group, problem }, count);
      }
    },
  };
}
