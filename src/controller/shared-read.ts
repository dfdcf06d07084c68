/**
 * One read serves everyone who asks for the same key within `maxAgeMs` of when it
 * started, finished or still running: a burst of launches costs one read, not one
 * each. A failed read is forgotten, so the next caller tries again.
 */
export class SharedRead<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  get(key: string, maxAgeMs: number, read: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && performance.now() - entry.at < maxAgeMs) return entry.value;
    const fresh = { at: performance.now(), value: read() };
    this.entries.set(key, fresh);
    fresh.value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    return fresh.value;
  }

  /** The next caller reads anew: what was read (or is being read) predates a change this process made. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
