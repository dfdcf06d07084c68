/**
 * The pending steps of a fake (EC2 transitions, command invocations, Auto Scaling
 * flows): timers it can drop all at once on reset or close.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms`, unless `clear()` comes first. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    // Pending steps must not keep a test process or a closed fake alive.
    timer.unref();
    this.pending.add(timer);
  }

  /** Resolves after `ms`; after a `clear()` it never resolves, so the flow awaiting it stops there. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  /** Cancels every pending step. */
  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
