import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPairs } from '../fake-aws/ec2/pair-check.ts';
import { assertInvariants, members, settle } from './helpers/settle.ts';
import { waitFor } from './helpers/wait-for.ts';
import { worldsClosedAfterEach } from './helpers/world.ts';

const start = worldsClosedAfterEach();

/**
 * A full work queue sheds (503 to SNS, resync work deferred to the next run) and
 * never crashes the process, from every path that queues work: SNS messages, resync,
 * the controller's own retry timers, and the wake-ups of a release (issue 13 #3).
 */
describe('overload', () => {
  it('a queue limit of 2 under 12 launches, a throttling storm and releases: no crash, 503s to SNS, and everything converges', async () => {
    const w = await start({ config: { work: { concurrency: 1, queueLimit: 2 } }, pairs: { pairs: 9, tags: { Service: 'etcd' } } });
    // Every attach fails for a while: retries pile up on timers while the queue is full.
    w.aws.faults.set('EC2', 'AttachVolume', { errorRate: 1, code: 'InternalError', status: 500 });
    w.aws.autoScaling.setDesiredCapacity('etcd', 12);
    await waitFor(() => w.aws.sns.deliveries.some((d) => d.status === 503), 'SNS to be told 503 at least once');
    await waitFor(() => w.logs.find('pair failed; will try again').length >= 3, 'retry timers to be set', 30_000);
    // Resync while full: its work is deferred, never thrown.
    await w.app.controller.resyncNow();
    w.aws.faults.clear();
    // Terminate a few: their releases wake the instances that wait, into a full queue.
    const gone = members(w).slice(0, 3);
    for (const m of gone) w.aws.autoScaling.terminateInstance(m.instanceId);
    // Resync heals what the shed messages missed: all 9 pairs end up whole on members (12 members, 9 pairs).
    await waitFor(async () => {
      await w.app.controller.resyncNow();
      const check = checkPairs(w.aws);
      return check.inTransition === 0 && check.complete.length === 9 && check.complete.every((p) => members(w).some((m) => m.instanceId === p.instanceId));
    }, 'all 9 pairs whole on members', 60_000);
    assertInvariants(await settle(w, 9));
    assert.ok(w.logs.find(/queue is full/).length > 0, 'the deferrals were logged');
  });
});
