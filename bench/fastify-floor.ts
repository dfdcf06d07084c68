/**
 * What the smallest service on pairkeeper's stack holds (bench/fastify-hello.ts), run
 * as the image runs pairkeeper (its node flags, allocator settings and a compile cache
 * filled by an earlier start) and asked a few requests, so the service's RSS is
 * printed beside a floor measured in the same run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageMallocEnv, imageNodeFlags } from './image-node.ts';
import { residentMb } from './process-rss.ts';
import { spawnProcess } from './spawn-target.ts';

const HELLO = new URL('./fastify-hello.ts', import.meta.url);

/** The hello server's VmRSS (MiB) after 20 requests and a second's rest, on its second start (the first fills the compile cache). */
export async function fastifyFloorMb(): Promise<number> {
  const env = { ...imageMallocEnv(), NODE_COMPILE_CACHE: mkdtempSync(join(tmpdir(), 'pk-hello-cache-')) };
  let resident = 0;
  for (const start of ['fills the cache', 'measured']) {
    const hello = await spawnProcess(HELLO, [], { nodeFlags: imageNodeFlags(), env, listening: (line) => (JSON.parse(line) as { port?: number }).port });
    try {
      for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${hello.listening}/healthz`)).text();
      await sleep(1000);
      if (start === 'measured') resident = residentMb(hello.child.pid!);
    } finally {
      await hello.stop();
    }
  }
  return resident;
}
