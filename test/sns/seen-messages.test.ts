import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeenMessages } from '../../src/sns/seen-messages.ts';

describe('SeenMessages', () => {
  it('a committed id is a duplicate; one in flight is reported as such; a released one is new again', () => {
    const seen = new SeenMessages({ windowMs: 1000, capacity: 10 });
    assert.equal(seen.begin('a'), 'new');
    assert.equal(seen.begin('a'), 'in-flight');
    seen.release('a');
    assert.equal(seen.begin('a'), 'new');
    seen.commit('a');
    assert.equal(seen.begin('a'), 'duplicate');
  });

  it('forgets ids once their messages would be refused as stale anyway', () => {
    let now = 0;
    const seen = new SeenMessages({ windowMs: 1000, capacity: 10, now: () => now });
    seen.begin('a');
    seen.commit('a');
    now = 999;
    assert.equal(seen.begin('a'), 'duplicate');
    now = 1001;
    assert.equal(seen.begin('b'), 'new');
    assert.equal(seen.size, 0);
  });

  it('never holds more than its capacity', () => {
    const seen = new SeenMessages({ windowMs: 1e9, capacity: 3 });
    for (const id of ['a', 'b', 'c', 'd']) {
      seen.begin(id);
      seen.commit(id);
    }
    assert.equal(seen.size, 3);
    assert.equal(seen.begin('a'), 'new', 'the oldest went first');
    assert.equal(seen.begin('d'), 'duplicate');
  });
});
