import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterSyntaxError, pairFilters, parseFilters } from '../../src/domain/filters.ts';

describe('parseFilters', () => {
  it('reads Smilodon syntax: bare names are tags, tag-key passes through', () => {
    assert.deepEqual(parseFilters('Env=development,Service=etcd,tag-key=Project'), [
      { Name: 'tag:Env', Values: ['development'] },
      { Name: 'tag:Service', Values: ['etcd'] },
      { Name: 'tag-key', Values: ['Project'] },
    ]);
  });

  it('keeps an explicit tag:K=V as that tag', () => {
    assert.deepEqual(parseFilters('tag:Env=prod'), [{ Name: 'tag:Env', Values: ['prod'] }]);
  });

  it('passes availability-zone, tag-key, tag-value and owner-id through as EC2 filters', () => {
    assert.deepEqual(parseFilters('availability-zone=us-east-1a,tag-key=Project,tag-value=etcd,owner-id=123456789012'), [
      { Name: 'availability-zone', Values: ['us-east-1a'] },
      { Name: 'tag-key', Values: ['Project'] },
      { Name: 'tag-value', Values: ['etcd'] },
      { Name: 'owner-id', Values: ['123456789012'] },
    ]);
  });

  it('treats every other name as a tag key, even EC2 filter names that exist for only one resource type', () => {
    assert.deepEqual(parseFilters('status=available,volume-type=gp3,subnet-id=subnet-1'), [
      { Name: 'tag:status', Values: ['available'] },
      { Name: 'tag:volume-type', Values: ['gp3'] },
      { Name: 'tag:subnet-id', Values: ['subnet-1'] },
    ]);
  });

  it('merges the values of a repeated name, in order, at the first occurrence', () => {
    assert.deepEqual(parseFilters('Env=dev,Service=etcd,Env=staging,availability-zone=us-east-1a,availability-zone=us-east-1b'), [
      { Name: 'tag:Env', Values: ['dev', 'staging'] },
      { Name: 'tag:Service', Values: ['etcd'] },
      { Name: 'availability-zone', Values: ['us-east-1a', 'us-east-1b'] },
    ]);
  });

  it('merges K=V and tag:K=V, which name the same filter', () => {
    assert.deepEqual(parseFilters('Env=dev,tag:Env=prod'), [{ Name: 'tag:Env', Values: ['dev', 'prod'] }]);
  });

  it('ignores whitespace around terms, names and values, and empty terms', () => {
    assert.deepEqual(parseFilters('  Env = development ,\tService=etcd , , tag-key= Project,'), [
      { Name: 'tag:Env', Values: ['development'] },
      { Name: 'tag:Service', Values: ['etcd'] },
      { Name: 'tag-key', Values: ['Project'] },
    ]);
  });

  it('gives no filters for empty or blank text', () => {
    assert.deepEqual(parseFilters(''), []);
    assert.deepEqual(parseFilters('  ,  '), []);
  });

  for (const bad of ['=x', 'x=', 'tag:=v', 'tag: =v', 'Env', ' = x', 'Env= ', 'Env=dev,Service']) {
    it(`refuses ${JSON.stringify(bad)} with FilterSyntaxError`, () => {
      assert.throws(() => parseFilters(bad), FilterSyntaxError);
    });
  }

  it('names the offending term in the message', () => {
    assert.throws(() => parseFilters('Env=dev, Service ,x=y'), (err: unknown) => err instanceof FilterSyntaxError && err.message.includes('"Service"'));
  });
});

describe('pairFilters', () => {
  it('adds tag:<NodeID>=* to the group filters', () => {
    assert.deepEqual(pairFilters('Env=dev,tag-key=Project', 'NodeID'), [
      { Name: 'tag:Env', Values: ['dev'] },
      { Name: 'tag-key', Values: ['Project'] },
      { Name: 'tag:NodeID', Values: ['*'] },
    ]);
  });

  it('uses the configured tag name', () => {
    assert.deepEqual(pairFilters('', 'PairId'), [{ Name: 'tag:PairId', Values: ['*'] }]);
  });

  it('does not add it when the filters already name that tag, in either spelling', () => {
    assert.deepEqual(pairFilters('NodeID=node-1,Env=dev', 'NodeID'), [
      { Name: 'tag:NodeID', Values: ['node-1'] },
      { Name: 'tag:Env', Values: ['dev'] },
    ]);
    assert.deepEqual(pairFilters('tag:NodeID=node-*', 'NodeID'), [{ Name: 'tag:NodeID', Values: ['node-*'] }]);
  });

  it('still adds it when only tag-key names the NodeID tag (a different filter)', () => {
    assert.deepEqual(pairFilters('tag-key=NodeID', 'NodeID'), [
      { Name: 'tag-key', Values: ['NodeID'] },
      { Name: 'tag:NodeID', Values: ['*'] },
    ]);
  });

  it('throws FilterSyntaxError for bad group filters', () => {
    assert.throws(() => pairFilters('Env', 'NodeID'), FilterSyntaxError);
  });
});
