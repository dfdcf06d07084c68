import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { bucketBound, bucketBoundSeconds, scaleForBound } from '../../bench/bucket-bound.ts';
import { runSmilodonBurst, type SmilodonBurstOptions, type SmilodonBurstResult } from '../../bench/smilodon-peer.ts';
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import { seedPairs, type SeededPair } from '../../fake-aws/ec2/seed.ts';
import type { FakeInstance } from '../../fake-aws/ec2/types.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { waitFor } from '../helpers/wait-for.ts';

const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** The sum over instances of one per-instance counter. */
const total = (r: SmilodonBurstResult, pick: (o: SmilodonBurstResult['instances'][number]) => number | undefined) =>
  sum(r.instances.map((o) => pick(o) ?? 0));
/** Error answers of one action, any code, summed over instances. */
const errorsOf = (r: SmilodonBurstResult, action: string) =>
  total(r, (o) => sum(Object.entries(o.answers).filter(([k]) => k.startsWith(`${action}:`)).map(([, n]) => n)));

describe('Smilodon peer (bench/smilodon-peer.ts)', () => {
  let aws: FakeAws;
  beforeEach(async () => {
    aws = await startFakeAws({ ec2Timing: { attachDelayMs: 20, launchDelayMs: 10 } });
  });
  afterEach(() => aws.close());

  /** Seeds `pairs` etcd pairs plus one decoy pair of another service, and one running instance per etcd pair in its AZ. */
  async function world(pairs: number): Promise<{ seeded: SeededPair[]; instances: FakeInstance[]; decoy: { volumeId: string; eniId: string } }> {
    // Same NodeID tag and AZ as node-1, and first in EC2's order: only the filters keep it out.
    const decoyTags = { Service: 'kafka', NodeID: 'node-1' };
    const decoy = {
      volumeId: aws.ec2.createVolume({ availabilityZone: AZS[0]!, tags: decoyTags }).volumeId,
      eniId: aws.ec2.createNetworkInterface({ availabilityZone: AZS[0]!, tags: decoyTags }).networkInterfaceId,
    };
    const seeded = seedPairs(aws.ec2, { azs: AZS, pairs, tags: { Service: 'etcd' } }).pairs;
    const instances = seeded.map((p) => aws.ec2.runInstance({ availabilityZone: p.az }));
    await waitFor(() => instances.every((i) => i.state === 'running'), 'instances running');
    return { seeded, instances, decoy };
  }

  const options = (instances: FakeInstance[]): SmilodonBurstOptions => ({
    instances: instances.map((i) => ({ instanceId: i.instanceId, availabilityZone: i.availabilityZone })),
    filters: [{ Name: 'tag:Service', Values: ['etcd'] }],
    nodeIdTag: 'NodeID',
    device: '/dev/sdf',
    deviceIndex: 1,
    conflictSleepMs: 20,
    pollIntervalMs: 10,
    maxAttempts: 100,
    deadlineMs: 60_000,
  });

  it('pairs 20 instances over 20 pairs in 3 AZs under throttling: all paired in their AZ, nothing split, counters add up', async () => {
    const { instances, decoy } = await world(20);
    aws.ec2.throttling.enable({ scale: 1000 });
    const r = await runSmilodonBurst(aws, options(instances));

    assert.equal(r.succeeded, 20, JSON.stringify(r.instances.filter((o) => !o.ok).map((o) => o.reason)));
    assert.equal(r.failed, 0);

    // Every instance holds exactly one whole pair, in its own AZ, the one it reported.
    assert.equal(r.pairs.ok, true, JSON.stringify(r.pairs));
    assert.deepEqual([r.pairs.split, r.pairs.double, r.pairs.greedy], [[], [], []]);
    assert.equal(r.pairs.complete.length, 20);
    assert.equal(r.pairs.inTransition, 0);
    assert.equal(r.pairs.nodeIds, 20, 'the decoy shares node-1');
    assert.equal(r.pairs.free, 0);
    for (const i of instances) {
      const held = r.pairs.complete.find((h) => h.instanceId === i.instanceId);
      assert.ok(held, `${i.instanceId} holds a pair`);
      assert.equal(held.availabilityZone, i.availabilityZone);
      assert.deepEqual(aws.ec2.volumesOf(i.instanceId).filter((v) => v.tags.has('NodeID')).map((v) => v.attachment?.device), ['/dev/sdf']);
      assert.deepEqual(aws.ec2.networkInterfacesOf(i.instanceId).filter((e) => e.tags.has('NodeID')).map((e) => e.attachment?.deviceIndex), [1]);
      const outcome = r.instances.find((o) => o.instanceId === i.instanceId)!;
      assert.deepEqual([outcome.nodeId, outcome.volumeId, outcome.networkInterfaceId], [held.nodeId, held.volumeIds[0], held.networkInterfaceIds[0]]);
      assert.equal(outcome.rounds, 1 + sum(Object.values(outcome.roundErrors)), 'every round but the last failed');
      assert.equal(outcome.reason, undefined);
    }
    assert.equal(aws.ec2.volume(decoy.volumeId)?.attachment, undefined, 'the other service’s volume is untouched');
    assert.equal(aws.ec2.networkInterface(decoy.eniId)?.attachment, undefined, 'the other service’s ENI is untouched');

    // The race really ran: instances of one AZ all see the same first pair, one wins.
    const lost = total(r, (o) => o.answers['AttachVolume:VolumeInUse']);
    assert.ok(lost > 0, 'some AttachVolume calls lost the race');
    assert.equal(total(r, (o) => o.roundErrors['AttachVolume:VolumeInUse']), lost, 'VolumeInUse is not retried by the SDK');

    // What the peers counted, HTTP attempt by attempt, is what the fake answered.
    const peerCalls: Record<string, number> = {};
    for (const o of r.instances) for (const [a, n] of Object.entries(o.calls)) peerCalls[a] = (peerCalls[a] ?? 0) + n;
    assert.deepEqual(peerCalls, r.calls);
    assert.deepEqual(Object.keys(r.calls).sort(), ['AttachNetworkInterface', 'AttachVolume', 'DescribeNetworkInterfaces', 'DescribeVolumes']);
    // One successful attach each per instance; every other call is an error answer.
    assert.equal(r.calls.AttachVolume, 20 + errorsOf(r, 'AttachVolume'));
    assert.equal(r.calls.AttachNetworkInterface, 20 + errorsOf(r, 'AttachNetworkInterface'));
    assert.equal(total(r, (o) => o.answers['AttachNetworkInterface:InvalidNetworkInterface.InUse']), 0, 'the volume is the lock: no ENI race');
    // Each round describes both; each wait polls at least once.
    const rounds = total(r, (o) => o.rounds);
    assert.ok(r.calls.DescribeNetworkInterfaces! >= rounds + 20);
    assert.ok(r.calls.DescribeVolumes! >= rounds + 20);
    // The fake's buckets saw the same calls: admitted + throttled per action.
    for (const [action, n] of Object.entries(r.calls)) {
      const b = r.buckets[action];
      assert.ok(b, `${action} is metered`);
      assert.equal(b.calls + b.throttled, n, action);
    }
    assert.equal(r.throttled, total(r, (o) => sum(Object.entries(o.answers).filter(([k]) => k.endsWith(':RequestLimitExceeded')).map(([, n]) => n))));
    // The bound computed from the admitted calls agrees with the fake's own.
    const admitted = Object.fromEntries(Object.entries(r.buckets).map(([k, b]) => [k, b.calls]));
    assert.equal(bucketBoundSeconds(admitted), aws.ec2.throttling.minimumSeconds());
    assert.ok(r.wallMs > 0);
  });

  it('keeps its volume and retries only the ENI when the ENI attach fails past the SDK retries', async () => {
    const { instances } = await world(3); // one per AZ: no race
    // Until one instance has had 3 failures in a row, each absorbs at most 2 in its SDK
    // retries: 7 failures over 3 instances make at least one round fail with the volume held.
    aws.faults.set('EC2', 'AttachNetworkInterface', { failNext: 7, code: 'RequestLimitExceeded', status: 503 });
    const r = await runSmilodonBurst(aws, options(instances));
    assert.equal(r.succeeded, 3);
    assert.equal(r.pairs.ok, true);
    assert.equal(r.pairs.complete.length, 3);
    assert.equal(r.calls.AttachVolume, 3, 'no second volume attach');
    assert.equal(r.calls.AttachNetworkInterface, 3 + 7);
    assert.equal(total(r, (o) => o.answers['AttachNetworkInterface:RequestLimitExceeded']), 7);
    assert.ok(total(r, (o) => o.roundErrors['AttachNetworkInterface:RequestLimitExceeded']) >= 1);
  });

  it('gives up after maxAttempts when no pair is free', async () => {
    const { instances } = await world(3);
    const extra = aws.ec2.runInstance({ availabilityZone: AZS[0]! });
    await waitFor(() => extra.state === 'running', 'extra instance running');
    const r = await runSmilodonBurst(aws, { ...options([...instances, extra]), maxAttempts: 3 });
    assert.equal(r.succeeded, 3);
    const failed = r.instances.filter((o) => !o.ok);
    assert.equal(failed.length, 1);
    // Which of the two in AZ a loses is a race; the loser ends with nothing attached.
    assert.equal(failed[0]!.rounds, 3);
    assert.match(failed[0]!.reason ?? '', /gave up after 3 rounds/);
    assert.equal(failed[0]!.volumeId, undefined);
    assert.equal(r.pairs.ok, true);
  });

  it('checkPairs sees split, double and greedy holdings', async () => {
    const { seeded, instances } = await world(3);
    const [a, b, c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    const [p1, p2, p3] = seeded as [SeededPair, SeededPair, SeededPair];
    assert.deepEqual(checkPairs(aws), { nodeIds: 3, complete: [], free: 3, split: [], double: [], greedy: [], inTransition: 0, ok: true });

    // node-1 (AZ a): volume and ENI on instance a — complete. node-2 (AZ b): volume only — split.
    aws.ec2.attachVolume({ volumeId: p1.volumeId, instanceId: a.instanceId, device: '/dev/sdf' });
    aws.ec2.attachNetworkInterface({ networkInterfaceId: p1.eniId, instanceId: a.instanceId, deviceIndex: 1 });
    aws.ec2.attachVolume({ volumeId: p2.volumeId, instanceId: b.instanceId, device: '/dev/sdf' });
    let check = checkPairs(aws);
    assert.deepEqual(check.complete.map((h) => h.nodeId), ['node-1']);
    assert.deepEqual(check.split.map((h) => [h.nodeId, h.instanceId]), [['node-2', b.instanceId]]);
    assert.equal(check.inTransition, 3);
    assert.equal(check.free, 1);
    assert.equal(check.ok, false);

    // node-3 (AZ c): volume on c, ENI on a second instance in c — double (and split twice).
    const c2 = aws.ec2.runInstance({ availabilityZone: c.availabilityZone });
    await waitFor(() => c2.state === 'running', 'c2 running');
    aws.ec2.attachVolume({ volumeId: p3.volumeId, instanceId: c.instanceId, device: '/dev/sdf' });
    aws.ec2.attachNetworkInterface({ networkInterfaceId: p3.eniId, instanceId: c2.instanceId, deviceIndex: 1 });
    check = checkPairs(aws);
    assert.deepEqual(check.double.map((d) => [d.nodeId, d.holders.map((h) => h.instanceId).sort()]), [['node-3', [c.instanceId, c2.instanceId].sort()]]);
    assert.equal(check.split.length, 3);
    assert.equal(check.free, 0);

    // Instance b takes node-5's ENI as well as node-2's volume: greedy.
    const more = aws.ec2.createNetworkInterface({ availabilityZone: b.availabilityZone, tags: { NodeID: 'node-5' } });
    aws.ec2.attachNetworkInterface({ networkInterfaceId: more.networkInterfaceId, instanceId: b.instanceId, deviceIndex: 1 });
    check = checkPairs(aws);
    assert.deepEqual(check.greedy, [{ instanceId: b.instanceId, nodeIds: ['node-2', 'node-5'] }]);
  });
});

describe('bucketBoundSeconds (bench/bucket-bound.ts)', () => {
  it('is the slowest bucket: calls beyond capacity over refill × scale', () => {
    // Mutating: 50 / 5 per s; CreateTags: 100 / 10 per s.
    const burst = { AttachVolume: 500, AttachNetworkInterface: 500, CreateTags: 500 };
    assert.equal(bucketBoundSeconds(burst), 90);
    assert.equal(bucketBoundSeconds(burst, { scale: 10 }), 9);
    assert.equal(bucketBoundSeconds({ CreateTags: 500 }), 40);
    const detail = bucketBound(burst, { scale: 10 });
    assert.equal(detail.binding, 'AttachVolume');
    assert.deepEqual(detail.buckets.map((b) => [b.key, b.category, b.seconds]), [
      ['AttachVolume', 'mutating', 9],
      ['AttachNetworkInterface', 'mutating', 9],
      ['CreateTags', 'tags', 4],
    ]);
  });

  it('is 0 within capacity, meters unfiltered Describe* in their own bucket, ignores unmetered actions', () => {
    assert.equal(bucketBoundSeconds({ AttachVolume: 50, DescribeVolumes: 100 }), 0);
    assert.equal(bucketBound({ AttachVolume: 50 }).binding, undefined);
    assert.equal(bucketBoundSeconds({ DescribeVolumes: 140 }), 2); // 100 / 20 per s
    assert.equal(bucketBoundSeconds({ 'DescribeVolumes (unfiltered)': 70 }), 2); // 50 / 10 per s
    const r = bucketBound({ PutParameter: 1000, AttachVolume: 55 });
    assert.deepEqual(r.unmetered, ['PutParameter']);
    assert.equal(r.seconds, 1);
  });

  it('with scope category, APIs of a category share one bucket', () => {
    assert.equal(bucketBoundSeconds({ AttachVolume: 500, AttachNetworkInterface: 500 }, { scope: 'category' }), 190);
    assert.equal(bucketBound({ AttachVolume: 500, AttachNetworkInterface: 500 }, { scope: 'category' }).binding, 'mutating');
  });

  it('scaleForBound inverts it', () => {
    const burst = { AttachVolume: 500, AttachNetworkInterface: 500 };
    assert.equal(scaleForBound(burst, 9), 10);
    assert.equal(bucketBoundSeconds(burst, { scale: scaleForBound(burst, 7.5) }), 7.5);
    assert.throws(() => bucketBoundSeconds(burst, { scale: 0 }), /scale/);
  });
});
