import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { BatchedReader } from '../../src/aws/batched-reader.ts';

const WINDOW_MS = 10;

/** A fetchMany that records its calls and answers `item-<id>` for every id not in `missing`. */
function recordingFetch(options: { missing?: string[]; fail?: (ids: string[]) => Error | undefined } = {}) {
  const calls: string[][] = [];
  const fetchMany = (ids: string[]): Promise<Map<string, string>> => {
    calls.push([...ids]);
    const error = options.fail?.(ids);
    if (error) return Promise.reject(error);
    return Promise.resolve(new Map(ids.filter((id) => !options.missing?.includes(id)).map((id) => [id, `item-${id}`])));
  };
  return { calls, fetchMany };
}

/** Mocked timers and clock, starting at 0: the grid's ticks are then at multiples of WINDOW_MS. */
function mockTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

/** Lets every queued promise callback run (setImmediate is not mocked). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('BatchedReader', () => {
  it('fetches the reads of one window with one call, and gives each caller its item', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    t.mock.timers.tick(3); // t = 3: inside a window
    const reads = Promise.all(['i-1', 'i-2', 'i-3'].map((id) => reader.read(id)));
    await settle();
    assert.deepEqual(calls, [], 'nothing is fetched before the window closes');
    t.mock.timers.tick(WINDOW_MS - 4);
    await settle();
    assert.deepEqual(calls, []);
    t.mock.timers.tick(1); // t = 10: the tick
    assert.deepEqual(await reads, ['item-i-1', 'item-i-2', 'item-i-3']);
    assert.deepEqual(calls, [['i-1', 'i-2', 'i-3']]);
  });

  it('reads made just after a grid tick (pollers woken for it) are fetched together a moment later, not a whole window later', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    t.mock.timers.tick(WINDOW_MS); // t = 10: a tick
    const first = reader.read('i-1');
    t.mock.timers.tick(1); // t = 11: a timer that fired late for the same tick
    const second = reader.read('i-2');
    t.mock.timers.tick(1); // t = 12
    await settle();
    assert.deepEqual(calls, [], 'the slack after the tick (a quarter of the window) gathers the late ones');
    t.mock.timers.tick(1); // t = 13: the slack is over, long before the next tick at 20
    assert.deepEqual(await Promise.all([first, second]), ['item-i-1', 'item-i-2']);
    assert.deepEqual(calls, [['i-1', 'i-2']]);
  });

  it('reads made at different moments before the same grid tick share one call', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    t.mock.timers.tick(3);
    const first = reader.read('i-1');
    t.mock.timers.tick(5); // t = 8: still before the tick at 10
    const second = reader.read('i-2');
    t.mock.timers.tick(2); // t = 10: the tick
    assert.deepEqual(await Promise.all([first, second]), ['item-i-1', 'item-i-2']);
    assert.deepEqual(calls, [['i-1', 'i-2']]);
  });

  it('asks once for an id read several times, and answers every one of those reads', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const reads = Promise.all(['i-1', 'i-2', 'i-1', 'i-1', 'i-2'].map((id) => reader.read(id)));
    t.mock.timers.tick(WINDOW_MS);
    assert.deepEqual(await reads, ['item-i-1', 'item-i-2', 'item-i-1', 'item-i-1', 'item-i-2']);
    assert.deepEqual(calls, [['i-1', 'i-2']]);
  });

  it('flushes as soon as maxBatch distinct ids wait, without waiting for the window', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 3 });
    const first = Promise.all(['a', 'a', 'b', 'c'].map((id) => reader.read(id)));
    assert.deepEqual(calls, [['a', 'b', 'c']], 'the third distinct id flushes at once; a repeat does not count');
    assert.deepEqual(await first, ['item-a', 'item-a', 'item-b', 'item-c']);

    const second = Promise.all(['d', 'e'].map((id) => reader.read(id)));
    await settle();
    assert.equal(calls.length, 1, 'the next reads wait for their own window');
    t.mock.timers.tick(WINDOW_MS);
    assert.deepEqual(await second, ['item-d', 'item-e']);
    assert.deepEqual(calls, [['a', 'b', 'c'], ['d', 'e']]);
  });

  it('does not fire the old window after an early flush', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 2 });
    const first = reader.read('a'); // starts the window
    const second = reader.read('b'); // flushes early
    t.mock.timers.tick(WINDOW_MS);
    await settle();
    assert.deepEqual(calls, [['a', 'b']]);
    assert.deepEqual(await Promise.all([first, second]), ['item-a', 'item-b']);
  });

  it('resolves undefined for an id the fetch did not return', async (t) => {
    mockTimers(t);
    const { fetchMany } = recordingFetch({ missing: ['gone'] });
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const reads = Promise.all([reader.read('here'), reader.read('gone'), reader.read('gone')]);
    t.mock.timers.tick(WINDOW_MS);
    assert.deepEqual(await reads, ['item-here', undefined, undefined]);
  });

  it('rejects every waiter of a failed batch with the error, and only that batch', async (t) => {
    mockTimers(t);
    const boom = new Error('DescribeInstances failed');
    const { calls, fetchMany } = recordingFetch({ fail: (ids) => (ids.includes('bad') ? boom : undefined) });
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 3 });

    const failed = ['x', 'bad', 'x'].map((id) => reader.read(id));
    const ok = ['y', 'z'].map((id) => reader.read(id)); // 'x', 'bad', 'y' fill the first batch; 'z' opens the next
    t.mock.timers.tick(WINDOW_MS);
    const results = await Promise.allSettled([...failed, ...ok]);
    assert.deepEqual(calls, [['x', 'bad', 'y'], ['z']]);
    assert.deepEqual(results, [
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 'item-z' },
    ]);
  });

  it('starts a fresh batch after a failure, and answers it', async (t) => {
    mockTimers(t);
    let failNext = true;
    const { calls, fetchMany } = recordingFetch({
      fail: () => {
        const fail = failNext;
        failNext = false;
        return fail ? new Error('throttled') : undefined;
      },
    });
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const first = reader.read('a');
    t.mock.timers.tick(WINDOW_MS);
    await assert.rejects(first, { message: 'throttled' });

    const again = Promise.all([reader.read('a'), reader.read('b')]);
    t.mock.timers.tick(WINDOW_MS);
    assert.deepEqual(await again, ['item-a', 'item-b']);
    assert.deepEqual(calls, [['a'], ['a', 'b']]);
  });

  it('starts a new batch for reads made while the previous fetch is still running', async (t) => {
    mockTimers(t);
    const calls: string[][] = [];
    const answers: ((m: Map<string, string>) => void)[] = [];
    const reader = new BatchedReader<string>({
      fetchMany: (ids) => {
        calls.push(ids);
        return new Promise((resolve) => answers.push(resolve));
      },
      windowMs: WINDOW_MS,
      maxBatch: 100,
    });
    const first = reader.read('a');
    t.mock.timers.tick(WINDOW_MS);
    const second = reader.read('a'); // the first fetch has not answered: this is a new batch
    t.mock.timers.tick(WINDOW_MS);
    assert.deepEqual(calls, [['a'], ['a']]);
    answers[1]?.(new Map([['a', 'new']]));
    answers[0]?.(new Map([['a', 'old']]));
    assert.deepEqual(await Promise.all([first, second]), ['old', 'new']);
  });
});
