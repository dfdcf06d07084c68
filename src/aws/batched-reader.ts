/**
 * Many callers asking for single items, one request for all of them, and at most one
 * request a window (`windowMs`; or at once when `maxBatch` ids wait). A reader that has
 * been quiet answers at once: the reads of a moment (a burst of messages, pollers woken
 * together) are gathered while they keep coming, up to a window after the first. A busy
 * reader calls once a window (a third of one while 20 or more reads wait), and every read
 * made meanwhile shares that call: this is how hundreds of launches share their EC2 reads
 * instead of each describing alone, and how a launch on a quiet reader does not wait for
 * a tick that serves no one else.
 */
export class BatchedReader<T> {
  private pending = new Map<string, { resolve: (v: T | undefined) => void; reject: (e: unknown) => void }[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly fetchMany: (ids: string[]) => Promise<Map<string, T>>;
  private readonly windowMs: number;
  private readonly gatherMs: number;
  private readonly maxBatch: number;
  /** When the last call went out (Date.now()); the first read finds the reader quiet. */
  private lastCallAt = -Infinity;
  /** When the oldest read now waiting was made. */
  private firstWaitingAt = 0;

  constructor(options: { fetchMany: (ids: string[]) => Promise<Map<string, T>>; windowMs: number; maxBatch: number }) {
    this.fetchMany = options.fetchMany;
    this.windowMs = options.windowMs;
    this.maxBatch = options.maxBatch;
    this.gatherMs = Math.min(MAX_GATHER_MS, options.windowMs / 4);
  }

  read(id: string): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.firstWaitingAt = Date.now();
      const waiters = this.pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      if (this.pending.size >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** The call goes out after a moment with no new read (at most a window after the first), and never sooner than a window after the last call. */
  private schedule(): void {
    const now = Date.now();
    const gathered = Math.min(now + this.gatherMs, this.firstWaitingAt + this.windowMs);
    // Many waiting (a burst of launches attaching at once): a call answers enough of them to go sooner.
    const spacing = this.pending.size >= BUSY_BATCH ? this.windowMs / 3 : this.windowMs;
    const at = Math.max(gathered, this.lastCallAt + spacing);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(0, at - now));
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    this.lastCallAt = Date.now();
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

/** Reads waiting (a burst of launches attaching at once) at which a call may follow the last by a third of a window. */
const BUSY_BATCH = 20;

/** The longest quiet that closes a gathering: SNS delivers a burst of launch messages a few ms apart. */
const MAX_GATHER_MS = 50;
