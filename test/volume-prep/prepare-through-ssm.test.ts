import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { CommandOutcome } from '../../fake-aws/ssm/commands.ts';
import { PREPARED_TAG } from '../../src/domain/pairs.ts';
import { settle } from '../helpers/settle.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { worldsClosedAfterEach } from '../helpers/world.ts';

/**
 * Volume preparation end to end: pairkeeper attaches a pair, then sends the real
 * script through the local SSM; the fake's Run Command runs what it was sent with
 * bash, here, against an image file standing in for the volume (found by its NVMe
 * serial under a by-id folder; mount(8) replaced by DRY_MOUNT). A launch hook is let
 * go only after the preparation succeeded.
 */
const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
const have = (tool: string) => spawnSync('bash', ['-c', 'command -v "$1"', '-', tool], { env: { PATH } }).status === 0;
const missing = ['blkid', 'cmp', 'flock', 'mkfs.ext4'].filter((t) => !have(t));
const skip = missing.length > 0 ? `not installed here: ${missing.join(', ')}` : false;

const newWorld = worldsClosedAfterEach();
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs the sent command as the SSM agent would (sh -c), with the test's stand-ins in the environment. */
function runLikeTheAgent(command: string, env: Record<string, string>): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { env: { PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ status: code === 0 ? 'Success' : 'Failed', responseCode: code ?? -1, stdout, stderr }));
  });
}

async function start(options: { hook?: boolean; garbage?: boolean } = {}) {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'pk-prep-ssm-')));
  const byId = join(dir, 'by-id');
  mkdirSync(byId);
  const fstab = join(dir, 'fstab');
  const mountPoint = join(dir, 'data');
  const w = await newWorld({
    pairs: { pairs: 3 },
    fake: { autoScalingTiming: { msPerHookSecond: 50 } },
    config: {
      groups: [
        {
          name: 'etcd',
          filters: 'Service=etcd',
          lifecycle: { noPairWaitSeconds: 0 },
          prepare: { mountPoint, fsLabel: 'etcd-data', agentTimeoutSeconds: 2, timeoutSeconds: 60, afterCommand: 'echo started-etcd' },
        },
      ],
    },
  });
  // One sparse 64 MiB image per seeded volume, named as udev names a Nitro EBS volume.
  for (const pair of w.seeded.pairs) {
    const image = join(dir, `${pair.volumeId}.img`);
    const fd = openSync(image, 'w');
    if (options.garbage) writeSync(fd, Buffer.from('not a filesystem, not blank'), 0, 27, 4096);
    writeSync(fd, Buffer.alloc(1), 0, 1, 64 * 1024 * 1024 - 1);
    closeSync(fd);
    symlinkSync(image, join(byId, `nvme-Amazon_Elastic_Block_Store_${pair.volumeId.replace('-', '')}`));
  }
  const env = { BY_ID_DIR: byId, FSTAB: fstab, DRY_MOUNT: '1', DEVICE_WAIT_SECONDS: '0' };
  w.aws.ssm.commands.handler = (_instanceId, document, parameters) => {
    assert.equal(document, 'AWS-RunShellScript');
    return runLikeTheAgent(parameters.commands![0]!, env);
  };
  if (options.hook) {
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 300, notificationTargetArn: w.topicArn });
  }
  return { w, fstab, image: (volumeId: string) => join(dir!, `${volumeId}.img`) };
}

function blkid(path: string, tag: string): string {
  return spawnSync('blkid', ['-p', '-o', 'value', '-s', tag, path], { env: { PATH }, encoding: 'utf8' }).stdout.trim();
}

describe('volume preparation through SSM', { skip }, () => {
  it('a blank volume is formatted and recorded in fstab by UUID with nofail, and the hook is let go only after', async () => {
    const { w, fstab, image } = await start({ hook: true });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const held = (await settle(w, 1)).complete[0]!;
    await waitFor(() => w.aws.autoScaling.memberOf(held.instanceId)?.member.lifecycleState === 'InService', 'the instance to go in service', 20_000);
    const volumeId = held.volumeIds[0]!;
    assert.equal(blkid(image(volumeId), 'TYPE'), 'ext4');
    assert.equal(blkid(image(volumeId), 'LABEL'), 'etcd-data');
    const uuid = blkid(image(volumeId), 'UUID');
    assert.match(readFileSync(fstab, 'utf8'), new RegExp(`^UUID=${uuid}\\s+\\S+/data\\s+ext4\\s+\\S*nofail`, 'm'));
    assert.equal(w.aws.ec2.volume(volumeId)!.tags.get(PREPARED_TAG), held.instanceId);
    // The CONTINUE came after the preparation: the log says so in that order.
    const lines = w.logs.lines.map((l) => l.msg);
    assert.ok(lines.indexOf('volume prepared') < lines.indexOf('lifecycle action completed with CONTINUE'), 'prepared, then let go');
    assert.equal(w.aws.faults.count('SSM', 'SendCommand'), 1, 'prepared once, though the launch was handled twice (hook and notification)');
  });

  it('a volume holding bytes nobody can name is refused and left untouched; the hook-held launch is abandoned', async () => {
    const { w, image } = await start({ hook: true, garbage: true });
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => w.app.controller.instances().some((r) => r.status === 'abandoned'), 'the launch to be abandoned', 20_000);
    const [failure] = w.logs.find('launch abandoned: Auto Scaling replaces the instance');
    assert.match(String(failure?.reason), /volume preparation failed: Failed, exit 13 \(refused/);
    for (const pair of w.seeded.pairs) assert.equal(blkid(image(pair.volumeId), 'TYPE'), '', 'nothing was formatted');
  });

  it('an instance whose SSM agent never registers fails preparation after agentTimeoutSeconds, with the reason', async () => {
    const { w } = await start();
    w.aws.ssm.agents.autoRegister = false;
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => w.app.controller.instances().some((r) => r.status === 'failed'), 'the preparation to fail', 20_000);
    const failed = w.app.controller.instances().find((r) => r.status === 'failed')!;
    assert.match(String(failed.reason), /SSM agent did not register within 2 s/);
  });
});
