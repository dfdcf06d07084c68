import { bucketBound } from './bucket-bound.ts';
import { percentile, runScaleOut, type ScaleOutResult } from './replica-scale-out.ts';

/**
 * The scale-out benchmark at AWS's real rates (refill ×1): 2 replicas on the SSM store
 * with every launch delivered to both, then 1 replica on the file store. The bound is
 * what all the buckets the necessary calls pass allow (per launch one AttachVolume, one
 * AttachNetworkInterface, one CreateTags and, with SSM, one PutParameter at about 3 a
 * second), plus the longest attach the fake draws (volume 5 s, then ENI 2 s): the last
 * launch cannot be attached sooner than its own attaches take.
 */
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const SSM_WRITES_PER_SECOND = 3;
const LONGEST_ATTACH_S = 5 + 2;

export async function benchReplicas(options: { launches: number }): Promise<void> {
  const n = options.launches;
  for (const setup of [
    { replicas: 2, store: 'ssm' },
    { replicas: 1, store: 'file' },
  ] as const) {
    const result = await runScaleOut({ launches: n, replicas: setup.replicas, store: setup.store, scale: 1, azs: AZS });
    const ec2 = bucketBound({ AttachVolume: n, AttachNetworkInterface: n, CreateTags: n }, { scale: 1 }).seconds;
    const ssm = setup.store === 'ssm' ? Math.max(0, n - SSM_WRITES_PER_SECOND) / SSM_WRITES_PER_SECOND : 0;
    const bound = Math.max(ec2, ssm) + LONGEST_ATTACH_S;
    print(`Scale-out: ${n} launches over ${n} pairs in 3 AZs, ${setup.replicas} replica(s), ${setup.store} store, refill x1, SSM standard throughput`, n, result, {
      bound,
      detail: `EC2 buckets ${ec2.toFixed(1)} s, SSM writes ${ssm.toFixed(1)} s, + longest attach ${LONGEST_ATTACH_S} s`,
    });
  }
}

export function print(title: string, n: number, r: ScaleOutResult, bound: { bound: number; detail: string }): void {
  const wall = r.wallMs / 1000;
  const sum = (prefix: string) => Object.entries(r.calls).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  const ms = (values: number[]) => `p50 ${(percentile(values, 50) / 1000).toFixed(2)} s, p99 ${(percentile(values, 99) / 1000).toFixed(2)} s`;
  console.log(`\n${title}`);
  if (r.owned.length > 1) console.log(`  instances owned by each replica: ${r.owned.join(' / ')}`);
  console.log(`  wall time ${wall.toFixed(1)} s vs all-buckets bound ${bound.bound.toFixed(1)} s (${bound.detail}): ${(wall / bound.bound).toFixed(2)}x (target <= 1.25x)`);
  console.log(`  calls per launch (the other replica's takeover checks included): EC2 ${(sum('EC2:') / n).toFixed(2)} (target <= 4), SSM ${(sum('SSM:') / n).toFixed(2)} (target <= 3); throttled: EC2 ${r.throttled.ec2}, SSM ${r.throttled.ssm}`);
  console.log(`    ${'by action: per launch (calls), until the last CONTINUE / with the takeover checks after it'}`);
  for (const [action, count] of Object.entries(r.calls).sort()) {
    const during = r.callsDuringRun[action] ?? 0;
    console.log(`    ${action.padEnd(40)} ${(during / n).toFixed(2).padStart(6)} (${during}) / ${(count / n).toFixed(2).padStart(6)} (${count})`);
  }
  console.log(`  launch -> attached ${ms(r.attachedMs)}; launch -> CONTINUE ${ms(r.continueMs)}`);
  console.log(`    EC2's own attach time per launch (volume + ENI, each from its call to attached) ${ms(r.attachMs)}; launch -> attached above it ${ms(r.aboveAttachMs)}`);
  console.log(`  POST /sns answers (${r.snsAnswerMs.length}): p50 ${percentile(r.snsAnswerMs, 50).toFixed(1)} ms, p99 ${percentile(r.snsAnswerMs, 99).toFixed(1)} ms`);
  const p = r.pairs;
  console.log(`  pairs: ${p.complete.length} complete, ${p.split.length} split, ${p.double.length} double, ${p.greedy.length} greedy; RSS of the bench process ${r.rssMb.toFixed(0)} MB`);
}
