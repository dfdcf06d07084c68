import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceQueue, QueueFullError } from '../../src/controller/instance-queue.ts';
import { PairkeeperError } from '../../src/errors.ts';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every queued promise callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Counts how many tasks run at once, and logs starts and ends. */
function monitor() {
  let current = 0;
  const state = { max: 0, log: [] as string[] };
  const task = (name: string, wait?: Promise<void>) => async () => {
    current += 1;
    state.max = Math.max(state.max, current);
    state.log.push(`start ${name}`);
    try {
      await (wait ?? settle());
    } finally {
      current -= 1;
      state.log.push(`end ${name}`);
    }
  };
  return { state, task, running: () => current };
}

/** A task that only records that it ran. */
function record(ran: string[], name: string): () => Promise<void> {
  return () => {
    ran.push(name);
    return Promise.resolve();
  };
}

function queueWith(options: { concurrency?: number; limit?: number } = {}) {
  const errors: [string, unknown][] = [];
  const queue = new InstanceQueue({ concurrency: options.concurrency ?? 4, limit: options.limit ?? 100, onError: (key, err) => errors.push([key, err]) });
  return { queue, errors };
}

describe('InstanceQueue', () => {
  it("runs one key's tasks one at a time, in the order they came", async () => {
    const { queue } = queueWith({ concurrency: 10 });
    const m = monitor();
    const gates = [gate(), gate(), gate()];
    gates.forEach((g, i) => queue.enqueue('i-1', m.task(`t${i}`, g.promise)));
    await settle();
    assert.deepEqual(m.state.log, ['start t0']);
    gates[1]?.open(); // opening a later gate does not let it jump the queue
    gates[2]?.open();
    await settle();
    assert.deepEqual(m.state.log, ['start t0']);
    gates[0]?.open();
    await queue.idle();
    assert.deepEqual(m.state.log, ['start t0', 'end t0', 'start t1', 'end t1', 'start t2', 'end t2']);
    assert.equal(m.state.max, 1);
  });

  it('runs different keys in parallel, up to `concurrency`', async () => {
    const { queue } = queueWith({ concurrency: 3 });
    const m = monitor();
    const g = gate();
    for (let i = 0; i < 8; i++) queue.enqueue(`i-${i}`, m.task(`i-${i}`, g.promise));
    await settle();
    assert.equal(m.running(), 3);
    assert.deepEqual(m.state.log, ['start i-0', 'start i-1', 'start i-2']);
    g.open();
    await queue.idle();
    assert.equal(m.state.max, 3);
    assert.equal(m.state.log.filter((l) => l.startsWith('end')).length, 8);
  });

  it('never runs more than `concurrency` tasks with work arriving while tasks finish', async () => {
    const { queue } = queueWith({ concurrency: 2 });
    const m = monitor();
    for (let i = 0; i < 30; i++) {
      queue.enqueue(`i-${i % 7}`, m.task(`${i}`));
      if (i % 3 === 0) await Promise.resolve();
    }
    await queue.idle();
    assert.equal(m.state.max, 2);
    assert.equal(m.state.log.length, 60);
  });

  it(
    'keeps the limit when a new key arrives between a task finishing and the next waiter starting',
    async () => {
      const { queue } = queueWith({ concurrency: 1 });
      const m = monitor();
      const first = gate();
      const last = gate();
      // `first` returns the gate's promise itself, so the queue's `await task()` resumes right after open().
      queue.enqueue('a', () => {
        m.state.log.push('start a');
        return first.promise;
      });
      queue.enqueue('b', m.task('b', last.promise)); // waits for the only slot
      await settle();
      first.open();
      queue.enqueue('c', m.task('c', last.promise)); // arrives in the same turn
      await settle();
      last.open();
      await queue.idle();
      assert.equal(m.state.max, 1);
    },
  );

  it('refuses a new key past `limit` with a retryable QueueFullError, but accepts more work for a waiting key', async () => {
    const { queue } = queueWith({ concurrency: 1, limit: 2 });
    const g = gate();
    const ran: string[] = [];
    queue.enqueue('i-1', () => g.promise.then(() => void ran.push('i-1')));
    queue.enqueue('i-2', record(ran, 'i-2'));
    assert.equal(queue.depth, 2);

    assert.throws(
      () => queue.enqueue('i-3', record(ran, 'i-3')),
      (err: unknown) => {
        assert.ok(err instanceof QueueFullError);
        assert.ok(err instanceof PairkeeperError);
        assert.equal(err.code, 'PK_QUEUE_FULL');
        assert.equal(err.retryable, true);
        assert.match(err.message, /2/);
        return true;
      },
    );
    queue.enqueue('i-1', record(ran, 'i-1 again'));
    queue.enqueue('i-2', record(ran, 'i-2 again'));
    assert.equal(queue.depth, 2);

    g.open();
    await queue.idle();
    assert.deepEqual(ran.sort(), ['i-1', 'i-1 again', 'i-2', 'i-2 again']);
    assert.equal(queue.depth, 0);
    queue.enqueue('i-3', record(ran, 'i-3')); // room again
    await queue.idle();
    assert.ok(ran.includes('i-3'));
  });

  it('reports a failing task to onError with its key and goes on with the next tasks of that key', async () => {
    const { queue, errors } = queueWith({ concurrency: 2 });
    const boom = new Error('attach failed');
    const ran: string[] = [];
    queue.enqueue('i-1', async () => {
      ran.push('first');
      await settle();
      throw boom;
    });
    queue.enqueue('i-1', record(ran, 'second'));
    queue.enqueue('i-2', () => {
      ran.push('sync throw');
      throw new Error('not even a promise');
    });
    queue.enqueue('i-2', record(ran, 'after sync throw'));
    await queue.idle();
    assert.deepEqual(ran.sort(), ['after sync throw', 'first', 'second', 'sync throw']);
    assert.deepEqual(
      errors.map(([key, err]) => [key, (err as Error).message]),
      [
        ['i-2', 'not even a promise'],
        ['i-1', 'attach failed'],
      ],
    );
    assert.equal(errors.find(([key]) => key === 'i-1')?.[1], boom);
  });

  it('frees the slot of a failed task', async () => {
    const { queue, errors } = queueWith({ concurrency: 1 });
    const ran: string[] = [];
    queue.enqueue('i-1', () => Promise.reject(new Error('x')));
    queue.enqueue('i-2', record(ran, 'i-2'));
    await queue.idle();
    assert.deepEqual(ran, ['i-2']);
    assert.equal(errors.length, 1);
  });

  it('idle() resolves only after every task, including tasks enqueued while running', async () => {
    const { queue } = queueWith({ concurrency: 2 });
    const done: string[] = [];
    queue.enqueue('i-1', async () => {
      await settle();
      queue.enqueue('i-3', async () => {
        await settle();
        done.push('i-3');
      });
      done.push('i-1');
    });
    queue.enqueue('i-2', async () => {
      await settle();
      await settle();
      done.push('i-2');
    });
    await queue.idle();
    assert.deepEqual(done.sort(), ['i-1', 'i-2', 'i-3']);
    assert.equal(queue.depth, 0);
  });

  it('idle() resolves at once when nothing is queued', async () => {
    const { queue } = queueWith();
    let resolved = false;
    void queue.idle().then(() => (resolved = true));
    await settle();
    assert.equal(resolved, true);
  });

  it('depth counts keys with work queued or running, not tasks', async () => {
    const { queue } = queueWith({ concurrency: 1 });
    const g = gate();
    assert.equal(queue.depth, 0);
    queue.enqueue('i-1', () => g.promise);
    queue.enqueue('i-1', () => Promise.resolve());
    queue.enqueue('i-2', () => Promise.resolve());
    assert.equal(queue.depth, 2);
    await settle();
    assert.equal(queue.depth, 2, 'i-1 running, i-2 waiting for the slot');
    g.open();
    await queue.idle();
    assert.equal(queue.depth, 0);
  });
});
