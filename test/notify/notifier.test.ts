import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import type { NotifyEvent } from '../../src/domain/notify-event.ts';
import { HookServer } from '../helpers/hook-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { FAST_RETRY, attached, notifierFor } from './notifier-setup.ts';

/** Timers keeping the process alive right now (unref'd ones are not listed). */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('Notifier', () => {
  let server: HookServer;
  let dir: string;
  beforeEach(async () => {
    server = await HookServer.start();
    dir = await mkdtemp(join(tmpdir(), 'pairkeeper-notifier-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('emit() returns at once and never throws, even when every target is down', async () => {
    await server.stop();
    const { notifier, logs } = notifierFor({
      webhooks: [{ url: `${server.url}/hook/down` }, { url: 'https://127.0.0.1:1/unreachable' }],
      commands: [{ run: [join(dir, 'no-such-hook')] }],
      retry: { attempts: 3, baseMs: 60_000, capMs: 60_000 },
    });
    const settled: boolean[] = [];
    for (let i = 0; i < 50; i++) void notifier.emit(attached()).then(() => settled.push(true));
    // Nothing was tried in the caller's turn: the work is all in the background.
    assert.equal(notifier.deliveries().length, 0);
    assert.equal(notifier.stats().waiting, 150);
    // Garbage in is logged, not thrown.
    assert.doesNotThrow(() => notifier.emit(null as unknown as NotifyEvent));
    assert.equal(logs.find('cannot queue notification').length, 1);

    await waitFor(() => notifier.deliveries().filter((r) => r.outcome === 'failed').length >= 3, 'first attempts to fail');
    await notifier.close();
    assert.equal(notifier.stats().waiting, 0);
    assert.equal(notifier.stats().inFlight, 0);
    assert.ok(notifier.deliveries().every((r) => r.outcome === 'failed' || r.outcome === 'dropped'));
    assert.equal(logs.find('notifier closed with deliveries waiting; dropped').length, 1);
    // Dropped by the close: not told, so not settled (the caller must not record them as announced).
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(settled, []);
  });

  it("emit()'s promise settles once every target's delivery has ended, and at once when no target wants the event", async () => {
    const { notifier } = notifierFor({ webhooks: [{ url: `${server.url}/hook/ok` }], commands: [] });
    let done = false;
    const settled = notifier.emit(attached()).then(() => (done = true));
    assert.equal(done, false);
    await settled;
    assert.equal(notifier.deliveries().at(-1)?.outcome, 'delivered');
    const nobody = notifierFor({ webhooks: [], commands: [] }).notifier;
    await nobody.emit(attached());
    await notifier.close();
  });

  it('keeps at most queueLimit deliveries waiting: the oldest are dropped, counted and logged', async () => {
    const { notifier, logs, seen } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }], queueLimit: 3 });
    const events = Array.from({ length: 6 }, (_, i) => attached({ nodeId: String(i) }));
    for (const e of events) void notifier.emit(e);
    assert.deepEqual(notifier.stats(), { waiting: 3, inFlight: 0, dropped: 3 });
    const dropped = seen.filter((r) => r.outcome === 'dropped');
    assert.deepEqual(
      dropped.map((r) => r.eventId),
      events.slice(0, 3).map((e) => e.id),
    );
    assert.match(dropped[0]!.error!, /queue full \(3 waiting\)/);
    assert.equal(logs.find('notification queue full; dropped the oldest delivery').length, 3);

    await notifier.idle();
    assert.deepEqual(
      server.requests.map((r) => (JSON.parse(r.body) as NotifyEvent).id).sort(),
      events
        .slice(3)
        .map((e) => e.id)
        .sort(),
    );
    await notifier.close();
  });

  it('has at most `concurrency` attempts in flight per target; the rest wait their turn', async () => {
    server.setAnswer(() => 'hold');
    const { notifier } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }] }, { concurrency: 2 });
    for (let i = 0; i < 5; i++) void notifier.emit(attached());
    await waitFor(() => server.heldCount === 2, 'two requests in flight');
    assert.deepEqual(notifier.stats(), { waiting: 3, inFlight: 2, dropped: 0 });
    server.setAnswer(() => 200);
    server.release();
    await notifier.idle();
    assert.equal(server.requests.length, 5);
    assert.equal(notifier.deliveries().filter((r) => r.outcome === 'delivered').length, 5);
    await notifier.close();
  });

  it('backs off exponentially with full jitter, capped', async () => {
    server.setAnswer(() => 503);
    const { notifier } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }], retry: { attempts: 4, baseMs: 10, capMs: 25 } }, { random: () => 0.5 });
    void notifier.emit(attached());
    await notifier.idle();
    // A uniform wait in [0, min(cap, base·2^(n-1))): half of 10, 20, then the cap of 25.
    assert.deepEqual(
      notifier.deliveries().map((r) => r.retryInMs),
      [5, 10, 12, undefined],
    );
    await notifier.close();
  });

  it('close() clears retry timers and drops what waits: no timer is left to keep the process up', async () => {
    server.setAnswer(() => 503);
    const before = liveTimers();
    const { notifier, seen } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }], retry: { attempts: 5, baseMs: 3_600_000, capMs: 3_600_000 } }, { random: () => 0.99 });
    void notifier.emit(attached());
    await waitFor(() => seen.some((r) => r.outcome === 'failed'), 'the first attempt to fail');
    assert.equal(liveTimers(), before + 1, 'the retry waits on a timer');
    await notifier.close();
    assert.equal(liveTimers(), before);
    assert.deepEqual(
      seen.map((r) => r.outcome),
      ['failed', 'dropped'],
    );
    await notifier.idle();
    await notifier.close();
  });

  it('close() waits for an attempt in flight to finish', async () => {
    server.setAnswer(() => 'hold');
    const { notifier } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }] });
    void notifier.emit(attached());
    await waitFor(() => server.heldCount === 1, 'the request to arrive');
    const closed = notifier.close();
    server.release(200);
    await closed;
    assert.deepEqual(
      notifier.deliveries().map((r) => r.outcome),
      ['delivered'],
    );
  });

  it('close() aborts an attempt still in flight after closeTimeoutMs, and emit() after close delivers nothing', async () => {
    server.setAnswer(() => 'hold');
    const before = liveTimers();
    const { notifier, logs } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x`, timeoutMs: 60_000 }] }, { closeTimeoutMs: 50 });
    void notifier.emit(attached());
    await waitFor(() => server.heldCount === 1, 'the request to arrive');
    await notifier.close();
    const [record] = notifier.deliveries();
    assert.equal(record?.outcome, 'dropped');
    assert.match(record.error!, /aborted: the notifier is closing; the notifier closed/);
    assert.equal(liveTimers(), before);

    void notifier.emit(attached());
    assert.equal(logs.find('notification after close; not delivered').length, 1);
    assert.equal(notifier.stats().waiting, 0);
    assert.equal(server.requests.length, 1);
  });

  it('a throwing onDelivery does not stop deliveries', async () => {
    const { notifier, logs } = notifierFor(
      { webhooks: [{ url: `${server.url}/hook/x` }] },
      {
        onDelivery: () => {
          throw new Error('metrics broke');
        },
      },
    );
    void notifier.emit(attached());
    void notifier.emit(attached());
    await notifier.idle();
    assert.equal(server.requests.length, 2);
    assert.equal(logs.find('onDelivery callback failed').length, 2);
    await notifier.close();
  });

  it('keeps the last historySize records', async () => {
    const { notifier } = notifierFor({ webhooks: [{ url: `${server.url}/hook/x` }], retry: FAST_RETRY }, { historySize: 3 });
    const events = Array.from({ length: 5 }, () => attached());
    for (const e of events) void notifier.emit(e);
    await notifier.idle();
    assert.equal(notifier.deliveries().length, 3);
    await notifier.close();
  });

  it('refuses at start-up an auth header file it cannot read, naming the key', () => {
    assert.throws(
      () => notifierFor({ webhooks: [{ url: `${server.url}/a` }, { url: `${server.url}/b`, authHeaderFile: join(dir, 'missing') }] }),
      (err: unknown) => err instanceof ConfigError && /notify\.webhooks\.1\.authHeaderFile: cannot read .*missing: ENOENT/.test(err.message),
    );
  });
});
