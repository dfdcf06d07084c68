import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { AutoScalingEvent } from '../../src/domain/autoscaling-event.ts';
import type { EventSink, SinkOutcome } from '../../src/domain/autoscaling-event.ts';
import { createLogger } from '../../src/logger.ts';
import { SnsHttpsEndpoint } from '../../fake-aws/sns/https-endpoint.ts';
import { SnsSigner } from '../../fake-aws/sns/signer.ts';
import { testTls } from '../../fake-aws/tls/index.ts';
import { offlineClients } from '../../fake-aws/clients.ts';
import { LogSink } from './log-sink.ts';

export const TOPIC = 'arn:aws:sns:us-east-1:123456789012:etcd-autoscaling';
export const OTHER_TOPIC = 'arn:aws:sns:us-east-1:123456789012:someone-else';

/** A sink that remembers what it was given. */
export class CollectingSink implements EventSink {
  readonly events: AutoScalingEvent[] = [];
  /** When set, the next event is refused with this error instead of taken. */
  refuseNext: Error | undefined;
  accept(event: AutoScalingEvent): SinkOutcome {
    const refusal = this.refuseNext;
    this.refuseNext = undefined;
    if (refusal) throw refusal;
    this.events.push(event);
    return { outcome: 'accepted' };
  }
}

export interface SnsHarness {
  app: App;
  config: Config;
  endpoint: SnsHttpsEndpoint;
  signer: SnsSigner;
  forger: SnsSigner;
  sink: CollectingSink;
  logs: LogSink;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * The app as SNS sees it, with a local SNS HTTPS side (certificate and SubscribeURL,
 * trusted through NODE_EXTRA_CA_CERTS) and a signer holding the matching key.
 */
export async function startSnsHarness(snsOverrides: Record<string, unknown> = {}): Promise<SnsHarness> {
  const endpoint = await new SnsHttpsEndpoint({
    tlsCertPem: testTls.localhostCert,
    tlsKeyPem: testTls.localhostKey,
    signingCertPem: testTls.snsSigningCert,
  }).start();
  const signer = new SnsSigner({ privateKeyPem: testTls.snsSigningKey, certUrl: endpoint.certUrl });
  const forger = new SnsSigner({ privateKeyPem: testTls.forgerKey, certUrl: endpoint.certUrl });
  const config = parseConfig(
    JSON.stringify({
      aws: { region: 'us-east-1' },
      // The SNS checks are under test here, not load shedding (test/operating.test.ts): a loaded CI machine must not turn answers into 503s.
      listen: { maxEventLoopDelayMs: 0 },
      sns: { topicArns: [TOPIC], certHostPattern: '^localhost:\\d+$', certFetchTimeoutMs: 500, confirmTimeoutMs: 500, ...snsOverrides },
      log: { level: 'debug' },
    }),
    'test',
  );
  const logs = new LogSink();
  const sink = new CollectingSink();
  const app = await buildApp({ config, logger: createLogger('debug', logs), sink, clients: offlineClients() });
  return {
    app,
    config,
    endpoint,
    signer,
    forger,
    sink,
    logs,
    post: async (body, headers = {}) => {
      const res = await app.publicApp.inject({
        method: 'POST',
        url: '/sns',
        headers: { 'content-type': 'text/plain; charset=UTF-8', ...headers },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.statusCode, json: res.json() };
    },
    close: async () => {
      await app.close();
      await endpoint.close();
    },
  };
}

/** The headers SNS sends with a message. */
export function snsHeaders(message: { Type: string; MessageId: string; TopicArn: string }): Record<string, string> {
  return {
    'x-amz-sns-message-type': message.Type,
    'x-amz-sns-message-id': message.MessageId,
    'x-amz-sns-topic-arn': message.TopicArn,
  };
}
