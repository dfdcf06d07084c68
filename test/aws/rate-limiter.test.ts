import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ec2BucketFor, RateLimiter, type BucketSize } from '../../src/aws/rate-limiter.ts';

/** A clock the test moves by hand; the limiter reads it, setTimeout is mocked to match. */
function manualClock(t: TestContext): { now: () => number; advance: (ms: number) => Promise<void> } {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let current = 1_000;
  return {
    now: () => current,
    async advance(ms: number) {
      current += ms;
      t.mock.timers.tick(ms);
      await settle();
    },
  };
}

/** Lets every queued promise callback run (setImmediate is not mocked). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Starts `take`s and records the order in which they resolve. */
function track(limiter: RateLimiter, action: string, count: number, resolved: string[], label = action): void {
  for (let i = 1; i <= count; i++) void limiter.take(action).then(() => resolved.push(`${label}#${i}`));
}

const size = (capacity: number, refillPerSecond: number) => (): BucketSize => ({ capacity, refillPerSecond });

describe('RateLimiter', () => {
  it('hands out `capacity` tokens at once, without a timer', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(3, 10), now: clock.now });
    const resolved: string[] = [];
    track(limiter, 'AttachVolume', 3, resolved, 'a');
    await settle();
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3']);
  });

  it('makes later calls wait in arrival order at the refill rate', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(2, 10), now: clock.now }); // one token per 100 ms
    const resolved: string[] = [];
    track(limiter, 'AttachVolume', 5, resolved, 'a');
    await settle();
    assert.deepEqual(resolved, ['a#1', 'a#2']);
    await clock.advance(99);
    assert.deepEqual(resolved, ['a#1', 'a#2']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3']);
    await clock.advance(99);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3', 'a#4']);
    await clock.advance(100);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3', 'a#4', 'a#5']);
  });

  it('asks the size at every call: a refill raised meanwhile paces the calls after it, and calls already waiting keep their turn', async (t) => {
    const clock = manualClock(t);
    let refill = 10; // one token per 100 ms
    const limiter = new RateLimiter({ sizeOf: () => ({ capacity: 1, refillPerSecond: refill }), now: clock.now });
    const resolved: string[] = [];
    track(limiter, 'PutParameter', 2, resolved, 'before'); // the second is given the token at 100 ms
    await settle();
    refill = 20; // this replica's part of the account's bucket doubled: tokens at 50, 100, 150 ms
    track(limiter, 'PutParameter', 2, resolved, 'after');
    await clock.advance(99);
    assert.deepEqual(resolved, ['before#1']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['before#1', 'before#2', 'after#1'], 'the waiting call kept its turn; the next took the token before#2 was not given');
    await clock.advance(49);
    assert.equal(resolved.length, 3);
    await clock.advance(1);
    assert.deepEqual(resolved.at(-1), 'after#2', 'at the new refill (the old one would have made it wait until 300 ms)');
  });

  it('queues a newcomer behind the reservations already made', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(1, 10), now: clock.now });
    const resolved: string[] = [];
    track(limiter, 'X', 3, resolved, 'early'); // #1 now, #2 at +100, #3 at +200
    await settle();
    await clock.advance(50);
    track(limiter, 'X', 1, resolved, 'late'); // the next token is at +300
    await clock.advance(50);
    assert.deepEqual(resolved, ['early#1', 'early#2']);
    await clock.advance(100);
    assert.deepEqual(resolved, ['early#1', 'early#2', 'early#3']);
    await clock.advance(99);
    assert.deepEqual(resolved, ['early#1', 'early#2', 'early#3']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['early#1', 'early#2', 'early#3', 'late#1']);
  });

  it('refills while idle, but never beyond capacity', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(2, 10), now: clock.now });
    const resolved: string[] = [];
    track(limiter, 'X', 2, resolved, 'first');
    await settle();
    await clock.advance(60_000); // a minute idle: full again, but only 2 tokens
    track(limiter, 'X', 3, resolved, 'second');
    await settle();
    assert.deepEqual(resolved, ['first#1', 'first#2', 'second#1', 'second#2']);
    await clock.advance(99);
    assert.equal(resolved.length, 4);
    await clock.advance(1);
    assert.deepEqual(resolved.at(-1), 'second#3');
  });

  it('refills partially: half the interval gives half a token', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(1, 10), now: clock.now });
    const resolved: string[] = [];
    track(limiter, 'X', 1, resolved, 'a');
    await settle();
    await clock.advance(50);
    track(limiter, 'X', 1, resolved, 'b'); // half a token there: waits the other 50 ms
    await settle();
    assert.deepEqual(resolved, ['a#1']);
    await clock.advance(49);
    assert.deepEqual(resolved, ['a#1']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['a#1', 'b#1']);
  });

  it('multiplies the refill by `scale`, not the capacity', async (t) => {
    const clock = manualClock(t);
    const limiter = new RateLimiter({ sizeOf: size(2, 10), scale: 4, now: clock.now }); // one token per 25 ms
    const resolved: string[] = [];
    track(limiter, 'X', 4, resolved, 'a');
    await settle();
    assert.deepEqual(resolved, ['a#1', 'a#2']);
    await clock.advance(24);
    assert.deepEqual(resolved, ['a#1', 'a#2']);
    await clock.advance(1);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3']);
    await clock.advance(25);
    assert.deepEqual(resolved, ['a#1', 'a#2', 'a#3', 'a#4']);
  });

  it('gives each action its own bucket, sized for that action', async (t) => {
    const clock = manualClock(t);
    const asked: string[] = [];
    const limiter = new RateLimiter({
      sizeOf: (action) => {
        asked.push(action);
        return action === 'Small' ? { capacity: 1, refillPerSecond: 10 } : { capacity: 3, refillPerSecond: 10 };
      },
      now: clock.now,
    });
    const resolved: string[] = [];
    track(limiter, 'Small', 2, resolved);
    track(limiter, 'Big', 3, resolved);
    track(limiter, 'Other', 1, resolved);
    await settle();
    assert.deepEqual(resolved, ['Small#1', 'Big#1', 'Big#2', 'Big#3', 'Other#1']);
    // Each call asks its own action's size (at the moment of the call): none is sized by another's.
    for (const [action, calls] of [['Small', 2], ['Big', 3], ['Other', 1]] as const) assert.ok(asked.filter((a) => a === action).length >= calls, action);
    assert.deepEqual(new Set(asked), new Set(['Small', 'Big', 'Other']));
    await clock.advance(100);
    assert.deepEqual(resolved.at(-1), 'Small#2');
  });
});

describe('ec2BucketFor', () => {
  it('sizes Describe* calls 100 / 20 per second', () => {
    for (const action of ['DescribeInstances', 'DescribeVolumes', 'DescribeNetworkInterfaces']) {
      assert.deepEqual(ec2BucketFor(action), { capacity: 100, refillPerSecond: 20 }, action);
    }
  });

  it('sizes CreateTags and DeleteTags 100 / 10 per second', () => {
    assert.deepEqual(ec2BucketFor('CreateTags'), { capacity: 100, refillPerSecond: 10 });
    assert.deepEqual(ec2BucketFor('DeleteTags'), { capacity: 100, refillPerSecond: 10 });
  });

  it('sizes the other (mutating) calls 50 / 5 per second', () => {
    for (const action of ['AttachVolume', 'AttachNetworkInterface', 'DetachNetworkInterface', 'ModifyNetworkInterfaceAttribute']) {
      assert.deepEqual(ec2BucketFor(action), { capacity: 50, refillPerSecond: 5 }, action);
    }
  });
});
