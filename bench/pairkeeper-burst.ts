/**
 * pairkeeper's side of the burst: `instances` members of an Auto Scaling group in `azs`, one
 * Auto Scaling launch notification each, all published at once through the fake
 * SNS to pairkeeper, with EC2 throttling on at AWS's bucket sizes (refill × scale).
 * Timed from the first delivery until EC2 shows every pair whole and pairkeeper has
 * finished (tags and claims). pairkeeper runs as `pairkeeper serve` in a child
 * process, the fake AWS and the load here, so the resident set measured is the
 * service's alone.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkPairs, type PairCheck } from '../fake-aws/ec2/pair-check.ts';
import { seedPairs } from '../fake-aws/ec2/seed.ts';
import { startFakeAws } from '../fake-aws/index.ts';
import { startPairkeeperService } from './pairkeeper-service.ts';
import { residentMb, sampleResidentPeak } from './process-rss.ts';
import { timingProxy } from './replica-scale-out.ts';

export interface PairkeeperBurstResult {
  wallMs: number;
  /** EC2 calls by action, from the fake's counters. */
  calls: Record<string, number>;
  throttled: number;
  pairs: PairCheck;
  snsAnswerMs: number[];
  /** Resident set of the service's process (VmRSS, MiB): after start-up and its first resync, before the burst. */
  rssIdleMb: number;
  /** Its file-backed part (RssFile) at that moment: the node binary's pages and the libraries'. */
  rssIdleFileMb: number;
  /** Its largest sample (every 50 ms) from the first publish until the work is done. */
  rssPeakMb: number;
}

export async function runPairkeeperBurst(options: { instances: number; pairs: number; azs: string[]; scale: number; attachDelayMs: number }): Promise<PairkeeperBurstResult> {
  const { instances: n, pairs, azs, scale } = options;
  const aws = await startFakeAws({ ec2Timing: { attachDelayMs: options.attachDelayMs, launchDelayMs: 20 } });
  try {
    seedPairs(aws.ec2, { azs, pairs, tags: { Service: 'bench' } });
    // A real group: pairkeeper pairs only the members Auto Scaling names. It notifies no one itself; the burst publishes below.
    aws.autoScaling.createGroup({ name: 'bench', availabilityZones: azs, minSize: 0, maxSize: n, desiredCapacity: 0 });
    const topicArn = aws.sns.createTopic('bench');

    const service = await startPairkeeperService(aws, {
      // pairkeeper's defaults, with its pacing and its read grid (default 1.5 s) scaled like the buckets.
      aws: { region: aws.region, ec2RateScale: scale, pollIntervalMs: Math.max(10, Math.round(1500 / scale)) },
      sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' },
      groups: [{ name: 'bench', filters: 'Service=bench' }],
      claims: { store: 'file', path: join(mkdtempSync(join(tmpdir(), 'pk-bench-')), 'claims.json') },
    });
    try {
      const snsAnswerMs: number[] = [];
      const proxy = await timingProxy(service.publicPort, snsAnswerMs);
      const subscription = aws.sns.subscribe(topicArn, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/sns`);
      for (let waited = 0; !subscription.confirmed; waited += 10) {
        if (waited > 10_000) throw new Error('pairkeeper did not confirm its subscription (is NODE_EXTRA_CA_CERTS set? use npm run bench)');
        await sleep(10);
      }
      // Idle is after start-up and the first resync, as a deployed service waits for its first launch.
      await service.waitFor((s) => s.ready && s.resync.lastSuccessAt !== undefined, 10);

      // Members launched after the first resync, so that only the burst pairs them (the next resync is a minute away).
      aws.autoScaling.setDesiredCapacity('bench', n);
      const group = aws.autoScaling.requireGroup('bench');
      while (group.members.size < n || [...group.members.values()].some((m) => m.lifecycleState !== 'InService')) await sleep(10);
      const launched = [...group.members.values()];
      aws.ec2.throttling.enable({ scale });

      aws.faults.resetCounts();
      const rssIdleMb = residentMb(service.pid);
      const rssIdleFileMb = residentMb(service.pid, 'RssFile');
      const rss = sampleResidentPeak(service.pid, 50);
      // Signing is the fake SNS's work, done synchronously here; deliveries start after the loop, and so does the clock.
      for (const instance of launched) {
        aws.sns.publish(
          topicArn,
          JSON.stringify({
            Event: 'autoscaling:EC2_INSTANCE_LAUNCH',
            AutoScalingGroupName: 'bench',
            EC2InstanceId: instance.instanceId,
            Details: { 'Availability Zone': instance.availabilityZone, 'Subnet ID': instance.subnetId },
            Service: 'AWS Auto Scaling',
          }),
          'Auto Scaling: launch for group "bench"',
        );
      }
      const started = performance.now();
      let check = checkPairs(aws);
      while (check.complete.length < Math.min(n, pairs) || check.inTransition > 0) {
        await sleep(5);
        check = checkPairs(aws);
      }
      await service.waitFor((s) => s.queueDepth === 0, 5); // tags and claims done too
      const wallMs = performance.now() - started;
      const rssPeakMb = rss.stop();
      proxy.close();
      const calls = Object.fromEntries(Object.entries(aws.faults.calls()).filter(([k]) => k.startsWith('EC2:')).map(([k, v]) => [k.slice(4), v]));
      const throttled = Object.values(aws.ec2.throttling.stats()).reduce((sum, b) => sum + b.throttled, 0);
      return { wallMs, calls, throttled, pairs: check, snsAnswerMs, rssIdleMb, rssIdleFileMb, rssPeakMb };
    } finally {
      await service.stop();
    }
  } finally {
    await aws.close();
  }
}
