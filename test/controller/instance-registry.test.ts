import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceRegistry } from '../../src/controller/instance-registry.ts';

const AZ = 'us-east-1a';

describe('InstanceRegistry', () => {
  it('records an instance and answers get()', () => {
    const registry = new InstanceRegistry();
    const before = Date.now();
    registry.set('i-1', 'web', { status: 'pairing', availabilityZone: AZ, reason: 'launch' });
    const record = registry.get('i-1');
    assert.ok(record);
    const { updatedAt, ...rest } = record;
    assert.deepEqual(rest, { instanceId: 'i-1', group: 'web', availabilityZone: AZ, status: 'pairing', nodeId: undefined, reason: 'launch' });
    assert.equal(new Date(updatedAt).toISOString(), updatedAt);
    assert.ok(Date.parse(updatedAt) >= before - 1);
    assert.equal(registry.get('i-unknown'), undefined);
  });

  it('keeps the AZ and NodeID across changes that do not name them; the reason is per change', () => {
    const registry = new InstanceRegistry();
    registry.set('i-1', 'web', { status: 'pairing', availabilityZone: AZ });
    registry.set('i-1', 'web', { status: 'paired', nodeId: 'node-3', reason: 'attached' });
    registry.set('i-1', 'web', { status: 'releasing' });
    const record = registry.get('i-1');
    assert.equal(record?.availabilityZone, AZ);
    assert.equal(record.nodeId, 'node-3');
    assert.equal(record.status, 'releasing');
    assert.equal(record.reason, undefined);
  });

  it('clears the NodeID on release', () => {
    const registry = new InstanceRegistry();
    registry.set('i-1', 'web', { status: 'paired', availabilityZone: AZ, nodeId: 'node-3' });
    registry.set('i-1', 'web', { status: 'released' });
    assert.equal(registry.get('i-1')?.nodeId, undefined);
    assert.equal(registry.get('i-1')?.availabilityZone, AZ);
  });

  it('lists records by group, then instance id', () => {
    const registry = new InstanceRegistry();
    registry.set('i-c', 'web', { status: 'paired' });
    registry.set('i-a', 'worker', { status: 'paired' });
    registry.set('i-b', 'web', { status: 'waiting' });
    registry.set('i-a2', 'api', { status: 'failed' });
    assert.deepEqual(
      registry.list().map((r) => [r.group, r.instanceId]),
      [
        ['api', 'i-a2'],
        ['web', 'i-b'],
        ['web', 'i-c'],
        ['worker', 'i-a'],
      ],
    );
  });

  it('has one record per instance however often it changes', () => {
    const registry = new InstanceRegistry();
    registry.set('i-1', 'web', { status: 'pairing' });
    registry.set('i-1', 'web', { status: 'waiting' });
    registry.set('i-1', 'web', { status: 'paired' });
    assert.deepEqual(
      registry.list().map((r) => [r.instanceId, r.status]),
      [['i-1', 'paired']],
    );
  });

  it('finds the instances waiting in a group and AZ', () => {
    const registry = new InstanceRegistry();
    registry.set('i-1', 'web', { status: 'waiting', availabilityZone: AZ });
    registry.set('i-2', 'web', { status: 'waiting', availabilityZone: 'us-east-1b' });
    registry.set('i-3', 'worker', { status: 'waiting', availabilityZone: AZ });
    registry.set('i-4', 'web', { status: 'paired', availabilityZone: AZ });
    registry.set('i-5', 'web', { status: 'waiting', availabilityZone: AZ });
    registry.set('i-6', 'web', { status: 'waiting' }); // AZ not known yet
    assert.deepEqual(
      registry.waitingIn('web', AZ).map((r) => r.instanceId),
      ['i-1', 'i-5'],
    );
    assert.deepEqual(
      registry.waitingIn('worker', AZ).map((r) => r.instanceId),
      ['i-3'],
    );
    assert.deepEqual(registry.waitingIn('web', 'us-east-1c'), []);
  });

  it('stops listing an instance as waiting once it is paired', () => {
    const registry = new InstanceRegistry();
    registry.set('i-1', 'web', { status: 'waiting', availabilityZone: AZ });
    registry.set('i-1', 'web', { status: 'paired', nodeId: 'node-1' });
    assert.deepEqual(registry.waitingIn('web', AZ), []);
  });

  it('forgets finished (released, gone) entries first when over the limit', () => {
    const registry = new InstanceRegistry(3);
    registry.set('i-1', 'web', { status: 'paired' });
    registry.set('i-2', 'web', { status: 'released' });
    registry.set('i-3', 'web', { status: 'waiting' });
    registry.set('i-4', 'web', { status: 'pairing' });
    assert.deepEqual(
      registry.list().map((r) => r.instanceId),
      ['i-1', 'i-3', 'i-4'],
    );
    assert.equal(registry.get('i-2'), undefined);
  });

  it('forgets the oldest finished entry before newer finished ones, and gone counts as finished', () => {
    const registry = new InstanceRegistry(3);
    registry.set('i-1', 'web', { status: 'gone' });
    registry.set('i-2', 'web', { status: 'released' });
    registry.set('i-3', 'web', { status: 'paired' });
    registry.set('i-4', 'web', { status: 'paired' });
    assert.deepEqual(
      registry.list().map((r) => r.instanceId),
      ['i-2', 'i-3', 'i-4'],
    );
  });

  it('forgets the least recently changed entry when none is finished', () => {
    const registry = new InstanceRegistry(3);
    registry.set('i-1', 'web', { status: 'paired' });
    registry.set('i-2', 'web', { status: 'paired' });
    registry.set('i-3', 'web', { status: 'paired' });
    registry.set('i-1', 'web', { status: 'failed' }); // i-1 changed: now i-2 is the oldest
    registry.set('i-4', 'web', { status: 'pairing' });
    assert.deepEqual(
      registry.list().map((r) => r.instanceId),
      ['i-1', 'i-3', 'i-4'],
    );
  });

  it('never holds more than the limit', () => {
    const registry = new InstanceRegistry(5);
    for (let i = 0; i < 50; i++) registry.set(`i-${i}`, 'web', { status: i % 2 === 0 ? 'released' : 'paired' });
    const ids = registry.list().map((r) => r.instanceId);
    assert.equal(ids.length, 5);
    assert.ok(ids.includes('i-49'), 'the newest entry stays');
  });
});
