import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HookServer } from '../helpers/hook-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { FAST_RETRY, attached, notifierFor } from './notifier-setup.ts';

describe('webhook notifications', () => {
  let server: HookServer;
  let dir: string;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    server = await HookServer.start();
    dir = await mkdtemp(join(tmpdir(), 'pairkeeper-notify-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  function setup(...args: Parameters<typeof notifierFor>) {
    const made = notifierFor(...args);
    closers.push(() => made.notifier.close());
    return made;
  }

  it('POSTs the event as JSON, one salt-api tag per type through {type}, with the token from the file', async () => {
    const tokenFile = join(dir, 'salt-token');
    await writeFile(tokenFile, '  6d1b9e0c2f  \n');
    const { notifier } = setup({
      webhooks: [
        { url: `${server.url}/hook/pairkeeper/{type}`, authHeaderFile: tokenFile, authHeaderName: 'X-Auth-Token', headers: { 'X-Cluster': 'prod', 'Content-Type': 'text/plain' } },
      ],
    });
    const up = attached();
    const down = attached({ nodeId: '3' }, 'pair.released');
    void notifier.emit(up);
    void notifier.emit(down);
    await notifier.idle();

    assert.deepEqual(server.requests.map((r) => [r.method, r.path]).sort(), [
      ['POST', '/hook/pairkeeper/pair/attached'],
      ['POST', '/hook/pairkeeper/pair/released'],
    ]);
    for (const request of server.requests) {
      // salt-api parses the body by Content-Type into data['post']: it must say JSON, whatever the config adds.
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['x-auth-token'], '6d1b9e0c2f');
      assert.equal(request.headers['x-cluster'], 'prod');
      assert.equal(request.headers.authorization, undefined);
    }
    const byPath = new Map(server.requests.map((r) => [r.path, JSON.parse(r.body) as unknown]));
    assert.deepEqual(byPath.get('/hook/pairkeeper/pair/attached'), up);
    assert.deepEqual(byPath.get('/hook/pairkeeper/pair/released'), down);

    const records = notifier.deliveries();
    assert.deepEqual(records.map((r) => [r.outcome, r.attempt, r.status, r.target]).sort(), [
      ['delivered', 1, 200, `${server.url}/hook/pairkeeper/pair/attached`],
      ['delivered', 1, 200, `${server.url}/hook/pairkeeper/pair/released`],
    ]);
  });

  it('sends the file as Authorization by default, and reads it again for every attempt (a rotated token works without a restart)', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'Bearer one\n');
    const { notifier } = setup({ webhooks: [{ url: `${server.url}/hook/x` }, { url: `${server.url}/hook/y`, authHeaderFile: tokenFile }] });
    void notifier.emit(attached());
    await notifier.idle();
    await writeFile(tokenFile, 'Bearer two\n');
    void notifier.emit(attached());
    await notifier.idle();
    assert.deepEqual(
      server.requests.filter((r) => r.path === '/hook/y').map((r) => r.headers.authorization),
      ['Bearer one', 'Bearer two'],
    );
    assert.deepEqual(
      server.requests.filter((r) => r.path === '/hook/x').map((r) => r.headers.authorization),
      [undefined, undefined],
    );
  });

  it('sends a target only the event types it asked for', async () => {
    const { notifier } = setup({ webhooks: [{ url: `${server.url}/released`, events: ['pair.released', 'lifecycle.abandoned'] }] });
    void notifier.emit(attached());
    void notifier.emit(attached({}, 'pair.released'));
    void notifier.emit(attached({}, 'instance.waiting'));
    await notifier.idle();
    assert.deepEqual(
      server.requests.map((r) => (JSON.parse(r.body) as { type: string }).type),
      ['pair.released'],
    );
  });

  it('keeps the query, and any secret in it, out of records and logs', async () => {
    const { notifier, logs } = setup({ webhooks: [{ url: `${server.url}/hook/p?key=s3cr3t-in-query` }] });
    void notifier.emit(attached());
    await notifier.idle();
    assert.equal(server.requests[0]?.path, '/hook/p?key=s3cr3t-in-query');
    assert.equal(notifier.deliveries()[0]?.target, `${server.url}/hook/p`);
    assert.ok(!logs.raw.some((l) => l.includes('s3cr3t')));
  });

  it('rides out an outage: 503 twice, then 200, delivered on attempt 3, each failure logged at warn', async () => {
    server.setAnswer((n) => (n <= 2 ? { status: 503, body: 'salt-master not running' } : 200));
    const event = attached();
    const { notifier, logs, seen } = setup({ webhooks: [{ url: `${server.url}/hook/pairkeeper/{type}` }], retry: FAST_RETRY });
    void notifier.emit(event);
    await notifier.idle();

    assert.equal(server.requests.length, 3);
    assert.ok(server.requests.every((r) => r.body === server.requests[0]!.body), 'every retry sends the same event, same id');
    assert.deepEqual(
      notifier.deliveries().map((r) => [r.outcome, r.attempt, r.status]),
      [
        ['failed', 1, 503],
        ['failed', 2, 503],
        ['delivered', 3, 200],
      ],
    );
    assert.match(notifier.deliveries()[0]!.error!, /HTTP 503: salt-master not running/);
    assert.equal(seen.length, 3);
    const warnings = logs.find('notification attempt failed; will retry');
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0]!.level, 40);
    assert.equal(warnings[0]!.eventId, event.id);
    assert.equal(warnings[0]!.instanceId, event.instanceId);
    assert.equal(warnings[0]!.status, 503);
    assert.equal(logs.find('notification delivered').length, 1);
  });

  it('rides out a receiver that is down, then comes back on its port', async () => {
    await server.stop();
    const { notifier } = setup({ webhooks: [{ url: `${server.url}/hook/x` }], retry: { attempts: 50, baseMs: 20, capMs: 40 } });
    void notifier.emit(attached());
    await waitFor(() => notifier.deliveries().some((r) => r.outcome === 'failed'), 'a failed attempt');
    assert.match(notifier.deliveries()[0]!.error!, /ECONNREFUSED/);
    assert.equal(notifier.deliveries()[0]!.status, undefined);
    await server.listen();
    await notifier.idle();
    const last = notifier.deliveries().at(-1)!;
    assert.equal(last.outcome, 'delivered');
    assert.ok(last.attempt >= 2);
    assert.equal(server.requests.length, 1);
  });

  it('retries 408, 429 and a timeout, like any outage', async () => {
    server.setAnswer((n) => [408, 429, 'hold' as const][n - 1] ?? 200);
    const { notifier } = setup({ webhooks: [{ url: `${server.url}/hook/x`, timeoutMs: 500 }], retry: FAST_RETRY });
    void notifier.emit(attached());
    await notifier.idle();
    assert.deepEqual(
      notifier.deliveries().map((r) => [r.outcome, r.status ?? r.error]),
      [
        ['failed', 408],
        ['failed', 429],
        ['failed', 'timed out after 500 ms'],
        ['delivered', 200],
      ],
    );
  });

  for (const status of [400, 401, 404, 302]) {
    it(`does not retry a ${status}: the same request can never succeed; gives up at once, logged at error`, async () => {
      const headers: Record<string, string> = status === 302 ? { location: '/elsewhere' } : {};
      server.setAnswer(() => ({ status, body: status === 302 ? '' : '{"status": "nope"}', headers }));
      const event = attached();
      const { notifier, logs } = setup({ webhooks: [{ url: `${server.url}/hook/x` }], retry: FAST_RETRY });
      void notifier.emit(event);
      await notifier.idle();
      assert.equal(server.requests.length, 1, 'one request, no retry, no redirect followed');
      const [record] = notifier.deliveries();
      assert.equal(record?.outcome, 'gave-up');
      assert.equal(record.status, status);
      assert.match(record.error!, new RegExp(`HTTP ${status}.*not retried`));
      const [line] = logs.find('notification gave up');
      assert.equal(line?.level, 50);
      assert.equal(line.eventId, event.id);
      assert.equal(line.status, status);
    });
  }

  it('gives up after the configured attempts: visible in deliveries() and as an error line naming the event', async () => {
    server.setAnswer(() => 500);
    const event = attached();
    const { notifier, logs, seen } = setup({ webhooks: [{ url: `${server.url}/hook/x` }], retry: { attempts: 3, baseMs: 1, capMs: 5 } });
    void notifier.emit(event);
    await notifier.idle();
    assert.equal(server.requests.length, 3);
    assert.deepEqual(
      notifier.deliveries().map((r) => [r.outcome, r.attempt]),
      [
        ['failed', 1],
        ['failed', 2],
        ['gave-up', 3],
      ],
    );
    assert.match(notifier.deliveries()[2]!.error!, /HTTP 500 \(still failing after 3 attempts\)/);
    assert.deepEqual(
      seen.map((r) => r.outcome),
      ['failed', 'failed', 'gave-up'],
    );
    const errors = logs.lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.msg, 'notification gave up');
    assert.equal(errors[0]!.eventId, event.id);
    assert.equal(errors[0]!.nodeId, '2');
    assert.equal(errors[0]!.target, `${server.url}/hook/x`);
  });
});
