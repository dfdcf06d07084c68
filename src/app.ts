/**
 * The composition root of the service: metrics, notifier, the controller (through
 * its facade), the SNS ingress, the SQS intake when configured, and the two Fastify apps (public: SNS and health;
 * admin: the operators' routes). It never listens: server.ts does.
 */
import { readFileSync } from 'node:fs';
import underPressure from '@fastify/under-pressure';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { countAwsCalls } from './aws/call-metrics.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient, type AwsClients } from './aws/clients.ts';
import type { Config } from './config/schema.ts';
import { createController, type ControllerFacade, type ControllerReports, type Readiness } from './controller/facade.ts';
import { metricReports } from './controller-metrics.ts';
import { countBy } from './count-by.ts';
import type { EventSink } from './domain/autoscaling-event.ts';
import { ConfigError } from './errors.ts';
import { RecentEvents } from './sns/recent-messages.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Notifier } from './notify/notifier.ts';
import { requireAdminHost, requireBearerToken } from './routes/admin-auth.ts';
import { adminRoutes, type AdminSources } from './routes/admin.ts';
import { factsRoutes } from './routes/facts.ts';
import { healthRoutes } from './routes/health.ts';
import { pairRoutes } from './routes/pairs.ts';
import { SNS_BODY_LIMIT, snsRoutes } from './routes/sns.ts';
import { statusRoutes } from './routes/status.ts';
import { CertificateCache } from './sns/certificate-cache.ts';
import { parseAutoScalingMessage } from './sns/autoscaling-message.ts';
import { EnvelopeVerifier } from './sns/envelope-verifier.ts';
import { SnsIngress } from './sns/ingress.ts';
import { SqsPoller } from './intake/sqs-poller.ts';
import { SubscriptionLog } from './sns/subscriptions.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clients: AwsClients;
  /** The SQS intake's client when `intake.sqs` is set; made from the region (and closed) by the app when absent. */
  sqs?: SQSClient;
  /** Where accepted events go; the controller unless a test wants to look at the events alone. */
  sink?: EventSink;
  /** Told as each pairing step is done (a crash-point test stops the app there). */
  onStep?: ControllerReports['onStep'];
  now?: () => number;
}

export interface App {
  /** `POST /sns`, `GET /healthz`: what SNS reaches. */
  publicApp: FastifyInstance;
  /** Ops routes: loopback by default. */
  adminApp: FastifyInstance;
  metrics: Metrics;
  controller: ControllerFacade;
  notifier: Notifier;
  recentEvents: RecentEvents;
  certificates: CertificateCache;
  /** Stops taking messages, lets the work already accepted finish, then the notifications. */
  close(): Promise<void>;
}

/** Builds both listeners' apps and starts the controller's resync, without listening; only server.ts listens. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, logger } = deps;
  const metrics = createMetrics();
  const recentEvents = new RecentEvents();
  const subscriptions = new SubscriptionLog();
  const sqsClient = config.intake.sqs ? (deps.sqs ?? createSqsClient(config.aws.region)) : undefined;
  countAwsCalls({ ...deps.clients, sqs: sqsClient }, (service, action, outcome) => metrics.awsCalls.inc({ service, action, outcome }));
  const notifier = new Notifier({
    config: config.notify,
    logger,
    onDelivery: (r) => metrics.notifications.inc({ kind: r.kind, type: r.type, outcome: r.outcome }),
  });
  const reports: ControllerReports = { ...metricReports(metrics), notify: (e) => notifier.emit(e), ...(deps.onStep ? { onStep: deps.onStep } : {}) };
  const controller = createController(config, { logger, clients: deps.clients, reports });
  metrics.observe({ queueDepth: () => controller.status().queueDepth, instances: () => countBy(controller.instances().map((r) => r.status)) });
  const certificates = new CertificateCache({ timeoutMs: config.sns.certFetchTimeoutMs, maxEntries: config.sns.certCacheSize });
  const verifier = new EnvelopeVerifier({ config: config.sns, certificates, ...(deps.now ? { now: deps.now } : {}) });
  const ingress = new SnsIngress({
    config: config.sns,
    verifier,
    sink: deps.sink ?? controller,
    logger,
    metrics,
    recentEvents,
    subscriptions,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const readiness = () => controller.readiness();
  const publicApp = await buildPublicApp(config, logger, metrics, readiness, ingress);
  const adminApp = buildAdminApp(config, logger, readiness, controller, {
    events: (filter) => recentEvents.list(filter),
    refused: (limit) => recentEvents.refused(limit),
    deliveries: () => notifier.deliveries(),
    notificationQueue: () => notifier.stats(),
    subscriptions: () => subscriptions.list(),
    metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
  });
  await Promise.all([publicApp.ready(), adminApp.ready()]);
  const poller =
    config.intake.sqs && sqsClient
      ? new SqsPoller({
          client: sqsClient,
          config: config.intake.sqs,
          // The queue's SNS envelopes get POST /sns's own check.
          sns: { openEnvelope: (body) => verifier.open(body), parseMessage: parseAutoScalingMessage },
          sink: deps.sink ?? controller,
          resync: () => controller.resyncNow(),
          logger,
          metrics,
          onHandled: (entry) => recentEvents.add(entry),
        })
      : undefined;
  controller.start();
  poller?.start();
  return {
    publicApp,
    adminApp,
    metrics,
    controller,
    notifier,
    recentEvents,
    certificates,
    close: async () => {
      await Promise.all([publicApp.close(), adminApp.close(), poller?.close()]);
      if (sqsClient && !deps.sqs) sqsClient.destroy();
      await controller.close();
      await notifier.close();
    },
  };
}

/** `POST /sns` (shed with 503 while the event loop lags), `/healthz`, `/readyz`. */
async function buildPublicApp(config: Config, logger: Logger, metrics: Metrics, readiness: () => Readiness, ingress: SnsIngress): Promise<FastifyInstance> {
  const https = config.listen.tls ? readTls(config.listen.tls) : undefined;
  const publicLogger: FastifyBaseLogger = logger.child({ listener: 'public' });
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
        // under-pressure reads a window with fewer than two ticks of its 10 ms timer as an
        // infinite delay. A window of 100 ms is emptied by one busy turn of ~100 ms (a burst
        // of deliveries, a GC), which shed whole bursts at a tenth of the threshold; a window
        // as long as the threshold empties only when the loop really lagged that long.
        sampleInterval: Math.max(100, config.listen.maxEventLoopDelayMs),
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
  return publicApp;
}

/** The operators' routes, behind the bearer token when one is configured. */
function buildAdminApp(config: Config, logger: Logger, readiness: () => Readiness, controller: ControllerFacade, sources: AdminSources): FastifyInstance {
  const adminLogger: FastifyBaseLogger = logger.child({ listener: 'admin' });
  const adminApp = Fastify({ loggerInstance: adminLogger, logController: new LogController({ disableRequestLogging: true }) });
  shapeErrors(adminApp);
  requireAdminHost(adminApp, config.admin.host);
  if (config.admin.token) requireBearerToken(adminApp, config.admin.token);
  healthRoutes(adminApp, readiness, { withReason: true });
  adminRoutes(adminApp, sources);
  pairRoutes(adminApp, controller);
  statusRoutes(adminApp, controller, new Date());
  factsRoutes(adminApp, controller);
  return adminApp;
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
