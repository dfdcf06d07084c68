import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { testTls } from '../../fake-aws/tls/index.ts';
import { CertificateCache } from '../../src/sns/certificate-cache.ts';
import { SnsRejection } from '../../src/errors.ts';

/** Serves `/<name>.pem` with behaviours chosen by name; a second host stalls every request. */
describe('CertificateCache', () => {
  let server: Server;
  let stalling: Server;
  let base = '';
  let stallBase = '';
  const hits = new Map<string, number>();

  before(async () => {
    server = createServer({ cert: testTls.localhostCert, key: testTls.localhostKey }, (req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      if (req.url === '/redirect.pem') return res.writeHead(302, { location: '/good.pem' }).end();
      if (req.url === '/huge.pem') return res.writeHead(200).end('x'.repeat(70_000));
      if (req.url === '/garbage.pem') return res.writeHead(200).end('not a certificate');
      if (req.url?.startsWith('/good')) return res.writeHead(200).end(testTls.snsSigningCert);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://localhost:${(server.address() as { port: number }).port}`;
    stalling = createServer({ cert: testTls.localhostCert, key: testTls.localhostKey }, () => {}); // never answers
    await new Promise<void>((r) => stalling.listen(0, '127.0.0.1', r));
    stallBase = `https://localhost:${(stalling.address() as { port: number }).port}`;
  });
  after(async () => {
    stalling.closeAllConnections();
    await Promise.all([server, stalling].map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  const cache = () => new CertificateCache({ timeoutMs: 1000, maxEntries: 2 });
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: SnsRejection) => e.code);

  it('fetches once and keeps the key', async () => {
    const c = cache();
    const [a, b] = await Promise.all([c.get(new URL(`${base}/good.pem`)), c.get(new URL(`${base}/good.pem`))]);
    assert.equal(a, b);
    assert.equal(await c.get(new URL(`${base}/good.pem`)), a);
    assert.equal(c.fetches, 1);
  });

  it('evicts the least recently used beyond maxEntries', async () => {
    const c = cache();
    await c.get(new URL(`${base}/good1.pem`));
    await c.get(new URL(`${base}/good2.pem`));
    await c.get(new URL(`${base}/good1.pem`)); // good1 is now the most recent
    await c.get(new URL(`${base}/good3.pem`)); // evicts good2
    assert.equal(c.fetches, 3);
    await c.get(new URL(`${base}/good1.pem`));
    assert.equal(c.fetches, 3);
    await c.get(new URL(`${base}/good2.pem`));
    assert.equal(c.fetches, 4);
  });

  it('refuses redirects, oversized bodies and things that are not certificates', async () => {
    const c = cache();
    assert.equal(await code(c.get(new URL(`${base}/redirect.pem`))), 'PK_SNS_CERT_UNAVAILABLE');
    assert.equal(await code(c.get(new URL(`${base}/huge.pem`))), 'PK_SNS_CERT_INVALID');
    assert.equal(await code(c.get(new URL(`${base}/garbage.pem`))), 'PK_SNS_CERT_INVALID');
    assert.equal(await code(c.get(new URL(`${base}/missing.pem`))), 'PK_SNS_CERT_INVALID');
  });

  it('caps distinct fetches in flight', async () => {
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 10, maxConcurrentFetches: 1 });
    const first = c.get(new URL(`${base}/good-a.pem`));
    assert.equal(await code(c.get(new URL(`${base}/good-b.pem`))), 'PK_SNS_BUSY');
    await first;
  });

  it('refuses a certificate that has expired', async () => {
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 10, now: () => Date.parse('2200-01-01') });
    assert.equal(await code(c.get(new URL(`${base}/good-x.pem`))), 'PK_SNS_CERT_INVALID');
  });

  it('remembered failures never evict a genuine certificate', async () => {
    const c = cache();
    const good = await c.get(new URL(`${base}/good-kept.pem`));
    for (let i = 0; i < 64; i++) assert.equal(await code(c.get(new URL(`${base}/missing-${i}.pem`))), 'PK_SNS_CERT_INVALID');
    const fetches = c.fetches;
    assert.equal(await c.get(new URL(`${base}/good-kept.pem`)), good);
    assert.equal(c.fetches, fetches, 'the genuine certificate is still cached');
  });

  it('remembers a bounded number of failures per host: the newest stay, the oldest are forgotten', async () => {
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 1000 });
    for (let i = 0; i < 64; i++) await code(c.get(new URL(`${base}/bounded-${i}.pem`)));
    await code(c.get(new URL(`${base}/bounded-63.pem`)));
    assert.equal(hits.get('/bounded-63.pem'), 1, 'a recent failure is remembered');
    await code(c.get(new URL(`${base}/bounded-0.pem`)));
    assert.equal(hits.get('/bounded-0.pem'), 2, 'the oldest was forgotten');
  });

  it('remembers a 4xx for minutes, not until restart', async () => {
    let now = Date.now();
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 10, now: () => now });
    assert.equal(await code(c.get(new URL(`${base}/gone.pem`))), 'PK_SNS_CERT_INVALID');
    now += 60_000;
    assert.equal(await code(c.get(new URL(`${base}/gone.pem`))), 'PK_SNS_CERT_INVALID');
    assert.equal(hits.get('/gone.pem'), 1);
    now += 10 * 60_000;
    assert.equal(await code(c.get(new URL(`${base}/gone.pem`))), 'PK_SNS_CERT_INVALID');
    assert.equal(hits.get('/gone.pem'), 2, 'asked again once the failure is old');
  });

  it('stalling fetches on one host do not keep a genuine certificate on another from being fetched', async () => {
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 10 });
    const stalls = Array.from({ length: 8 }, (_, i) => code(c.get(new URL(`${stallBase}/stall-${i}.pem`))));
    assert.equal(await code(c.get(new URL(`${base}/good-fresh.pem`))), 'ok');
    assert.deepEqual(new Set(await Promise.all(stalls)), new Set(['PK_SNS_CERT_UNAVAILABLE', 'PK_SNS_BUSY']));
  });

  it('re-checks the validity dates of a cached certificate at use', async () => {
    let now = Date.now();
    const c = new CertificateCache({ timeoutMs: 1000, maxEntries: 10, now: () => now });
    assert.equal(await code(c.get(new URL(`${base}/good-ages.pem`))), 'ok');
    now = Date.parse('2200-01-01');
    assert.equal(await code(c.get(new URL(`${base}/good-ages.pem`))), 'PK_SNS_CERT_INVALID');
  });
});
