/**
 * What the smallest service on pairkeeper's stack holds (bench/fastify-hello.ts), run
 * as the image runs pairkeeper (its node flags and allocator settings) and asked a few requests, so the
 * service's RSS is printed beside a floor measured in the same run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { imageMallocEnv, imageNodeFlags } from './image-node.ts';
import { residentMb } from './process-rss.ts';
import { spawnProcess } from './spawn-target.ts';

const HELLO = new URL('./fastify-hello.ts', import.meta.url);

/** The hello server's VmRSS (MiB) after 20 requests and a second's rest. */
export async function fastifyFloorMb(): Promise<number> {
  const hello = await spawnProcess(HELLO, [], {
    nodeFlags: imageNodeFlags(),
    env: imageMallocEnv(),
    listening: (line) => (JSON.parse(line) as { port?: number }).port,
  });
  try {
    for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${hello.listening}/healthz`)).text();
    await sleep(1000);
    return residentMb(hello.child.pid!);
  } finally {
    await hello.stop();
  }
}
