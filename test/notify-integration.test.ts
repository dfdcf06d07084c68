import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { ClusterFacts } from '../src/notify/facts.ts';
import type { NotifyEvent } from '../src/domain/notify-event.ts';
import { HookServer } from './helpers/hook-server.ts';
import { settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { worldsClosedAfterEach } from './helpers/world.ts';

/**
 * Notifications and cluster facts end to end: real launches and terminations in the
 * local AWS; pairkeeper tells a local webhook (shaped for salt-api) and a command,
 * keeps the facts file and answers /v1/facts.
 */
const newWorld = worldsClosedAfterEach();
let hook: HookServer | undefined;
afterEach(async () => {
  await hook?.stop();
  hook = undefined;
});

async function start(answer?: ConstructorParameters<typeof HookServer>[0]) {
  hook = await HookServer.start(answer);
  const dir = mkdtempSync(join(tmpdir(), 'pk-notify-'));
  const factsFile = join(dir, 'cluster_facts.json');
  const envLog = join(dir, 'env.log');
  // The command appends the variables it was given, one JSON line per run.
  const script = `require('node:fs').appendFileSync(${JSON.stringify(envLog)}, JSON.stringify({ type: process.env.PAIRKEEPER_EVENT_TYPE, node: process.env.NODE_ID, ip: process.env.NODE_IP, instance: process.env.INSTANCE_ID, volume: process.env.VOLUME_ID, eni: process.env.NETWORK_INTERFACE_ID, group: process.env.GROUP, az: process.env.AVAILABILITY_ZONE }) + '\\n')`;
  const w = await newWorld({
    pairs: { pairs: 3 },
    config: {
      notify: {
        webhooks: [{ url: `${hook.url}/hook/pairkeeper/{type}` }],
        commands: [{ run: [process.execPath, '-e', script], events: ['pair.attached', 'pair.released'] }],
        retry: { attempts: 4, baseMs: 20, capMs: 100 },
        factsFile,
      },
    },
  });
  const commandRuns = () =>
    readFileSync(envLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
  return { w, hook, factsFile, commandRuns };
}

const bodies = (h: HookServer) => h.requests.map((r) => JSON.parse(r.body) as NotifyEvent);

describe('notifications and cluster facts', () => {
  it('attach and release reach the webhook (one tag per type), the command (environment) and the facts file', async () => {
    const { w, hook: h, factsFile, commandRuns } = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    await w.app.notifier.idle();
    await w.app.controller.idle();
    const attached = bodies(h).find((e) => e.type === 'pair.attached')!;
    const eni = w.aws.ec2.networkInterface(held.networkInterfaceIds[0]!)!;
    assert.equal(h.requests[0]!.path, '/hook/pairkeeper/pair/attached');
    assert.match(String(h.requests[0]!.headers['content-type']), /^application\/json/);
    assert.deepEqual(
      { ...attached, id: undefined, time: undefined },
      {
        type: 'pair.attached',
        id: undefined,
        time: undefined,
        group: 'etcd',
        instanceId: held.instanceId,
        nodeId: held.nodeId,
        availabilityZone: held.availabilityZone,
        volumeId: held.volumeIds[0],
        networkInterfaceId: eni.networkInterfaceId,
        privateIp: eni.privateIpAddress,
      },
    );
    assert.deepEqual(commandRuns(), [
      { type: 'pair.attached', node: held.nodeId, ip: eni.privateIpAddress, instance: held.instanceId, volume: held.volumeIds[0], eni: eni.networkInterfaceId, group: 'etcd', az: held.availabilityZone },
    ]);
    const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as ClusterFacts;
    assert.deepEqual(facts.groups.etcd!.nodes, {
      [held.nodeId]: { instanceId: held.instanceId, privateIp: eni.privateIpAddress, volumeId: held.volumeIds[0], device: '/dev/sdf', networkInterfaceId: eni.networkInterfaceId, availabilityZone: held.availabilityZone },
    });
    const route = (await w.app.adminApp.inject({ url: '/v1/facts' })).json<ClusterFacts>();
    assert.deepEqual(route.groups, facts.groups);

    w.aws.autoScaling.terminateInstance(held.instanceId, true);
    await waitFor(async () => (await w.app.controller.claims()).length === 0, 'the release');
    await w.app.notifier.idle();
    await w.app.controller.idle();
    assert.deepEqual(
      bodies(h).map((e) => e.type),
      ['pair.attached', 'pair.released'],
    );
    assert.deepEqual(commandRuns().map((r) => r.type), ['pair.attached', 'pair.released']);
    assert.deepEqual((JSON.parse(readFileSync(factsFile, 'utf8')) as ClusterFacts).groups.etcd!.nodes, {});
  });

  it('an instance with no free pair is told once as instance.waiting, however often it is retried', async () => {
    const { w, hook: h } = await start();
    w.aws.autoScaling.setDesiredCapacity('etcd', 4);
    await settle(w, 3);
    await waitFor(() => w.app.controller.instances().some((r) => r.status === 'waiting'), 'an instance waiting');
    await w.app.controller.resyncNow();
    await w.app.controller.resyncNow();
    await w.app.controller.idle();
    await w.app.notifier.idle();
    const waiting = bodies(h).filter((e) => e.type === 'instance.waiting');
    assert.equal(waiting.length, 1);
    assert.match(String(waiting[0]!.reason), /no free pair in us-east-1/);
  });

  it('an instance that goes while its pair.attached is still being delivered leaves its pair free and untagged (issue 13)', async () => {
    const { w, hook: h } = await start((_n, req) => (req.path.endsWith('/pair/attached') ? 'hold' : 200));
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    await waitFor(() => h.requests.some((r) => r.path.endsWith('/pair/attached')), 'pair.attached to reach the webhook, and be held there');
    w.aws.autoScaling.setDesiredCapacity('etcd', 0);
    await waitFor(() => w.app.controller.instances().some((r) => r.instanceId === held.instanceId && r.status === 'released'), 'the pair to be released');
    // Only now does the webhook answer: the delivery settles after the release.
    h.release();
    await w.app.notifier.idle();
    await w.app.controller.idle();
    const volume = w.aws.ec2.volume(held.volumeIds[0]!)!;
    assert.equal(volume.attachment, undefined);
    assert.equal(volume.tags.get('pairkeeper:instance-id'), undefined, 'a free pair names no holder');
  });

  it('a webhook outage is retried and visible: /v1/events lists the failed attempts, metrics count them, pairing never waits', async () => {
    const { w, hook: h } = await start((n) => (n <= 2 ? 503 : 'hold'));
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await settle(w, 1);
    // The pair is whole and the work done while the third attempt still hangs at the webhook.
    await waitFor(() => h.heldCount === 1, 'the third attempt to reach the webhook');
    assert.equal(w.app.controller.status().queueDepth, 0);
    h.release(200);
    await w.app.notifier.idle();
    assert.equal(h.requests.length, 3, 'two 503s, then delivered');
    const { notifications } = (await w.app.adminApp.inject({ url: '/v1/events' })).json<{ notifications: { kind: string; outcome: string; status?: number }[] }>();
    const webhook = notifications.filter((d) => d.kind === 'webhook').map((d) => [d.outcome, d.status]);
    assert.deepEqual(webhook, [['delivered', 200], ['failed', 503], ['failed', 503]]);
    const metrics = (await w.app.adminApp.inject({ url: '/metrics' })).body;
    assert.match(metrics, /pairkeeper_notifications_total\{kind="webhook",type="pair.attached",outcome="failed"\} 2/);
    assert.match(metrics, /pairkeeper_notifications_total\{kind="webhook",type="pair.attached",outcome="delivered"\} 1/);
    assert.equal(w.logs.find('notification attempt failed; will retry').length, 2);
  });
});
