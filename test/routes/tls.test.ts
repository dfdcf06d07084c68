import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SnsHttpsEndpoint } from '../../fake-aws/sns/https-endpoint.ts';
import { SnsSigner } from '../../fake-aws/sns/signer.ts';
import { testTls } from '../../fake-aws/tls/index.ts';
import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { offlineClients } from '../../fake-aws/clients.ts';
import { LogSink } from '../helpers/log-sink.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:t';

/** listen.tls: the public listener serves HTTPS with the configured certificate (here the test CA's localhost one). */
describe('TLS on the public listener', () => {
  let app: App;
  let endpoint: SnsHttpsEndpoint;
  let base = '';
  before(async () => {
    endpoint = await new SnsHttpsEndpoint({ tlsCertPem: testTls.localhostCert, tlsKeyPem: testTls.localhostKey, signingCertPem: testTls.snsSigningCert }).start();
    const tls = { cert: new URL('../../fake-aws/tls/localhost.pem', import.meta.url).pathname, key: new URL('../../fake-aws/tls/localhost-key.pem', import.meta.url).pathname };
    const config = parseConfig(JSON.stringify({ listen: { host: '127.0.0.1', tls, maxEventLoopDelayMs: 0 }, aws: { region: 'us-east-1' }, sns: { topicArns: [TOPIC], certHostPattern: '^localhost:\\d+$' } }), 't');
    app = await buildApp({ config, logger: createLogger('info', new LogSink()), clients: offlineClients() });
    await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
    base = `https://localhost:${(app.publicApp.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await endpoint.close();
  });

  it('answers over HTTPS, and a signed notification is accepted over it', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const signer = new SnsSigner({ privateKeyPem: testTls.snsSigningKey, certUrl: endpoint.certUrl });
    const message = JSON.stringify({ Event: 'autoscaling:TEST_NOTIFICATION', AutoScalingGroupName: 'etcd' });
    const res = await fetch(`${base}/sns`, { method: 'POST', body: JSON.stringify(signer.notification({ topicArn: TOPIC, message })) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ignored');
  });

  it('does not answer plain HTTP', async () => {
    await assert.rejects(fetch(base.replace('https:', 'http:') + '/healthz'));
  });

  it('stops at start-up, naming the key, when the certificate cannot be read', async () => {
    const config = parseConfig(JSON.stringify({ listen: { tls: { cert: '/nonexistent.pem', key: '/nonexistent-key.pem' } }, aws: { region: 'us-east-1' }, sns: { topicArns: [TOPIC] } }), 't');
    await assert.rejects(buildApp({ config, logger: createLogger('silent'), clients: offlineClients() }), /listen\.tls\.cert: cannot read \/nonexistent\.pem/);
  });
});
