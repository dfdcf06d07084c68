import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import { parseConfig } from '../src/config/load.ts';
import { createLogger } from '../src/logger.ts';
import { offlineClients } from '../fake-aws/clients.ts';
import { LogSink } from './helpers/log-sink.ts';
import { settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { worldsClosedAfterEach } from './helpers/world.ts';

/**
 * What an operator reads: /v1/status and /metrics after real traffic through the
 * local AWS, and load shedding on the public listener.
 */
const newWorld = worldsClosedAfterEach();
let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** One sample's value from Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0]!;
    if (want.every((l) => labelText.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function metricsOf(a: App): Promise<string> {
  return (await a.adminApp.inject({ url: '/metrics' })).body;
}

describe('operating pairkeeper', () => {
  it('/metrics follows real traffic: SNS, AWS calls by outcome, attach duration, pairings, lifecycle, pairs per AZ, queue depth', async () => {
    const w = await newWorld({ fake: { autoScalingTiming: { msPerHookSecond: 50 } } });
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 30, notificationTargetArn: w.topicArn });
    const before = await metricsOf(w.app);
    assert.equal(sample(before, 'pairkeeper_attach_duration_seconds_count', { group: 'etcd' }), undefined);
    w.aws.faults.set('EC2', 'AttachNetworkInterface', { failNext: 1, code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
    w.aws.autoScaling.setDesiredCapacity('etcd', 2);
    await settle(w, 2);
    await waitFor(() => [...w.aws.autoScaling.groups()[0]!.members.values()].every((m) => m.lifecycleState === 'InService'), 'both in service');
    await w.app.controller.resyncNow();
    // The launch notifications go out as the instances go in service: let them be handled too.
    await w.aws.sns.idle();
    await w.app.controller.idle();
    const text = await metricsOf(w.app);
    assert.ok(sample(text, 'pairkeeper_sns_messages_total', { type: 'Notification', outcome: 'accepted' })! >= 4, 'lifecycle and launch messages');
    assert.equal(sample(text, 'pairkeeper_autoscaling_events_total', { kind: 'lifecycle-launching' }), 2);
    assert.equal(sample(text, 'pairkeeper_aws_calls_total', { service: 'ec2', action: 'AttachVolume', outcome: 'ok' }), 2);
    assert.equal(sample(text, 'pairkeeper_aws_calls_total', { service: 'ec2', action: 'AttachNetworkInterface', outcome: 'throttled' }), 1);
    assert.equal(sample(text, 'pairkeeper_aws_calls_total', { service: 'autoscaling', action: 'CompleteLifecycleAction', outcome: 'ok' }), 2);
    assert.equal(sample(text, 'pairkeeper_attach_duration_seconds_count', { group: 'etcd' }), 2);
    assert.equal(sample(text, 'pairkeeper_pairings_total', { group: 'etcd', outcome: 'paired' }), 2);
    assert.equal(sample(text, 'pairkeeper_lifecycle_actions_total', { group: 'etcd', result: 'CONTINUE', answer: 'done' }), 2);
    const attached = ['us-east-1a', 'us-east-1b', 'us-east-1c'].map((az) => sample(text, 'pairkeeper_pairs', { group: 'etcd', availability_zone: az, status: 'attached' }) ?? 0);
    assert.equal(attached.reduce((a, b) => a + b, 0), 2);
    const free = ['us-east-1a', 'us-east-1b', 'us-east-1c'].map((az) => sample(text, 'pairkeeper_pairs', { group: 'etcd', availability_zone: az, status: 'free' }) ?? 0);
    assert.equal(free.reduce((a, b) => a + b, 0), w.seeded.pairs.length - 2);
    assert.equal(sample(text, 'pairkeeper_queue_depth'), 0);
    assert.equal(sample(text, 'pairkeeper_instances', { status: 'paired' }), 2);
    assert.ok(sample(text, 'pairkeeper_resyncs_total', { outcome: 'ok' })! >= 2, 'the start-up resync and ours');
  });

  it('/v1/status: version, readiness, last resync, members and pairs per AZ, who waits, problems, failures', async () => {
    const w = await newWorld({ pairs: { pairs: 3 } });
    w.aws.autoScaling.setDesiredCapacity('etcd', 4);
    await settle(w, 3);
    await waitFor(() => w.app.controller.instances().some((r) => r.status === 'waiting'), 'one instance waiting');
    await w.app.controller.resyncNow();
    const status = (await w.app.adminApp.inject({ url: '/v1/status' })).json<Record<string, unknown> & { groups: Record<string, unknown>[] }>();
    assert.match(String(status.version), /^\d+\.\d+\.\d+/);
    assert.equal(status.ready, true);
    assert.equal(status.notReadyReason, undefined);
    const resync = status.resync as { last: { error?: string; actions: Record<string, number> }; lastSuccessAt: string };
    assert.equal(resync.last.error, undefined);
    assert.equal(resync.last.actions.pair, 0, 'the waiting instance is not tried again: its AZ has no pair to give (a release wakes it)');
    const [group] = status.groups;
    assert.equal(group!.name, 'etcd');
    assert.deepEqual(group!.members, { InService: 4 });
    const pairs = group!.pairs as Record<string, Record<string, number>>;
    assert.deepEqual(Object.values(pairs).map((p) => p.attached), [1, 1, 1]);
    const waiting = group!.waiting as { instanceId: string; availabilityZone: string; since: string }[];
    assert.equal(waiting.length, 1);
    assert.deepEqual(group!.problems, []);

    // The same facts for a person at a terminal (and `pairkeeper status`).
    const text = await w.app.adminApp.inject({ url: '/v1/status', headers: { accept: 'text/plain' } });
    assert.match(String(text.headers['content-type']), /^text\/plain/);
    const lines = text.body.split('\n');
    assert.match(lines[0]!, /^pairkeeper \d+\.\d+\.\d+, up \d+ s: ready$/);
    assert.match(lines[1]!, /^resync: last \S+ \(\d+ ms\), last success \S+$/);
    assert.ok(lines.includes('group etcd'));
    assert.ok(lines.includes('  members  4 InService'));
    assert.equal(lines.filter((l) => /^ {2}pairs {4}us-east-1[abc]: 1 attached$/.test(l)).length, 3);
    const [waiter] = waiting;
    assert.ok(lines.includes(`  waiting  ${waiter!.instanceId} (${waiter!.availabilityZone}, since ${waiter!.since})`));
    assert.ok(lines.includes('recent failures: none'));
    const both = await w.app.adminApp.inject({ url: '/v1/status', headers: { accept: 'text/plain, application/json' } });
    assert.equal(both.json<{ ready: boolean }>().ready, true, 'a client that takes JSON gets JSON');
  });

  it('sheds POST /sns with 503 and Retry-After while the event loop lags, and takes requests again after', async () => {
    const logs = new LogSink();
    const config = parseConfig(JSON.stringify({ aws: { region: 'us-east-1' }, sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:t'] }, listen: { maxEventLoopDelayMs: 30 } }), 'test');
    app = await buildApp({ config, logger: createLogger('info', logs), clients: offlineClients() });
    const post = () => app!.publicApp.inject({ method: 'POST', url: '/sns', payload: '{}', headers: { 'content-type': 'text/plain' } });
    assert.equal((await post()).statusCode, 400, 'not overloaded: the bad body is judged');
    // Block the event loop for a second; the load sampler (every 100 ms) then sees the lag for one period.
    const until = Date.now() + 1000;
    while (Date.now() < until);
    let shed = await post();
    await waitFor(async () => (shed = await post()).statusCode === 503, 'a 503 while the lag is seen', 1000);
    assert.equal(shed.headers['retry-after'], '20');
    assert.equal(shed.json<{ code: string }>().code, 'PK_OVERLOADED');
    assert.equal((await app.publicApp.inject({ url: '/healthz' })).statusCode, 200, 'health is not shed');
    assert.ok(sample(await metricsOf(app), 'pairkeeper_sns_shed_total', { reason: 'eventLoopDelay' })! >= 1);
    await waitFor(async () => (await post()).statusCode === 400, 'requests to be judged again', 5000);
  });

  it('does not shed while the event loop is busy in turns far shorter than the threshold', async () => {
    const config = parseConfig(JSON.stringify({ aws: { region: 'us-east-1' }, sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:t'] }, listen: { maxEventLoopDelayMs: 1000 } }), 'test');
    app = await buildApp({ config, logger: createLogger('info', new LogSink()), clients: offlineClients() });
    // A burst of deliveries: turns of about 90 ms of work, each followed by one pass of
    // the timers. The loop never waits more than ~90 ms, a tenth of the threshold; a
    // sampler whose window holds too few ticks of its timer would read that as an
    // infinite delay and shed every delivery of the burst.
    const answers: number[] = [];
    for (let turn = 0; turn < 25; turn++) {
      const until = Date.now() + 90;
      while (Date.now() < until);
      await new Promise((r) => setTimeout(r, 0));
      answers.push((await app.publicApp.inject({ method: 'POST', url: '/sns', payload: '{}', headers: { 'content-type': 'text/plain' } })).statusCode);
    }
    assert.deepEqual(answers.filter((s) => s !== 400), [], 'every delivery judged (400 for the bad body), none shed');
  });
});
