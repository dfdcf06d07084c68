import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import { freePort } from '../helpers/free-port.ts';
import { assertInvariants, members, settle } from '../helpers/settle.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type World, worldsClosedAfterEach } from '../helpers/world.ts';

/**
 * The real server process, killed with SIGKILL in the middle of attaching and
 * started again on the same port: the claims it left and the attachments EC2 holds
 * are all the new process knows, and its start-up resync must finish the job with
 * no split or double pair.
 */
const ENTRY = new URL('../../src/server.ts', import.meta.url).pathname;

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  child = undefined;
});
// Registered after the hook above: the server is stopped before the AWS it talks to.
const newWorld = worldsClosedAfterEach();

function startServer(w: World, configPath: string, port: number, adminPort: number): { process: ChildProcess; output: () => string } {
  const env = { ...process.env, ...w.aws.env(), PAIRKEEPER_CONFIG: configPath, PAIRKEEPER_LISTEN_PORT: String(port), PAIRKEEPER_ADMIN_PORT: String(adminPort) };
  const p = spawn(process.execPath, [ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { process: p, output: () => out };
}

describe('crash and restart', () => {
  it('SIGKILL mid-attach, then a restart: every instance ends with one whole pair, none split or shared', async () => {
    const w = await newWorld({
      replicas: 0,
      // Slow attaches, so the kill lands while some are in progress.
      fake: { ec2Timing: { attachDelayMs: 400, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5 } },
      config: { resync: { intervalSeconds: 0.5 } },
    });
    const dir = mkdtempSync(join(tmpdir(), 'pk-crash-'));
    const configPath = join(dir, 'pairkeeper.yaml');
    writeFileSync(configPath, w.configText);
    const [port, adminPort] = [await freePort(), await freePort()];

    const first = startServer(w, configPath, port, adminPort);
    child = first.process;
    await waitFor(() => first.output().includes('pairkeeper started'), 'the server to start');
    const subscription = w.aws.sns.subscribe(w.topicArn, `http://127.0.0.1:${port}/sns`);
    await waitFor(() => subscription.confirmed, 'the subscription to be confirmed');

    w.aws.autoScaling.setDesiredCapacity('etcd', 3);
    await waitFor(() => w.aws.ec2.volumes().some((v) => v.attachment?.state === 'attaching'), 'an attach in progress');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const atKill = checkPairs(w.aws);
    assert.ok(atKill.complete.length < 3, 'the kill came before everything was done');

    const second = startServer(w, configPath, port, adminPort);
    child = second.process;
    await waitFor(() => second.output().includes('pairkeeper started'), 'the server to start again');
    await waitFor(() => members(w).length === 3, 'three instances in service');
    const check = await settle(w, 3);
    assertInvariants(check);
    assert.deepEqual(new Set(check.complete.map((p) => p.instanceId)), new Set(members(w).map((m) => m.instanceId)));
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    assert.equal(ready.status, 200);
  });
});
