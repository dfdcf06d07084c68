/**
 * Many callers asking for single items, one request for all of them: ids asked for
 * before the next tick of a shared grid (multiples of `windowMs` on the clock; or
 * until `maxBatch`) are fetched with one call, and every caller gets its own item
 * (or undefined when the call did not return it). Because the grid is the same for
 * every reader and for pollers, all the reads of a moment share one call per kind:
 * this is how hundreds of launches share their EC2 reads instead of each describing alone.
 */
export class BatchedReader<T> {
  private pending = new Map<string, { resolve: (v: T | undefined) => void; reject: (e: unknown) => void }[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly fetchMany: (ids: string[]) => Promise<Map<string, T>>;
  private readonly windowMs: number;
  private readonly maxBatch: number;

  constructor(options: { fetchMany: (ids: string[]) => Promise<Map<string, T>>; windowMs: number; maxBatch: number }) {
    this.fetchMany = options.fetchMany;
    this.windowMs = options.windowMs;
    this.maxBatch = options.maxBatch;
  }

  read(id: string): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      if (this.pending.size >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), untilFlush(this.windowMs));
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    let fetching: Promise<Map<string, T>>;
    try {
      fetching = this.fetchMany([...batch.keys()]);
    } catch (err) {
      fetching = Promise.reject(err instanceof Error ? err : new Error(String(err))); // a fetch that throws at once fails its waiters too
    }
    fetching.then(
      (found) => {
        for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.get(id));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}

/**
 * A read made just after a grid point (a poller woken for it, timers firing a few ms
 * late) is flushed a moment later with the others of that point, not a whole window
 * later: otherwise every poll round would cost two windows.
 */
function untilFlush(windowMs: number): number {
  const slackMs = Math.min(10, windowMs / 4);
  const sinceGrid = Date.now() % windowMs;
  return sinceGrid < slackMs ? slackMs - sinceGrid : windowMs - sinceGrid;
}
