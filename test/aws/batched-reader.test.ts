import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { BatchedReader } from '../../src/aws/batched-reader.ts';

const WINDOW_MS = 40;
/** A quarter of the window (at most 50 ms): the quiet that ends a gathering. */
const GATHER_MS = 10;

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

/** Mocked timers and clock, starting at 0. */
function mockTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

/** Lets every queued promise callback run (setImmediate is not mocked). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('BatchedReader', () => {
  it('a quiet reader gathers the reads of a moment while they keep coming, and fetches them with one call once they stop', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const reads: Promise<string | undefined>[] = [];
    for (const [at, id] of [[0, 'i-1'], [5, 'i-2'], [12, 'i-3']] as const) {
      t.mock.timers.tick(at - Date.now());
      reads.push(reader.read(id));
    }
    t.mock.timers.tick(GATHER_MS - 1); // t = 21: the last read was 9 ms ago
    await settle();
    assert.deepEqual(calls, [], 'nothing is fetched while reads keep coming');
    t.mock.timers.tick(1); // t = 22: a gathering's quiet after the last read, long before a window
    assert.deepEqual(await Promise.all(reads), ['item-i-1', 'item-i-2', 'item-i-3']);
    assert.deepEqual(calls, [['i-1', 'i-2', 'i-3']]);
  });

  it('reads that never stop coming are fetched a window after the first of them', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const reads: Promise<string | undefined>[] = [];
    for (let at = 0; at < WINDOW_MS; at += 5) {
      reads.push(reader.read(`i-${at}`));
      t.mock.timers.tick(5);
    }
    // t = 40: the 8 reads made at 0, 5 … 35 went out together at 40
    assert.equal((await Promise.all(reads)).length, 8);
    assert.deepEqual(calls, [['i-0', 'i-5', 'i-10', 'i-15', 'i-20', 'i-25', 'i-30', 'i-35']]);
  });

  it('calls at most once a window: reads made after a call wait until a window has passed since it, and share the next call', async (t) => {
    mockTimers(t);
    const { calls, fetchMany } = recordingFetch();
    const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
    const first = reader.read('a');
    t.mock.timers.tick(GATHER_MS); // t = 10: a quiet reader answers after a gathering
    assert.equal(await first, 'item-a');
    t.mock.timers.tick(5); // t = 15
    const second = reader.read('b');
    t.mock.timers.tick(15); // t = 30
    const third = reader.read('c');
    t.mock.timers.tick(19); // t = 49
    await settle();
    assert.deepEqual(calls, [['a']], 'no second call within a window of the first');
    t.mock.timers.tick(1); // t = 50: a window after the first call
    assert.deepEqual(await Promise.all([second, third]), ['item-b', 'item-c']);
    assert.deepEqual(calls, [['a'], ['b', 'c']]);
  });

  it('with 20 or more reads waiting (a burst attaching), calls a third of a window after the last call; with fewer, a whole window', async (t) => {
    mockTimers(t);
    for (const [waiting, nextCallAt] of [
      [20, 10 + WINDOW_MS / 3],
      [19, 10 + WINDOW_MS],
    ] as const) {
      const { calls, fetchMany } = recordingFetch();
      const reader = new BatchedReader({ fetchMany, windowMs: WINDOW_MS, maxBatch: 100 });
      const start = Date.now();
      const first = reader.read('a');
      t.mock.timers.tick(GATHER_MS); // the first call, at start + 10
      await first;
      t.mock.timers.tick(1);
      const burst = Promise.all(Array.from({ length: waiting }, (_, i) => reader.read(`i-${i}`)));
      t.mock.timers.tick(Math.ceil(nextCallAt) - 1 - (Date.now() - start));
      await settle();
      assert.equal(calls.length, 1, `${waiting} waiting: no second call yet`);
      t.mock.timers.tick(1);
      await settle();
      assert.equal(calls.length, 2, `${waiting} waiting: the second call by ${nextCallAt.toFixed(1)} ms`);
      assert.equal((await burst).length, waiting);
    }
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
