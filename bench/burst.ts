import { bucketBound, scaleForBound } from './bucket-bound.ts';
import { fastifyFloorMb } from './fastify-floor.ts';
import { runPairkeeperBurst } from './pairkeeper-burst.ts';
import { percentile } from './replica-scale-out.ts';
import { benchSmilodonBurst } from './smilodon-peer.ts';

/**
 * The burst benchmark: N launches at once over N pairs in 3 AZs, EC2 throttling on
 * at AWS's bucket sizes, refill scaled so the bound is a few seconds. pairkeeper and
 * the Smilodon-style peer run the same burst, one after the other, in this run.
 * The bound is the least time AWS's buckets allow for the calls any pairing must
 * make: per launch one AttachVolume, one AttachNetworkInterface, one CreateTags.
 */
/** How long the fake takes for one attach at refill x1 (divided by the scale). */
const ATTACH_DELAY_MS = 2000;
const MUTATING = new Set(['AttachVolume', 'AttachNetworkInterface', 'DetachNetworkInterface', 'ModifyNetworkInterfaceAttribute']);

export async function benchBurst(options: { instances: number; boundSeconds: number }): Promise<void> {
  const n = options.instances;
  const azs = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  const required = { AttachVolume: n, AttachNetworkInterface: n, CreateTags: n };
  const scale = scaleForBound(required, options.boundSeconds);
  // The last launch still waits for its own two attaches (the fake's attach delay, scaled like the buckets).
  const attachSeconds = (2 * ATTACH_DELAY_MS) / scale / 1000;
  const bound = bucketBound(required, { scale }).seconds + attachSeconds;

  const floorMb = await fastifyFloorMb();
  const pk = await runPairkeeperBurst({ instances: n, pairs: n, azs, scale, attachDelayMs: ATTACH_DELAY_MS / scale });
  const total = Object.values(pk.calls).reduce((a, b) => a + b, 0);
  const mutating = Object.entries(pk.calls).filter(([a]) => MUTATING.has(a)).reduce((s, [, v]) => s + v, 0);
  const per = (x: number, digits = 2) => (x / n).toFixed(digits);
  console.log(`\nBurst: ${n} launches at once over ${n} pairs in 3 AZs, EC2 buckets at AWS's sizes, refill x${scale.toFixed(2)}`);
  console.log(`pairkeeper`);
  console.log(
    `  wall time ${(pk.wallMs / 1000).toFixed(2)} s vs bound ${bound.toFixed(2)} s (buckets ${(bound - attachSeconds).toFixed(2)} s + two attaches ${attachSeconds.toFixed(2)} s): ${(pk.wallMs / 1000 / bound).toFixed(2)}x (target <= 1.25x)`,
  );
  console.log(`  POST /sns answers during the burst: p50 ${percentile(pk.snsAnswerMs, 50).toFixed(1)} ms, p99 ${percentile(pk.snsAnswerMs, 99).toFixed(1)} ms (SNS gives up at 15 s)`);
  console.log(`  service RSS (child process): ${pk.rssIdleMb.toFixed(0)} MB idle (target <= 80), ${pk.rssPeakMb.toFixed(0)} MB at the burst's peak (target <= 150)`);
  console.log(`    idle, file-backed (the node binary's pages and libraries'): ${pk.rssIdleFileMb.toFixed(0)} MB; a Fastify hello server with pino, same node and flags: ${floorMb.toFixed(0)} MB`);
  console.log(`  EC2 calls per launch: ${per(total)} in all (target <= 3.5); mutating ${per(mutating, 3)} (target 2; above it only by throttled retries: ${pk.throttled})`);
  for (const [action, count] of Object.entries(pk.calls)) console.log(`    ${action.padEnd(28)} ${per(count).padStart(6)}  (${count})`);
  const p = pk.pairs;
  console.log(`  pairs: ${p.complete.length} complete, ${p.split.length} split, ${p.double.length} double, ${p.greedy.length} greedy — ${p.ok ? 'OK' : 'BROKEN'}`);

  await benchSmilodonBurst({ instances: n, pairs: n, azs, scale });
}
