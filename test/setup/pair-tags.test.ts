/**
 * The tags `pairs create` derives from a group's filters: what each filter asks of a
 * new pair, what the operator must choose, and what tags can never satisfy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilters } from '../../src/domain/filters.ts';
import { pairTags, tagsPass } from '../../src/setup/pair-tags.ts';

const derive = (filters: string, extra: Record<string, string> = {}, nodeIds = ['n-1']) =>
  pairTags({ group: 'g', filters: parseFilters(filters), nodeIdTag: 'NodeID', extra, nodeIds });

describe('pair tags from filters', () => {
  it('K=V gives the tag; tag-key gives the key (empty value unless --tag gives one); extras are kept', () => {
    assert.deepEqual(derive('Service=etcd,tag:Env=prod'), { Service: 'etcd', Env: 'prod' });
    assert.deepEqual(derive('Service=etcd,tag-key=Team'), { Service: 'etcd', Team: '' });
    assert.deepEqual(derive('tag-key=Team', { Team: 'storage', Owner: 'ops' }), { Team: 'storage', Owner: 'ops' });
  });

  it('a pattern or several values needs a --tag that matches it', () => {
    assert.throws(() => derive('Env=prod,Env=staging'), /names no single value: choose one with --tag Env=VALUE/);
    assert.throws(() => derive('Env=prod-*'), /names no single value/);
    assert.deepEqual(derive('Env=prod-*', { Env: 'prod-eu' }), { Env: 'prod-eu' });
    assert.throws(() => derive('Env=prod-*', { Env: 'staging' }), /does not match --tag Env=staging/);
    assert.throws(() => derive('tag-key=Team-*'), /names no single key/);
  });

  it('a NodeID filter must select every NodeID; tag-value needs a tag with that value', () => {
    assert.deepEqual(derive('NodeID=etcd-*', {}, ['etcd-1', 'etcd-2']), {});
    assert.throws(() => derive('NodeID=etcd-*', {}, ['etcd-1', 'zk-1']), /does not select NodeID zk-1/);
    assert.deepEqual(derive('Service=etcd,tag-value=etcd'), { Service: 'etcd' });
    assert.throws(() => derive('tag-value=blue'), /has no tag with that value/);
  });

  it('refuses filters that are not tags, and tags that are not the operator\'s to give', () => {
    assert.throws(() => derive('Service=etcd,availability-zone=us-east-1a'), /availability-zone=us-east-1a is not a tag/);
    assert.throws(() => derive('owner-id=123456789012'), /owner-id=123456789012 is not a tag/);
    assert.throws(() => derive('', { NodeID: 'x' }), /the NodeID tag comes from --nodes/);
    assert.throws(() => derive('', { 'pairkeeper:instance-id': 'i-1' }), /pairkeeper writes that tag itself/);
    assert.throws(() => derive('', { 'aws:cloudformation:x': '1' }), /AWS's own/);
  });

  it('whatever it derives passes the filters it came from', () => {
    for (const filters of ['Service=etcd,Env=prod', 'Service=etcd,tag-key=Team,tag-value=etcd', 'NodeID=n-*,Env=a']) {
      const tags = derive(filters);
      assert.equal(tagsPass(parseFilters(filters), { ...tags, NodeID: 'n-1' }), true, filters);
    }
  });
});
