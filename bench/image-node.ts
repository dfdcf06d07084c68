/**
 * Node as the image runs `pairkeeper serve`, so that the benchmarks measure what
 * ships: the V8 flags of the Dockerfile's ENTRYPOINT and its allocator settings
 * (read from it, not copied), and a compile cache filled the way the image build
 * fills it — a `serve` with no usable config loads every module serve runs, then
 * stops at the config (exit 2), and Node writes the cache as it exits. Without the
 * cache each start compiles every module again and loads Node's TypeScript stripper.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';

const DOCKERFILE = new URL('../Dockerfile', import.meta.url);
const CLI = new URL('../src/cli.ts', import.meta.url);

/** The flags the image's ENTRYPOINT gives node before `src/cli.ts`, e.g. `['--optimize-for-size']`. */
export function imageNodeFlags(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const entrypoint = DockerfileParser.parse(dockerfile).getENTRYPOINTs().at(-1)?.getArgumentsContent() ?? '';
  const argv = JSON.parse(entrypoint) as string[];
  const node = argv.indexOf('node');
  const cli = argv.indexOf('src/cli.ts');
  if (node < 0 || cli < node) throw new Error(`Dockerfile ENTRYPOINT ${entrypoint}: expected […, "node", flags…, "src/cli.ts"]`);
  return argv.slice(node + 1, cli);
}

/**
 * The environment the image gives glibc's allocator (its `ENV MALLOC_…`), e.g.
 * `{ MALLOC_ARENA_MAX: '2' }`: it changes the resident set the benchmarks report.
 */
export function imageMallocEnv(dockerfile = readFileSync(DOCKERFILE, 'utf8')): Record<string, string> {
  const properties = DockerfileParser.parse(dockerfile).getENVs().flatMap((env) => env.getProperties());
  return Object.fromEntries(properties.filter((p) => p.getName().startsWith('MALLOC_')).map((p) => [p.getName(), p.getValue() ?? '']));
}

/** A new compile cache directory filled as the image build fills /app/.compile-cache, for NODE_COMPILE_CACHE. */
export function compileCacheLikeTheImage(flags: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pk-compile-cache-'));
  const run = spawnSync(process.execPath, [...flags, CLI.pathname, 'serve', '--config', '/dev/null'], {
    env: { ...process.env, NODE_COMPILE_CACHE: dir },
    encoding: 'utf8',
  });
  if (run.status !== 2) throw new Error(`filling the compile cache: serve --config /dev/null exited ${run.status} (expected 2, a bad config): ${run.stderr}`);
  return dir;
}
