import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * SNS's own HTTPS side, as a subscriber sees it: the signing certificate at
 * `/SimpleNotificationService-<hash>.pem`, and `GET /?Action=ConfirmSubscription`
 * behind a SubscribeURL. Served on localhost with a test CA (trusted through
 * NODE_EXTRA_CA_CERTS), so the service under test fetches it the way it would
 * fetch from sns.<region>.amazonaws.com.
 */
export type CertMode = 'serve' | 'hang' | 'fail';

export class SnsHttpsEndpoint {
  url = '';
  certUrl = '';
  /** How the certificate route behaves: tests make it hang or fail. */
  certMode: CertMode = 'serve';
  certFetches = 0;
  readonly confirmations: { topicArn: string; token: string; accepted: boolean }[] = [];
  /** Decides whether a token confirms a subscription; the fake SNS sets it. */
  onConfirm: (topicArn: string, token: string) => string | undefined = () => undefined;

  private readonly server: Server;
  private readonly signingCertPem: string;

  constructor(options: { tlsCertPem: string; tlsKeyPem: string; signingCertPem: string }) {
    this.signingCertPem = options.signingCertPem;
    this.server = createServer({ cert: options.tlsCertPem, key: options.tlsKeyPem }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      if (req.method === 'GET' && url.pathname.endsWith('.pem') && url.pathname === new URL(this.certUrl).pathname) {
        this.certFetches += 1;
        if (this.certMode === 'hang') return; // never answers: the client's timeout must save it
        if (this.certMode === 'fail') {
          res.writeHead(500).end('unavailable');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' }).end(this.signingCertPem);
        return;
      }
      if (req.method === 'GET' && url.searchParams.get('Action') === 'ConfirmSubscription') {
        const topicArn = url.searchParams.get('TopicArn') ?? '';
        const token = url.searchParams.get('Token') ?? '';
        const subscriptionArn = this.onConfirm(topicArn, token);
        this.confirmations.push({ topicArn, token, accepted: subscriptionArn !== undefined });
        if (!subscriptionArn) {
          res.writeHead(400, { 'content-type': 'text/xml' });
          res.end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid token</Message></Error></ErrorResponse>');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${subscriptionArn}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`,
        );
        return;
      }
      res.writeHead(404).end();
    });
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as AddressInfo;
    this.url = `https://localhost:${address.port}`;
    const hash = createHash('md5').update(this.signingCertPem).digest('hex');
    this.certUrl = `${this.url}/SimpleNotificationService-${hash}.pem`;
    return this;
  }

  subscribeUrl(topicArn: string, token: string): string {
    return `${this.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${encodeURIComponent(token)}`;
  }

  unsubscribeUrl(subscriptionArn: string): string {
    return `${this.url}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
