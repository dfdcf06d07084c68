import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldsClosedAfterEach } from './helpers/world.ts';
import { assertInvariants, settle } from './helpers/settle.ts';

/**
 * Two replicas on the SSM store, every launch message delivered to both (each replica
 * is subscribed), with EC2's and Parameter Store's throttling on at AWS's bucket sizes
 * (refill sped up): the calls per launch are counted, so a regression in how replicas
 * split the work (a list per launch, a race both replicas carry into EC2, a second
 * write per claim) fails here. Not timed: counts only.
 */
const start = worldsClosedAfterEach();
const LAUNCHES = 24;
/** AWS's refill rates sped up this much, in the fake and in each replica's pacing (half the SSM buckets each). */
const SCALE = 20;
const AWS = { region: 'us-east-1', ec2RateScale: SCALE, pollIntervalMs: 500, attachTimeoutSeconds: 20 };

describe('two replicas share the work', () => {
  it(`${LAUNCHES} launches, each delivered to both: one attach of each kind per launch, EC2 <= 4 and SSM <= 3 calls per launch, resyncs included`, async () => {
    const w = await start({ claims: 'ssm', pairs: { pairs: LAUNCHES, tags: { Service: 'etcd' } }, config: { resync: { intervalSeconds: 30 }, aws: { ...AWS, ssmRateScale: SCALE, ssmShare: 0.5 } } });
    await w.addReplica();
    // Counted from here. The periodic resync (30 s here) stays out of this short run: under a
    // loaded CI machine it takes up launches still in flight and the counts would say more about
    // the machine than about collisions; the bench counts resyncs at a real period.
    w.aws.faults.resetCounts();
    w.aws.ec2.throttling.enable({ scale: SCALE });
    w.aws.ssm.throttling.enable({ scale: SCALE });
    w.aws.autoScaling.setDesiredCapacity('etcd', LAUNCHES);
    assertInvariants(await settle(w, LAUNCHES, 60_000));
    const per = (service: 'EC2' | 'SSM', action?: string) => {
      const calls = Object.entries(w.aws.faults.calls()).filter(([key]) => (action ? key === `${service}:${action}` : key.startsWith(`${service}:`)));
      return calls.reduce((sum, [, n]) => sum + n, 0) / LAUNCHES;
    };
    const ssm = w.aws.ssm.throttling.stats();
    const counts = JSON.stringify({ calls: w.aws.faults.calls(), ssm });
    assert.ok(per('EC2', 'AttachVolume') <= 1.05, `AttachVolume per launch: ${counts}`);
    assert.ok(per('EC2', 'AttachNetworkInterface') <= 1.05, `AttachNetworkInterface per launch: ${counts}`);
    assert.ok(per('EC2') <= 4, `EC2 per launch: ${counts}`);
    // Parameter Store as it admitted the calls (a throttled call is retried after pacing
    // missed by a few milliseconds at this sped-up refill). Each launch reaches both
    // replicas: one create wins, the other answers "already exists" and that claim is
    // read once, so 2 writes and 1 read per launch is this design's floor; the rest are
    // launches of different instances that ran into each other's claims. Rendezvous order
    // makes those rare, not impossible (two instances can rank the same free pair first
    // while neither replica has seen the other's claim yet): up to 3 in 24 launches.
    const admitted = (bucket: string) => (ssm[bucket]?.calls ?? 0) / LAUNCHES;
    assert.ok(admitted('write') <= 2 + 3 / LAUNCHES, `writes per launch: ${counts}`);
    assert.ok(admitted('write') + admitted('read') + admitted('read-by-path') <= 3.25, `SSM per launch: ${counts}`);
    const claims = await w.app.controller.claims('etcd');
    assert.equal(new Set(claims.map((c) => c.instanceId)).size, LAUNCHES);
  });
});
