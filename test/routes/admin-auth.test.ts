import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { offlineClients } from '../../fake-aws/clients.ts';
import { LogSink } from '../helpers/log-sink.ts';

const TOKEN = 'correct-horse-battery-staple';
const BASE = { aws: { region: 'us-east-1' }, sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:t'] } };
const ROUTES = ['/healthz', '/readyz', '/metrics', '/v1/status', '/v1/events', '/v1/subscriptions', '/v1/pairs', '/v1/claims', '/v1/instances', '/v1/facts', '/no-such-route'];

describe('admin bearer token', () => {
  let app: App;
  const logs = new LogSink();
  before(async () => {
    const config = parseConfig(JSON.stringify({ ...BASE, admin: { token: TOKEN } }), 'test');
    app = await buildApp({ config, logger: createLogger('info', logs), clients: offlineClients() });
    await app.controller.resyncNow(); // so /readyz answers 200 once the token is right
  });
  after(() => app.close());

  it('covers every route the admin listener has', () => {
    const served = [...app.adminApp.printRoutes({ commonPrefix: false }).matchAll(/(\/\S*) \(/g)].map((m) => m[1]);
    assert.deepEqual(served.filter((url) => !ROUTES.includes(url!)), []);
  });

  for (const url of ROUTES) {
    it(`${url}: 401 without the token or with a wrong one, answered with the token`, async () => {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
        const res = await app.adminApp.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401, `${authorization ?? 'no header'}`);
        assert.equal(res.json<{ code: string }>().code, 'PK_UNAUTHORIZED');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      }
      const ok = await app.adminApp.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.statusCode, url === '/no-such-route' ? 404 : 200);
    });
  }

  it('leaves the public listener alone: SNS carries no admin token', async () => {
    assert.equal((await app.publicApp.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  it('never writes the token to the log', () => {
    assert.ok(!logs.raw.join('\n').includes(TOKEN));
  });
});

describe('admin token configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pk-token-'));

  it('requires a token when the admin listener is not on loopback, naming the key', () => {
    assert.throws(() => parseConfig(JSON.stringify({ ...BASE, admin: { host: '0.0.0.0' } }), 't'), (e: unknown) => e instanceof ConfigError && /admin\.token: required when the admin listener is not on loopback/.test(e.message));
    assert.doesNotThrow(() => parseConfig(JSON.stringify({ ...BASE, admin: { host: '127.0.0.2' } }), 't'));
    assert.doesNotThrow(() => parseConfig(JSON.stringify({ ...BASE, admin: { host: '0.0.0.0', token: TOKEN } }), 't'));
  });

  it('reads the token from admin.tokenFile, and refuses a missing file, a short token, or both keys', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    assert.equal(parseConfig(JSON.stringify({ ...BASE, admin: { host: '0.0.0.0', tokenFile: file } }), 't').admin.token, TOKEN);
    assert.throws(() => parseConfig(JSON.stringify({ ...BASE, admin: { tokenFile: join(dir, 'missing') } }), 't'), /admin\.tokenFile: cannot read/);
    writeFileSync(join(dir, 'short'), 'abc');
    assert.throws(() => parseConfig(JSON.stringify({ ...BASE, admin: { tokenFile: join(dir, 'short') } }), 't'), /shorter than 16/);
    assert.throws(() => parseConfig(JSON.stringify({ ...BASE, admin: { token: TOKEN, tokenFile: file } }), 't'), /not both/);
    assert.throws(() => parseConfig(JSON.stringify({ ...BASE, admin: { token: 'short' } }), 't'), /admin\.token: use at least 16 characters/);
  });
});
