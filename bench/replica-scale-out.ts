/**
 * A scale-out through the fake Auto Scaling group, at AWS's real rates: `launches`
 * instances launched at once, each held by a launching lifecycle hook whose message
 * SNS delivers to every replica (each is subscribed), EC2 and Parameter Store
 * throttling at AWS's buckets (refill × scale), attaches taking AWS-like seeded times.
 * Measured per launch from its message: both parts attached (EC2's own state) and the
 * hook completed with CONTINUE; calls by API from the fake's counters; POST /sns answer
 * times through a timing proxy in front of each replica.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { clientsFor } from '../fake-aws/clients.ts';
import { checkPairs, type PairCheck } from '../fake-aws/ec2/pair-check.ts';
import { seedPairs } from '../fake-aws/ec2/seed.ts';
import { REALISTIC_ATTACH_DURATIONS } from '../fake-aws/ec2/state.ts';
import { startFakeAws } from '../fake-aws/index.ts';
import { buildApp, type App } from '../src/app.ts';
import { parseConfig } from '../src/config/load.ts';
import { ownerOf } from '../src/domain/replica-owner.ts';

export interface ScaleOutResult {
  wallMs: number;
  /** Calls by `Service:Action`, throttled ones included, until the replicas' takeover checks are done. */
  calls: Record<string, number>;
  /** The same, until the last launch was let go. */
  callsDuringRun: Record<string, number>;
  throttled: { ec2: number; ssm: number };
  /** How many of the instances each replica owns (instance ids are random: the split varies from run to run). */
  owned: number[];
  /** Launch message to both parts in state attached, per launch. */
  attachedMs: number[];
  /** EC2's own attach time per launch: the volume's plus the ENI's, each from its call to attached. */
  attachMs: number[];
  /** Per launch, launch → attached less its own attach time: the reads, waits and bucket turns pairkeeper adds. */
  aboveAttachMs: number[];
  continueMs: number[];
  snsAnswerMs: number[];
  pairs: PairCheck;
  /** Resident set of this process (service, fake AWS and load together) at the end. */
  rssMb: number;
}

export async function runScaleOut(options: { launches: number; replicas: 1 | 2; store: 'file' | 'ssm'; scale: number; azs: string[] }): Promise<ScaleOutResult> {
  const { launches: n, replicas, store, scale, azs } = options;
  const aws = await startFakeAws({ ec2Timing: { launchDelayMs: 20, attachDurations: { ...REALISTIC_ATTACH_DURATIONS, scale } } });
  const proxies: Server[] = [];
  const apps: App[] = [];
  try {
    seedPairs(aws.ec2, { azs, pairs: n, tags: { Service: 'bench' } });
    const topicArn = aws.sns.createTopic('bench');
    aws.autoScaling.createGroup({
      name: 'bench',
      availabilityZones: azs,
      minSize: 0,
      maxSize: n,
      desiredCapacity: 0,
      lifecycleHooks: [{ name: 'pair', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', notificationTargetArn: topicArn, heartbeatTimeout: 3600 }],
    });
    const config = {
      // pairkeeper's defaults (poll grid 1.5 s, resync every 60 s, takeover after 60 s), paced at the fake's rates, SSM buckets shared.
      aws: { region: aws.region, ec2RateScale: scale, ssmRateScale: scale, pollIntervalMs: Math.max(10, Math.round(1500 / scale)) },
      sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' },
      groups: [{ name: 'bench', filters: 'Service=bench' }],
      claims: { store, path: join(mkdtempSync(join(tmpdir(), 'pk-bench-')), 'claims.json') },
    };
    const snsAnswerMs: number[] = [];
    /** When the launch message reached pairkeeper (the first replica, when both get it): where each launch's times start. */
    const messageAt = new Map<string, number>();
    for (let r = 0; r < replicas; r++) {
      const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
      // Each replica told how many they are and which one it is: they split the instances.
      const configText = JSON.stringify({ ...config, replicas: { count: replicas, index: r } });
      const app = await buildApp({ config: parseConfig(configText, 'bench'), logger, clients: clientsFor(aws.url, aws.region) });
      await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
      apps.push(app);
      const proxy = await timingProxy((app.publicApp.server.address() as AddressInfo).port, snsAnswerMs, messageAt);
      proxies.push(proxy);
      const subscription = aws.sns.subscribe(topicArn, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/sns`);
      for (let waited = 0; !subscription.confirmed; waited += 10) {
        if (waited > 10_000) throw new Error('pairkeeper did not confirm its subscription (is NODE_EXTRA_CA_CERTS set? use npm run bench)');
        await sleep(10);
      }
    }
    // Each replica's start-up resync first, as in a running deployment.
    await Promise.all(apps.map((a) => a.controller.resyncNow()));
    snsAnswerMs.length = 0;
    aws.ec2.throttling.enable({ scale });
    aws.ssm.throttling.enable({ scale });
    aws.faults.resetCounts();

    const started = performance.now();
    aws.autoScaling.setDesiredCapacity('bench', n);
    const attached = new Map<string, number>();
    const continued = new Map<string, number>();
    const attachTook = new Map<string, number>();
    const attachWork = new Map<string, number>();
    let check = checkPairs(aws);
    while (continued.size < n) {
      const now = performance.now();
      const group = aws.autoScaling.groups().find((g) => g.name === 'bench')!;
      for (const m of group.members.values()) {
        // CONTINUE is pairkeeper's answer: the hook completed (Pending:Proceed), not the fake's own pause before InService.
        if ((m.lifecycleState === 'Pending:Proceed' || m.lifecycleState === 'InService') && !continued.has(m.instanceId)) continued.set(m.instanceId, now);
      }
      // EC2's own time for each attach: from the call to its state turning attached (seen within a turn of this loop).
      const wall = Date.now();
      for (const v of aws.ec2.volumes()) if (v.attachment?.state === 'attached' && !attachTook.has(v.volumeId)) attachTook.set(v.volumeId, wall - v.attachment.attachTime.getTime());
      for (const e of aws.ec2.networkInterfaces()) {
        if (e.attachment?.status === 'attached' && !attachTook.has(e.networkInterfaceId)) attachTook.set(e.networkInterfaceId, wall - e.attachment.attachTime.getTime());
      }
      check = checkPairs(aws);
      // Attached: both parts in state attached, not only asked for.
      for (const held of check.complete) {
        const parts = [...held.volumeIds, ...held.networkInterfaceIds];
        if (attached.has(held.instanceId) || !parts.every((id) => attachTook.has(id))) continue;
        attached.set(held.instanceId, now);
        attachWork.set(held.instanceId, parts.reduce((sum, id) => sum + attachTook.get(id)!, 0));
      }
      if (now - started > 600_000) throw new Error(`scale-out did not finish in 10 minutes (${continued.size} of ${n} continued)`);
      await sleep(20);
    }
    await Promise.all(apps.map((a) => a.controller.idle()));
    const wallMs = performance.now() - started;
    const callsDuringRun = aws.faults.calls();
    // The calls counted include each replica's checks on the instances it left to the other, when their time comes.
    while (apps.some((a) => a.controller.status().leftToOtherReplicas > 0)) await sleep(100);
    await Promise.all(apps.map((a) => a.controller.idle()));
    const since = (at: Map<string, number>) => [...at].map(([id, t]) => t - (messageAt.get(id) ?? started));
    const ec2Throttled = Object.values(aws.ec2.throttling.stats()).reduce((sum, b) => sum + b.throttled, 0);
    const ssmThrottled = Object.values(aws.ssm.throttling.stats()).reduce((sum, b) => sum + b.throttled, 0);
    return {
      wallMs,
      calls: aws.faults.calls(),
      callsDuringRun,
      throttled: { ec2: ec2Throttled, ssm: ssmThrottled },
      owned: Array.from({ length: replicas }, (_, r) => [...attached.keys()].filter((id) => ownerOf(id, replicas) === r).length),
      attachedMs: since(attached),
      attachMs: [...attachWork.values()],
      aboveAttachMs: [...attached].map(([id, t]) => t - (messageAt.get(id) ?? started) - attachWork.get(id)!),
      continueMs: since(continued),
      snsAnswerMs: [...snsAnswerMs],
      pairs: checkPairs(aws),
      rssMb: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    for (const p of proxies) p.close();
    await Promise.all(apps.map((a) => a.close()));
    await aws.close();
  }
}

/** Forwards POST /sns to pairkeeper on loopback and records how long each answer took. */
/**
 * Forwards SNS deliveries to a replica, timing each answer; `arrivals` (when given)
 * learns when the first message naming each instance (`EC2InstanceId`) arrived.
 */
export async function timingProxy(targetPort: number, answersMs: number[], arrivals?: Map<string, number>): Promise<Server> {
  const server = createServer((req, res) => {
    const t0 = performance.now();
    const out = request({ host: '127.0.0.1', port: targetPort, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => answersMs.push(performance.now() - t0));
    });
    out.on('error', () => res.writeHead(502).end());
    const body: Buffer[] = [];
    if (arrivals) req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const instanceId = arrivals && instanceNamed(Buffer.concat(body).toString());
      if (instanceId && !arrivals.has(instanceId)) arrivals.set(instanceId, t0);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The instance an SNS notification's message names, if any. */
function instanceNamed(body: string): string | undefined {
  try {
    const message = JSON.parse((JSON.parse(body) as { Message?: string }).Message ?? '{}') as { EC2InstanceId?: unknown };
    return typeof message.EC2InstanceId === 'string' ? message.EC2InstanceId : undefined;
  } catch {
    return undefined;
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
