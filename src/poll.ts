import { PairkeeperError } from './errors.ts';

/**
 * Re-reads one item until `done` holds, about every `intervalMs`. Reads go through a
 * batched reader, which calls at most once a window: a poller asks again a quarter
 * window after its answer, so it is in time for the reader's next call, and every
 * attachment in progress is re-read with that one Describe call.
 */
export async function pollUntil<T>(
  read: () => Promise<T | undefined>,
  done: (item: T | undefined) => boolean,
  options: { intervalMs: number; timeoutMs: number; what: string },
): Promise<T | undefined> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const item = await read();
    if (done(item)) return item;
    if (performance.now() > deadline) {
      throw new PairkeeperError('PK_WAIT_TIMEOUT', `gave up after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs / 4));
  }
}
