import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { checkPairs, type PairCheck } from '../fake-aws/ec2/pair-check.ts';
import { seedPairs } from '../fake-aws/ec2/seed.ts';
import { startFakeAws } from '../fake-aws/index.ts';
import { buildApp } from '../src/app.ts';
import { parseConfig } from '../src/config/load.ts';
import { clientsFor } from '../fake-aws/clients.ts';

/**
 * pairkeeper's side of the burst: `instances` running instances in `azs`, one
 * Auto Scaling launch notification each, all published at once through the fake
 * SNS to a pairkeeper listening for real, with EC2 throttling on at AWS's bucket
 * sizes (refill × scale). Timed from the first delivery until EC2 shows every pair
 * whole and pairkeeper has finished (tags and claims).
 */
const GROUP_TAG = { 'aws:autoscaling:groupName': 'bench' };

export interface PairkeeperBurstResult {
  wallMs: number;
  /** EC2 calls by action, from the fake's counters. */
  calls: Record<string, number>;
  throttled: number;
  pairs: PairCheck;
}

export async function runPairkeeperBurst(options: { instances: number; pairs: number; azs: string[]; scale: number }): Promise<PairkeeperBurstResult> {
  const { instances: n, pairs, azs, scale } = options;
  const aws = await startFakeAws({ ec2Timing: { attachDelayMs: 2000 / scale, launchDelayMs: 20 } });
  try {
    seedPairs(aws.ec2, { azs, pairs, tags: { Service: 'bench' } });
    // Launched as the group's: pairkeeper refuses a launch unless Auto Scaling's own tag names the group.
    const launched = Array.from({ length: n }, (_, k) => aws.ec2.runInstance({ availabilityZone: azs[k % azs.length]!, tags: GROUP_TAG }));
    while (launched.some((i) => i.state !== 'running')) await sleep(10);
    const topicArn = aws.sns.createTopic('bench');

    const config = parseConfig(
      JSON.stringify({
        // pairkeeper's defaults, with its pacing and its read grid (default 1.5 s) scaled like the buckets.
        aws: { region: aws.region, ec2RateScale: scale, pollIntervalMs: Math.max(10, Math.round(1500 / scale)) },
        sns: { topicArns: [topicArn], certHostPattern: '^localhost:\\d+$' },
        groups: [{ name: 'bench', filters: 'Service=bench' }],
        claims: { store: 'file', path: join(mkdtempSync(join(tmpdir(), 'pk-bench-')), 'claims.json') },
      }),
      'bench',
    );
    const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
    const app = await buildApp({ config, logger, clients: clientsFor(aws.url, aws.region) });
    await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
    const subscription = aws.sns.subscribe(topicArn, `http://127.0.0.1:${(app.publicApp.server.address() as AddressInfo).port}/sns`);
    for (let waited = 0; !subscription.confirmed; waited += 10) {
      if (waited > 10_000) throw new Error('pairkeeper did not confirm its subscription (is NODE_EXTRA_CA_CERTS set? use npm run bench)');
      await sleep(10);
    }

    aws.ec2.throttling.enable({ scale });

    aws.faults.resetCounts();
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
    await app.controller.idle(); // tags and claims done too
    const wallMs = performance.now() - started;
    const calls = Object.fromEntries(Object.entries(aws.faults.calls()).filter(([k]) => k.startsWith('EC2:')).map(([k, v]) => [k.slice(4), v]));
    const throttled = Object.values(aws.ec2.throttling.stats()).reduce((sum, b) => sum + b.throttled, 0);
    await app.close();
    return { wallMs, calls, throttled, pairs: check };
  } finally {
    await aws.close();
  }
}
