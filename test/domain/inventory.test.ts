import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPairs, eniHolders, freePairs, pairStatus } from '../../src/domain/inventory.ts';
import { compareNodeIds } from '../../src/domain/text-order.ts';
import type { Attachment, Claim, EniInfo, Pair, VolumeInfo } from '../../src/domain/pairs.ts';

const AZ = 'us-east-1a';
const OTHER_AZ = 'us-east-1b';

function volume(volumeId: string, nodeId: string | undefined, extra: Partial<VolumeInfo> = {}): VolumeInfo {
  return { volumeId, availabilityZone: AZ, state: 'available', tags: nodeId === undefined ? {} : { NodeID: nodeId }, attachment: undefined, ...extra };
}

function eni(networkInterfaceId: string, nodeId: string | undefined, extra: Partial<EniInfo> = {}): EniInfo {
  return {
    networkInterfaceId,
    availabilityZone: AZ,
    status: 'available',
    privateIpAddress: '10.0.0.1',
    tags: nodeId === undefined ? {} : { NodeID: nodeId },
    attachment: undefined,
    ...extra,
  };
}

function attachedTo(instanceId: string): Attachment {
  return { instanceId, state: 'attached' };
}

function claim(nodeId: string, instanceId: string, state: Claim['state'] = 'claimed'): Claim {
  return { group: 'g', nodeId, instanceId, state, since: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' };
}

/** One usable pair, built the way the service builds it. */
function usablePair(nodeId: string, options: { az?: string; volumeHolder?: string; eniHolder?: string } = {}): Pair {
  const az = options.az ?? AZ;
  const v = volume(`vol-${nodeId}`, nodeId, {
    availabilityZone: az,
    state: options.volumeHolder ? 'in-use' : 'available',
    attachment: options.volumeHolder ? attachedTo(options.volumeHolder) : undefined,
  });
  const n = eni(`eni-${nodeId}`, nodeId, {
    availabilityZone: az,
    status: options.eniHolder ? 'in-use' : 'available',
    attachment: options.eniHolder ? attachedTo(options.eniHolder) : undefined,
  });
  const [pair] = buildPairs('g', 'NodeID', [v], [n]);
  assert.equal(pair?.condition, 'usable');
  return pair;
}

describe('buildPairs', () => {
  it('pairs one volume and one ENI with the same NodeID in the same AZ as usable', () => {
    const v = volume('vol-1', 'node-1');
    const n = eni('eni-1', 'node-1');
    assert.deepEqual(buildPairs('web', 'NodeID', [v], [n]), [
      { group: 'web', nodeId: 'node-1', volume: v, eni: n, availabilityZone: AZ, condition: 'usable', problem: undefined },
    ]);
  });

  it('never makes a pair of a Multi-Attach volume: EC2 would not refuse its second holder (invariant 2)', () => {
    const pairs = buildPairs('web', 'NodeID', [volume('vol-1', 'node-1', { multiAttachEnabled: true })], [eni('eni-1', 'node-1')]);
    assert.equal(pairs[0]?.condition, 'broken');
    assert.match(pairs[0]?.problem ?? '', /Multi-Attach/);
    assert.deepEqual(freePairs(pairs, [], AZ), []);
  });

  it('accepts an in-use volume as usable (a pair already attached somewhere)', () => {
    const [pair] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1', { state: 'in-use', attachment: attachedTo('i-1') })], [eni('eni-1', 'node-1')]);
    assert.equal(pair?.condition, 'usable');
  });

  it('reads the NodeID from the configured tag name', () => {
    const v = volume('vol-1', undefined, { tags: { PairId: 'p-1', NodeID: 'ignored' } });
    const n = eni('eni-1', undefined, { tags: { PairId: 'p-1' } });
    const pairs = buildPairs('g', 'PairId', [v], [n]);
    assert.deepEqual(
      pairs.map((p) => [p.nodeId, p.condition]),
      [['p-1', 'usable']],
    );
  });

  it('reports a volume without an ENI as incomplete, with the AZ of the half it has', () => {
    const v = volume('vol-1', 'node-1', { availabilityZone: OTHER_AZ });
    const [pair, ...rest] = buildPairs('g', 'NodeID', [v], []);
    assert.equal(rest.length, 0);
    assert.equal(pair?.condition, 'incomplete');
    assert.equal(pair.problem, 'no ENI with this NodeID');
    assert.equal(pair.volume, v);
    assert.equal(pair.eni, undefined);
    assert.equal(pair.availabilityZone, OTHER_AZ);
  });

  it('reports an ENI without a volume as incomplete', () => {
    const n = eni('eni-1', 'node-1', { availabilityZone: OTHER_AZ });
    const [pair] = buildPairs('g', 'NodeID', [], [n]);
    assert.equal(pair?.condition, 'incomplete');
    assert.equal(pair.problem, 'no volume with this NodeID');
    assert.equal(pair.volume, undefined);
    assert.equal(pair.eni, n);
    assert.equal(pair.availabilityZone, OTHER_AZ);
  });

  it('reports a volume and ENI in different AZs as broken', () => {
    const [pair] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1')], [eni('eni-1', 'node-1', { availabilityZone: OTHER_AZ })]);
    assert.equal(pair?.condition, 'broken');
    assert.match(pair.problem ?? '', /us-east-1a.*us-east-1b/);
  });

  it('reports two volumes sharing a NodeID as broken, naming no volume', () => {
    const [pair, ...rest] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1'), volume('vol-2', 'node-1')], [eni('eni-1', 'node-1')]);
    assert.equal(rest.length, 0);
    assert.equal(pair?.condition, 'broken');
    assert.equal(pair.volume, undefined);
    assert.match(pair.problem ?? '', /2 volumes/);
  });

  it('reports two ENIs sharing a NodeID as broken, naming no ENI', () => {
    const [pair] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1')], [eni('eni-1', 'node-1'), eni('eni-2', 'node-1')]);
    assert.equal(pair?.condition, 'broken');
    assert.equal(pair.eni, undefined);
    assert.match(pair.problem ?? '', /2 ENIs/);
  });

  it('reports two volumes and no ENI as broken rather than incomplete', () => {
    const [pair] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1'), volume('vol-2', 'node-1')], []);
    assert.equal(pair?.condition, 'broken');
  });

  for (const state of ['error', 'creating', 'deleting']) {
    it(`reports a volume in state ${state} as broken`, () => {
      const [pair] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1', { state })], [eni('eni-1', 'node-1')]);
      assert.equal(pair?.condition, 'broken');
      assert.equal(pair.problem, `volume is ${state}`);
    });
  }

  it('ignores volumes and ENIs without the NodeID tag (or with it empty)', () => {
    const pairs = buildPairs(
      'g',
      'NodeID',
      [volume('vol-untagged', undefined), volume('vol-empty', ''), volume('vol-1', 'node-1'), volume('vol-other', undefined, { tags: { Name: 'node-1' } })],
      [eni('eni-untagged', undefined), eni('eni-1', 'node-1')],
    );
    assert.deepEqual(
      pairs.map((p) => [p.nodeId, p.condition, p.volume?.volumeId, p.eni?.networkInterfaceId]),
      [['node-1', 'usable', 'vol-1', 'eni-1']],
    );
  });

  it('gives no pairs for no resources', () => {
    assert.deepEqual(buildPairs('g', 'NodeID', [], []), []);
  });

  it('orders pairs by NodeID with numbers compared as numbers', () => {
    const ids = ['node-10', 'node-2', 'node-1', 'node-100', 'node-9'];
    const pairs = buildPairs(
      'g',
      'NodeID',
      ids.map((id) => volume(`vol-${id}`, id)),
      [...ids].reverse().map((id) => eni(`eni-${id}`, id)),
    );
    assert.deepEqual(
      pairs.map((p) => p.nodeId),
      ['node-1', 'node-2', 'node-9', 'node-10', 'node-100'],
    );
    assert.ok(pairs.every((p) => p.condition === 'usable' && p.volume?.volumeId === `vol-${p.nodeId}` && p.eni?.networkInterfaceId === `eni-${p.nodeId}`));
  });

  it('sorts every condition into the same NodeID order', () => {
    const pairs = buildPairs('g', 'NodeID', [volume('vol-10', 'node-10'), volume('vol-3', 'node-3')], [eni('eni-2', 'node-2'), eni('eni-3', 'node-3')]);
    assert.deepEqual(
      pairs.map((p) => [p.nodeId, p.condition]),
      [
        ['node-2', 'incomplete'],
        ['node-3', 'usable'],
        ['node-10', 'incomplete'],
      ],
    );
  });
});

describe('NodeIDs are tag values, validated before use (issue 12)', () => {
  const hostile = ['a b', 'x\ny', '../etc', '-leading-dash', 'i-*', '$(reboot)', 'ü', 'n'.repeat(65), 'semi;colon'];
  for (const nodeId of hostile) {
    it(`${JSON.stringify(nodeId.slice(0, 20))}: broken, never free, shown quoted and bounded`, () => {
      const pairs = buildPairs('g', 'NodeID', [volume('vol-1', nodeId)], [eni('eni-1', nodeId)]);
      assert.equal(pairs.length, 1);
      assert.equal(pairs[0]!.condition, 'broken');
      assert.match(pairs[0]!.problem ?? '', /is not valid/);
      assert.ok(pairs[0]!.nodeId.startsWith('"') && !/[\n\r]/.test(pairs[0]!.nodeId) && pairs[0]!.nodeId.length <= 70);
      assert.deepEqual(freePairs(pairs, [], AZ), []);
    });
  }

  it('accepts the documented set: letters, digits, dots, dashes, underscores, 1 to 64', () => {
    for (const nodeId of ['1', 'etcd-1', 'zk_03', 'kafka.2', 'N'.repeat(64)]) {
      const pairs = buildPairs('g', 'NodeID', [volume('vol-1', nodeId)], [eni('eni-1', nodeId)]);
      assert.equal(pairs[0]!.condition, 'usable', nodeId);
    }
  });
});

describe('compareNodeIds', () => {
  it('compares numbers inside ids as numbers', () => {
    assert.ok(compareNodeIds('node-2', 'node-10') < 0);
    assert.ok(compareNodeIds('node-10', 'node-2') > 0);
    assert.equal(compareNodeIds('node-7', 'node-7'), 0);
  });

  it('orders a whole set as people count: numbers by value wherever they stand, leading zeros after the same number without, letters before longer names', () => {
    const ids = ['zk-10', 'etcd-2.1', 'etcd-10', 'etcd-2', 'etcd-02', 'etcd-1', 'etcd', 'etcd-2.10', 'etcd-2.9', 'kafka_3', 'kafka_20', '9', '10', 'etcd-1a', 'etcd-1b'];
    assert.deepEqual([...ids].sort(compareNodeIds), ['9', '10', 'etcd', 'etcd-1', 'etcd-1a', 'etcd-1b', 'etcd-2', 'etcd-02', 'etcd-2.1', 'etcd-2.9', 'etcd-2.10', 'etcd-10', 'kafka_3', 'kafka_20', 'zk-10']);
    assert.ok(compareNodeIds('n-99999999999999999999', 'n-100000000000000000000') < 0, 'numbers longer than a double holds');
  });
});

describe('pairStatus', () => {
  it('is free for an unclaimed pair with nothing attached', () => {
    assert.deepEqual(pairStatus(usablePair('node-1'), undefined), { status: 'free', holder: undefined });
  });

  it('is claimed, held by the claimant, while the claim has no attachments yet', () => {
    assert.deepEqual(pairStatus(usablePair('node-1'), claim('node-1', 'i-1')), { status: 'claimed', holder: 'i-1' });
  });

  it('is claimed while only the volume is attached to the claimant', () => {
    assert.deepEqual(pairStatus(usablePair('node-1', { volumeHolder: 'i-1' }), claim('node-1', 'i-1')), { status: 'claimed', holder: 'i-1' });
  });

  it('is attached when both halves are attached to the claimant', () => {
    assert.deepEqual(pairStatus(usablePair('node-1', { volumeHolder: 'i-1', eniHolder: 'i-1' }), claim('node-1', 'i-1', 'attached')), {
      status: 'attached',
      holder: 'i-1',
    });
  });

  it('is claimed, not attached, when EC2 disagrees with an "attached" claim', () => {
    assert.deepEqual(pairStatus(usablePair('node-1'), claim('node-1', 'i-1', 'attached')), { status: 'claimed', holder: 'i-1' });
  });

  it('is claimed, not attached, when both halves are attached to another instance than the claimant', () => {
    assert.deepEqual(pairStatus(usablePair('node-1', { volumeHolder: 'i-2', eniHolder: 'i-2' }), claim('node-1', 'i-1')), { status: 'claimed', holder: 'i-1' });
  });

  it('is claimed by the volume holder when attached without a claim', () => {
    assert.deepEqual(pairStatus(usablePair('node-1', { volumeHolder: 'i-9', eniHolder: 'i-9' }), undefined), { status: 'claimed', holder: 'i-9' });
    assert.deepEqual(pairStatus(usablePair('node-1', { volumeHolder: 'i-9' }), undefined), { status: 'claimed', holder: 'i-9' });
  });

  it('is claimed by the ENI holder when only the ENI is attached without a claim', () => {
    assert.deepEqual(pairStatus(usablePair('node-1', { eniHolder: 'i-8' }), undefined), { status: 'claimed', holder: 'i-8' });
  });

  it('reports incomplete and broken pairs as such, with no holder, even when claimed or attached', () => {
    const [incomplete] = buildPairs('g', 'NodeID', [volume('vol-1', 'node-1', { state: 'in-use', attachment: attachedTo('i-1') })], []);
    const [broken] = buildPairs('g', 'NodeID', [volume('vol-2', 'node-2', { state: 'error' })], [eni('eni-2', 'node-2', { attachment: attachedTo('i-2') })]);
    assert.ok(incomplete && broken);
    assert.deepEqual(pairStatus(incomplete, claim('node-1', 'i-1')), { status: 'incomplete', holder: undefined });
    assert.deepEqual(pairStatus(broken, undefined), { status: 'broken', holder: undefined });
  });
});

describe('freePairs', () => {
  it('keeps only usable, unclaimed, unattached pairs in the AZ, in NodeID order', () => {
    const volumes = [
      volume('vol-10', 'node-10'),
      volume('vol-2', 'node-2'),
      volume('vol-3', 'node-3'),
      volume('vol-4', 'node-4', { availabilityZone: OTHER_AZ }),
      volume('vol-5', 'node-5', { state: 'in-use', attachment: attachedTo('i-5') }),
      volume('vol-6', 'node-6'),
      volume('vol-7', 'node-7'),
      volume('vol-8', 'node-8', { state: 'error' }),
      volume('vol-1', 'node-1'),
    ];
    const enis = [
      eni('eni-1', 'node-1'),
      eni('eni-2', 'node-2'),
      eni('eni-3', 'node-3'),
      eni('eni-4', 'node-4', { availabilityZone: OTHER_AZ }),
      eni('eni-5', 'node-5'),
      eni('eni-6', 'node-6', { status: 'in-use', attachment: attachedTo('i-6') }),
      // node-7: no ENI (incomplete)
      eni('eni-8', 'node-8'),
      eni('eni-10', 'node-10'),
    ];
    const pairs = buildPairs('g', 'NodeID', volumes, enis);
    const claims = [claim('node-3', 'i-3')];
    assert.deepEqual(
      freePairs(pairs, claims, AZ).map((p) => p.nodeId),
      ['node-1', 'node-2', 'node-10'],
    );
    assert.deepEqual(
      freePairs(pairs, claims, OTHER_AZ).map((p) => p.nodeId),
      ['node-4'],
    );
  });

  it('treats a claim on a nodeId as taken whatever its state or holder', () => {
    const pairs = [usablePair('node-1'), usablePair('node-2')];
    assert.deepEqual(
      freePairs(pairs, [claim('node-1', 'i-1', 'attached')], AZ).map((p) => p.nodeId),
      ['node-2'],
    );
  });

  it('gives the same answer for the same input (stable order for every caller)', () => {
    const pairs = buildPairs(
      'g',
      'NodeID',
      ['node-3', 'node-1', 'node-2'].map((id) => volume(`vol-${id}`, id)),
      ['node-2', 'node-3', 'node-1'].map((id) => eni(`eni-${id}`, id)),
    );
    const first = freePairs(pairs, [], AZ).map((p) => p.nodeId);
    assert.deepEqual(first, ['node-1', 'node-2', 'node-3']);
    assert.deepEqual(
      freePairs(pairs, [], AZ).map((p) => p.nodeId),
      first,
    );
  });

  it('returns nothing for an AZ with no pairs', () => {
    assert.deepEqual(freePairs([usablePair('node-1')], [], 'eu-west-1a'), []);
  });

  it('counts a pair whose ENI is left on a gone instance as free, but not one whose volume is', () => {
    const pairs = [
      usablePair('node-1', { eniHolder: 'i-dead' }),
      usablePair('node-2', { eniHolder: 'i-alive' }),
      usablePair('node-3', { volumeHolder: 'i-dead' }),
      usablePair('node-4', { volumeHolder: 'i-dead', eniHolder: 'i-dead' }),
      usablePair('node-5'),
    ];
    const isGone = (instanceId: string) => instanceId === 'i-dead';
    assert.deepEqual(
      freePairs(pairs, [], AZ, isGone).map((p) => p.nodeId),
      ['node-1', 'node-5'],
    );
    assert.deepEqual(
      freePairs(pairs, [], AZ).map((p) => p.nodeId),
      ['node-5'],
      'without isGone, no attached ENI is free',
    );
    assert.deepEqual(
      freePairs(pairs, [claim('node-1', 'i-new')], AZ, isGone).map((p) => p.nodeId),
      ['node-5'],
    );
  });
});

describe('eniHolders', () => {
  it('lists, once each, the instances holding the ENI of a usable pair whose volume is free in the AZ', () => {
    const pairs = [
      usablePair('node-1', { eniHolder: 'i-1' }),
      usablePair('node-2', { eniHolder: 'i-1' }),
      usablePair('node-3', { eniHolder: 'i-3', volumeHolder: 'i-3' }),
      usablePair('node-4', { eniHolder: 'i-4', az: OTHER_AZ }),
      usablePair('node-5', { eniHolder: 'i-5' }),
      usablePair('node-6'),
    ];
    assert.deepEqual(eniHolders(pairs, AZ), ['i-1', 'i-5']);
    assert.deepEqual(eniHolders(pairs, OTHER_AZ), ['i-4']);
  });
});
