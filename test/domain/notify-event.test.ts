import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameBasedUuid } from '../../src/domain/name-based-uuid.ts';
import { notifyEvent } from '../../src/domain/notify-event.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('name-based UUIDs are RFC 9562 version 5 (the RFC\'s example: www.example.com in the DNS namespace)', () => {
    assert.equal(nameBasedUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('pair.attached and pair.released take their id from the fact: the same when told again later, another for another instance, pair or type', () => {
    const fields = { group: 'etcd', instanceId: 'i-0abc1234def567890', nodeId: '2', volumeId: 'vol-1' };
    const first = notifyEvent('pair.attached', fields, new Date('2026-11-27T05:00:00Z'));
    const again = notifyEvent('pair.attached', { ...fields, privateIp: '10.0.0.4' }, new Date('2026-11-27T05:09:00Z'));
    assert.match(first.id, UUID);
    assert.equal(again.id, first.id);
    assert.notEqual(again.time, first.time, 'each telling is stamped when it is made');
    const others = [
      notifyEvent('pair.released', fields),
      notifyEvent('pair.attached', { ...fields, instanceId: 'i-0abc1234def567891' }),
      notifyEvent('pair.attached', { ...fields, nodeId: '3' }),
      notifyEvent('pair.attached', { ...fields, group: 'zookeeper' }),
    ];
    assert.equal(new Set([first.id, ...others.map((e) => e.id)]).size, 5);
  });

  it('facts that can recur (instance.waiting, lifecycle.abandoned) get a fresh id each time', () => {
    const fields = { group: 'etcd', instanceId: 'i-0abc1234def567890', reason: 'no free pair in us-east-1a' };
    assert.notEqual(notifyEvent('instance.waiting', fields).id, notifyEvent('instance.waiting', fields).id);
    assert.notEqual(notifyEvent('lifecycle.abandoned', fields).id, notifyEvent('lifecycle.abandoned', fields).id);
  });
});
