import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import { assertInvariants } from '../helpers/settle.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { AZS, type World, worldsClosedAfterEach } from '../helpers/world.ts';
import { seededRandom } from '../../fake-aws/random.ts';

/**
 * The "done when": with SNS dropping, duplicating and reordering messages at
 * random, a launch lifecycle hook, and pairkeeper killed and restarted at random
 * moments while the group scales up and down and loses instances, every running
 * member ends with exactly one whole pair and no claim outlives its instance. Each
 * seed fixes both the world's randomness and the script of operations.
 */
const SEEDS = [11, 23, 37];
const RESYNC_SECONDS = 0.3;
const FINAL_SIZE = 6;

const newWorld = worldsClosedAfterEach();


function runningMembers(w: World): string[] {
  const group = w.aws.autoScaling.groups()[0]!;
  return [...group.members.values()]
    .filter((m) => ['InService', 'Pending:Wait', 'Pending:Proceed'].includes(m.lifecycleState) && w.aws.ec2.instance(m.instanceId)?.state === 'running')
    .map((m) => m.instanceId)
    .sort();
}

/** Converged: every in-service member holds one whole pair, and the claims name exactly those holders. */
async function converged(w: World): Promise<{ ok: boolean; detail: string }> {
  const group = w.aws.autoScaling.groups()[0]!;
  const inService = [...group.members.values()].filter((m) => m.lifecycleState === 'InService').map((m) => m.instanceId).sort();
  const check = checkPairs(w.aws);
  const holders = check.complete.map((p) => p.instanceId).sort();
  const claimed = (await w.replicas[0]!.app.controller.claims('etcd')).map((c) => c.instanceId).sort();
  const ok =
    inService.length === FINAL_SIZE &&
    runningMembers(w).length === FINAL_SIZE &&
    check.inTransition === 0 &&
    JSON.stringify(holders) === JSON.stringify(inService) &&
    JSON.stringify(claimed) === JSON.stringify(inService);
  return { ok, detail: JSON.stringify({ inService, holders, claimed, split: check.split.length, double: check.double.length }) };
}

describe('convergence under lost, duplicated and reordered messages and restarts', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, async () => {
      const random = seededRandom(seed);
      const w = await newWorld({
        claims: 'ssm',
        pairs: { pairs: 4 * AZS.length },
        fake: { seed, autoScalingTiming: { msPerHookSecond: 50, retryDelayMs: 200 } },
        config: {
          resync: { intervalSeconds: RESYNC_SECONDS },
          groups: [{ name: 'etcd', filters: 'Service=etcd', lifecycle: { noPairWaitSeconds: 0.5, heartbeatFraction: 0.2 } }],
        },
      });
      w.aws.autoScaling.putLifecycleHook('etcd', {
        name: 'pk-launch',
        transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeout: 30,
        notificationTargetArn: w.topicArn,
      });
      w.aws.sns.chaos = { dropRate: 0.25, duplicateRate: 0.25, delayMs: [0, 40] };

      const script: string[] = [];
      for (let step = 0; step < 12; step++) {
        const roll = random();
        if (roll < 0.4) {
          const size = Math.floor(random() * 10);
          script.push(`desired ${size}`);
          w.aws.autoScaling.setDesiredCapacity('etcd', size);
        } else if (roll < 0.7) {
          const running = runningMembers(w);
          const victim = running[Math.floor(random() * running.length)];
          if (victim) {
            script.push(`terminate ${victim}`);
            w.aws.autoScaling.terminateInstance(victim, false);
          }
        } else {
          script.push('restart');
          await w.restart(w.replicas[0]!);
        }
        await new Promise((r) => setTimeout(r, 50 + random() * 250));
      }
      script.push(`desired ${FINAL_SIZE}`);
      w.aws.autoScaling.setDesiredCapacity('etcd', FINAL_SIZE);

      let last = { ok: false, detail: '' };
      await waitFor(async () => (last = await converged(w)).ok, `convergence (script: ${script.join('; ')})`, 45_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last seen: ${last.detail}`);
      });
      assertInvariants(checkPairs(w.aws));
      // Stays converged over the next resync periods: nothing undoes it.
      await new Promise((r) => setTimeout(r, 3 * RESYNC_SECONDS * 1000));
      const after = await converged(w);
      assert.ok(after.ok, after.detail);
      assertInvariants(checkPairs(w.aws));
    });
  }
});
