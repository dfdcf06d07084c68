/**
 * pairkeeper as users run it, for the benchmarks: `pairkeeper serve` (src/cli.ts) in
 * a child process, started as the image starts it (its node flags, its allocator
 * settings and a compile cache filled as the image build fills it, see
 * image-node.ts), with a config file written here and the AWS SDK pointed at the local AWS through the environment
 * (AWS_ENDPOINT_URL_*, the fake's credentials, and its CA, which the SNS signing
 * certificate's HTTPS needs). Both listeners are on
 * loopback at ports the system picks; the bench learns them from the service's own
 * "Server listening at" lines. It then asks the admin listener what an operator would:
 * GET /v1/status (readiness, work queued).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeAws } from '../fake-aws/index.ts';
import { testTls } from '../fake-aws/tls/index.ts';
import { compileCacheLikeTheImage, imageMallocEnv, imageNodeFlags } from './image-node.ts';
import { spawnProcess } from './spawn-target.ts';

const CLI = new URL('../src/cli.ts', import.meta.url);

/** The part of GET /v1/status the benchmarks wait on. */
export interface ServiceStatus {
  ready: boolean;
  /** Instances with pairing work queued or running. */
  queueDepth: number;
  resync: { lastSuccessAt?: string };
}

export interface PairkeeperService {
  pid: number;
  publicPort: number;
  adminPort: number;
  status(): Promise<ServiceStatus>;
  /** Polls GET /v1/status every `everyMs` until `done` holds. */
  waitFor(done: (status: ServiceStatus) => boolean, everyMs: number): Promise<void>;
  /** SIGTERM, as a service manager stops it: requests in flight and queued work finish first. */
  stop(): Promise<void>;
}

/** Starts `pairkeeper serve` with `config` (its listeners set here); resolves once both listen. */
export async function startPairkeeperService(aws: FakeAws, config: Record<string, unknown>): Promise<PairkeeperService> {
  const path = join(mkdtempSync(join(tmpdir(), 'pk-bench-service-')), 'pairkeeper.yaml');
  // JSON is YAML: the file is what `--config` reads in production.
  writeFileSync(path, JSON.stringify({ ...config, listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } }));
  const ports: { public?: number; admin?: number } = {};
  const nodeFlags = imageNodeFlags();
  const service = await spawnProcess(CLI, ['serve', '--config', path], {
    env: { ...imageMallocEnv(), ...aws.env(), NODE_EXTRA_CA_CERTS: testTls.caPath, NODE_COMPILE_CACHE: compileCacheLikeTheImage(nodeFlags) },
    nodeFlags,
    stderr: 'inherit',
    listening: (line) => {
      if (!line.startsWith('{')) return undefined;
      const entry = JSON.parse(line) as { listener?: string; msg?: string };
      const url = /^Server listening at (\S+)$/.exec(entry.msg ?? '')?.[1];
      if (url && (entry.listener === 'public' || entry.listener === 'admin')) ports[entry.listener] = Number(new URL(url).port);
      return ports.public && ports.admin ? { publicPort: ports.public, adminPort: ports.admin } : undefined;
    },
  });
  const { publicPort, adminPort } = service.listening;
  const status = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/v1/status`)).json()) as ServiceStatus;
  return {
    pid: service.child.pid!,
    publicPort,
    adminPort,
    status,
    waitFor: async (done, everyMs) => {
      while (!done(await status())) await sleep(everyMs);
    },
    stop: service.stop,
  };
}
