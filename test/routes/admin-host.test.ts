import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { offlineClients } from '../../fake-aws/clients.ts';
import { LogSink } from '../helpers/log-sink.ts';

/**
 * DNS rebinding: a web page at evil.example:8081 whose name is re-pointed at
 * 127.0.0.1 makes the browser send requests to the admin listener with its own
 * Host. The admin listener answers only a Host that names it: localhost or a
 * loopback address, admin.host (any IP address when that is a wildcard), with the
 * port the request arrived on.
 */
const TOKEN = 'correct-horse-battery-staple';
const BASE = { aws: { region: 'us-east-1' }, sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:t'] } };

const build = (admin: Record<string, unknown>): Promise<App> =>
  buildApp({ config: parseConfig(JSON.stringify({ ...BASE, admin }), 'test'), logger: createLogger('info', new LogSink()), clients: offlineClients() });

/** A GET over loopback with the Host header a browser (or curl) would send. */
function get(port: number, host: string, path = '/healthz'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin listener Host check, over loopback', () => {
  let app: App;
  let port = 0;
  before(async () => {
    app = await build({ host: '127.0.0.1', port: 0 });
    await app.adminApp.listen({ host: '127.0.0.1', port: 0 });
    port = (app.adminApp.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  it('answers the names of this listener, with its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      assert.equal((await get(port, host)).status, 200, host);
    }
  });

  it('refuses any other name, or another port, with PK_ADMIN_HOST (421), before the token matters', async () => {
    for (const host of [`evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost:${port + 1}`, 'localhost', `localhost:${port}/x`]) {
      const res = await get(port, host, '/v1/events');
      assert.equal(res.status, 421, host);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'PK_ADMIN_HOST', host);
    }
  });
});

describe('admin listener Host check, configured hosts', () => {
  it('admin.host by name is answered; other names are not', async () => {
    const app = await build({ host: 'pairkeeper.internal', port: 8081, token: TOKEN });
    const status = async (host: string) => (await app.adminApp.inject({ url: '/healthz', headers: { host, authorization: `Bearer ${TOKEN}` } })).statusCode;
    try {
      assert.equal(await status('pairkeeper.internal:8081'), 200);
      assert.equal(await status('PAIRKEEPER.INTERNAL:8081'), 200);
      assert.equal(await status('evil.example:8081'), 421);
      assert.equal(await status('10.0.0.5:8081'), 421, 'an address that is not the configured one');
    } finally {
      await app.close();
    }
  });

  it('a wildcard admin.host answers any IP address, never a name other than localhost', async () => {
    const app = await build({ host: '0.0.0.0', port: 8081, token: TOKEN });
    const status = async (host: string) => (await app.adminApp.inject({ url: '/healthz', headers: { host, authorization: `Bearer ${TOKEN}` } })).statusCode;
    try {
      assert.equal(await status('10.0.0.5:8081'), 200);
      assert.equal(await status('[fd00::5]:8081'), 200);
      assert.equal(await status('localhost:8081'), 200);
      assert.equal(await status('evil.example:8081'), 421);
    } finally {
      await app.close();
    }
  });

  it('leaves the public listener alone: SNS reaches it by any name', async () => {
    const app = await build({});
    try {
      assert.equal((await app.publicApp.inject({ url: '/healthz', headers: { host: 'pairkeeper.example.com' } })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
