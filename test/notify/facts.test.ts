import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Attachment, Claim, Pair } from '../../src/domain/pairs.ts';
import { PairkeeperError } from '../../src/errors.ts';
import { FactsFile, buildFacts, type GroupFactsInput } from '../../src/notify/facts.ts';

const AZ = 'eu-west-1a';

function on(instanceId: string, state = 'attached', device?: string): Attachment {
  return { instanceId, state, ...(device ? { device } : {}) };
}

function pair(nodeId: string, volume: Attachment | undefined, eni: Attachment | undefined, condition: Pair['condition'] = 'usable'): Pair {
  return {
    group: 'etcd',
    nodeId,
    condition,
    problem: undefined,
    availabilityZone: AZ,
    volume: { volumeId: `vol-${nodeId}`, availabilityZone: AZ, state: volume ? 'in-use' : 'available', tags: { NodeID: nodeId }, attachment: volume },
    eni: { networkInterfaceId: `eni-${nodeId}`, availabilityZone: AZ, status: eni ? 'in-use' : 'available', privateIpAddress: `10.0.1.${nodeId.replace(/\D/g, '') || '9'}`, tags: { NodeID: nodeId }, attachment: eni },
  };
}

function claim(nodeId: string, instanceId: string, state: Claim['state'] = 'attached', group = 'etcd'): Claim {
  return { group, nodeId, instanceId, state, since: '2025-05-01T12:00:00.000Z', updatedAt: '2025-05-01T12:00:00.000Z' };
}

const NOW = new Date('2025-05-01T12:00:03.123Z');

describe('buildFacts', () => {
  it('lists only the claimed nodes whose volume and ENI EC2 shows attached on the claimant', () => {
    const etcd: GroupFactsInput = {
      name: 'etcd',
      volumeDevice: '/dev/sdf',
      pairs: [
        pair('1', on('i-1', 'attached', '/dev/sdg'), on('i-1')), // whole: a node
        pair('2', on('i-2'), on('i-2')), // whole; its claim says 'claimed' (never rewritten): a node
        pair('3', on('i-3'), on('i-9')), // ENI on someone else
        pair('4', on('i-4', 'attaching'), on('i-4')), // volume not attached yet
        pair('5', on('i-5'), on('i-5')), // no claim at all
        pair('6', on('i-6'), on('i-6'), 'broken'), // never a node
        pair('7', on('i-7'), undefined), // ENI detached
        pair('8', on('i-8', 'attached'), on('i-8')), // a node; device from the group
      ],
      claims: [claim('1', 'i-1'), claim('2', 'i-2', 'claimed'), claim('3', 'i-3'), claim('4', 'i-4'), claim('6', 'i-6'), claim('7', 'i-7'), claim('8', 'i-8')],
    };
    const facts = buildFacts([etcd], NOW);
    assert.deepEqual(facts, {
      generatedAt: '2025-05-01T12:00:03.123Z',
      groups: {
        etcd: {
          nodes: {
            '1': { instanceId: 'i-1', privateIp: '10.0.1.1', volumeId: 'vol-1', device: '/dev/sdg', networkInterfaceId: 'eni-1', availabilityZone: AZ },
            '2': { instanceId: 'i-2', privateIp: '10.0.1.2', volumeId: 'vol-2', device: '/dev/sdf', networkInterfaceId: 'eni-2', availabilityZone: AZ },
            '8': { instanceId: 'i-8', privateIp: '10.0.1.8', volumeId: 'vol-8', device: '/dev/sdf', networkInterfaceId: 'eni-8', availabilityZone: AZ },
          },
        },
      },
    });
  });

  it('keeps a group with no nodes, and a claim of another group never counts', () => {
    const facts = buildFacts([{ name: 'zk', volumeDevice: '/dev/sdf', pairs: [pair('1', on('i-1'), on('i-1'))], claims: [claim('1', 'i-1', 'attached', 'etcd')] }], NOW);
    assert.deepEqual(facts.groups, { zk: { nodes: {} } });
  });

  it('gives the same text for the same state, whatever order the input came in', () => {
    const pairs = ['node-10', 'node-2', 'node-1'].map((n) => pair(n, on(`i-${n}`), on(`i-${n}`)));
    const claims = pairs.map((p) => claim(p.nodeId, `i-${p.nodeId}`));
    const a = buildFacts([{ name: 'web', volumeDevice: '/dev/sdf', pairs, claims: [] }, { name: 'etcd', volumeDevice: '/dev/sdf', pairs, claims }], NOW);
    const b = buildFacts(
      [
        { name: 'etcd', volumeDevice: '/dev/sdf', pairs: [...pairs].reverse(), claims: [...claims].reverse() },
        { name: 'web', volumeDevice: '/dev/sdf', pairs: [...pairs].reverse(), claims: [] },
      ],
      NOW,
    );
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.deepEqual(Object.keys(a.groups), ['etcd', 'web']);
    assert.deepEqual(Object.keys(a.groups.etcd!.nodes), ['node-1', 'node-2', 'node-10']);
  });
});

describe('FactsFile', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pairkeeper-facts-'));
    path = join(dir, 'etc', 'cluster_facts.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const group = (nodes: string[]): GroupFactsInput => ({
    name: 'etcd',
    volumeDevice: '/dev/sdf',
    pairs: nodes.map((n) => pair(n, on(`i-${n}`), on(`i-${n}`))),
    claims: nodes.map((n) => claim(n, `i-${n}`)),
  });

  it('creates the directory and writes the facts as JSON, leaving no temporary file', async () => {
    const facts = buildFacts([group(['1', '2'])], NOW);
    assert.equal(await new FactsFile(path).write(facts), true);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), facts);
    assert.deepEqual(await readdir(join(dir, 'etc')), ['cluster_facts.json']);
  });

  it('rewrites only when the facts change, generatedAt aside, across restarts too', async () => {
    const file = new FactsFile(path);
    await file.write(buildFacts([group(['1'])], NOW));
    const first = await stat(path);

    assert.equal(await file.write(buildFacts([group(['1'])], new Date('2025-05-01T13:00:00Z'))), false);
    assert.equal(await new FactsFile(path).write(buildFacts([group(['1'])], new Date('2025-05-01T14:00:00Z'))), false, 'a restart does not rewrite the same facts');
    assert.equal((await stat(path)).ino, first.ino, 'same file: not replaced');
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as { generatedAt: string }).generatedAt, NOW.toISOString());

    const later = buildFacts([group(['1', '2'])], new Date('2025-05-01T15:00:00Z'));
    assert.equal(await file.write(later), true);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), later);
  });

  it('replaces a file it cannot parse', async () => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '{"groups":');
    const facts = buildFacts([group(['1'])], NOW);
    assert.equal(await new FactsFile(path).write(facts), true);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), facts);
  });

  it('serialises writes: the last one wins', async () => {
    const file = new FactsFile(path);
    const writes = [['1'], ['1', '2'], ['1', '2', '3']].map((nodes) => file.write(buildFacts([group(nodes)], NOW)));
    assert.deepEqual(await Promise.all(writes), [true, true, true]);
    assert.deepEqual(Object.keys((JSON.parse(await readFile(path, 'utf8')) as { groups: { etcd: { nodes: object } } }).groups.etcd.nodes), ['1', '2', '3']);
  });

  it('fails with a coded, retryable error naming the path when it cannot write, and writes next time', async () => {
    const blocker = join(dir, 'etc');
    await writeFile(blocker, 'a file where the directory should be');
    const file = new FactsFile(path);
    await assert.rejects(file.write(buildFacts([group(['1'])], NOW)), (err: unknown) => err instanceof PairkeeperError && err.code === 'PK_FACTS_FILE' && err.retryable && err.message.includes(path));
    await rm(blocker);
    assert.equal(await file.write(buildFacts([group(['1'])], NOW)), true);
  });
});
