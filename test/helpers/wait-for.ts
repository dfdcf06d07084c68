/** Polls until `check` holds; fails with `what` after `timeoutMs`. For states, never for timing. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls until `get` gives a value (not undefined) and returns it; fails with `what` after `timeoutMs`. */
export async function waitForValue<T>(get: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await get()) !== undefined, what, timeoutMs);
  return value!;
}
