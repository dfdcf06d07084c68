/**
 * Benchmark servers in child processes, so the load generator does not share their
 * core and each process's resident set is its own. The child tells where it listens
 * on stdout; stdout keeps being read (and dropped) afterwards, so a child that logs
 * there never blocks on a full pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnedProcess<T> {
  /** What `listening` read from stdout. */
  listening: T;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/**
 * Runs `script` with this Node (given `nodeFlags` before the script); resolves once
 * `listening` returns a value for a line of its stdout. stderr is dropped unless
 * `stderr: 'inherit'` (a service whose start-up errors should be seen).
 */
export async function spawnProcess<T>(
  script: URL,
  args: string[],
  options: { env?: Record<string, string>; nodeFlags?: string[]; stderr?: 'ignore' | 'inherit'; listening: (line: string) => T | undefined },
): Promise<SpawnedProcess<T>> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script.pathname, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', options.stderr ?? 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const listening = await new Promise<T>((resolve, reject) => {
    const onLine = (line: string) => {
      const value = options.listening(line);
      if (value === undefined) return;
      lines.off('line', onLine);
      resolve(value);
    };
    lines.on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${script.pathname} exited with ${code}`)));
  });
  return {
    listening,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** A benchmark server that prints `{"port": N}` as its first line once it listens. */
export async function spawnTarget(script: URL, args: string[], env: Record<string, string> = {}): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const { listening: port, child, stop } = await spawnProcess(script, args, { env, listening: (line) => (JSON.parse(line) as { port: number }).port });
  return { port, child, stop };
}
