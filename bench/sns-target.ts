/**
 * A server for the SNS benchmark, in its own process so the load generator does not
 * share its core. `pairkeeper`: the real public app, info logging through the same
 * asynchronous pino writer server.ts uses (to stderr, which the benchmark discards;
 * process.stderr would add a synchronous write per line that the service does not
 * pay). `bare`: the bound — node:http doing only what no SNS endpoint can skip: read
 * the body, JSON.parse, build the string to sign, RSA-verify with a cached key,
 * answer 200.
 * Prints `{"port": N}` on stdout once listening.
 */
import { X509Certificate, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.ts';
import { parseConfig } from '../src/config/load.ts';
import { createLogger } from '../src/logger.ts';
import { testTls } from '../fake-aws/tls/index.ts';
import { offlineClients } from '../fake-aws/clients.ts';

const [kind, topicArn] = process.argv.slice(2);
process.once('SIGTERM', () => process.exit(0)); // a clean exit, so --cpu-prof can write its profile

if (kind === 'bare') {
  const key = new X509Certificate(testTls.snsSigningCert).publicKey;
  const keys = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string | undefined>;
      const text = keys.filter((k) => m[k] !== undefined).map((k) => `${k}\n${m[k]}\n`).join('');
      const ok = verify(m.SignatureVersion === '2' ? 'sha256' : 'sha1', Buffer.from(text), key, Buffer.from(m.Signature ?? '', 'base64'));
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'accepted' : 'rejected', messageId: m.MessageId }));
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
} else {
  const config = parseConfig(JSON.stringify({ aws: { region: 'us-east-1' }, sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' } }), 'bench');
  const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'info', pino.destination({ fd: 2, sync: false }));
  const app = await buildApp({ config, logger, sink: { accept: () => ({ outcome: 'accepted' }) }, clients: offlineClients() });
  await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.publicApp.server.address() as AddressInfo).port })}\n`);
}
