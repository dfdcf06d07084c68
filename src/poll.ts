import { PairkeeperError } from './errors.ts';

/**
 * Re-reads one item until `done` holds. Rounds fall on a shared grid (multiples of
 * `intervalMs`), and reads go through a batched reader, so every attachment in
 * progress is re-read in the same round with one Describe call.
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
    await new Promise((r) => setTimeout(r, options.intervalMs - (Date.now() % options.intervalMs)));
  }
}
