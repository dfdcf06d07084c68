import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { CommandOutcome } from '../../fake-aws/ssm/commands.ts';
import { PREPARED_TAG } from '../../src/domain/pairs.ts';
import { settle } from '../helpers/settle.ts';
import { waitFor, waitForValue } from '../helpers/wait-for.ts';
import { worldsClosedAfterEach } from '../helpers/world.ts';

/**
 * Volume preparation end to end: pairkeeper attaches a pair, then sends the real
 * script through the local SSM; the fake's Run Command runs what it was sent with
 * bash, here, against an image file standing in for the volume (found by its NVMe
 * serial under a by-id folder; mount(8) replaced by DRY_MOUNT). A launch hook is let
 * go only after the preparation succeeded. Each command sent is kept, to read what
 * the script was told.
 */
const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
const have = (tool: string) => spawnSync('bash', ['-c', 'command -v "$1"', '-', tool], { env: { PATH } }).status === 0;
const missing = ['blkid', 'wipefs', 'cmp', 'flock', 'mkfs.ext4'].filter((t) => !have(t));
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
  // No disk of this machine is shown to the script: the by-id link is its only proof.
  const sysBlock = join(dir, 'sys', 'block');
  mkdirSync(sysBlock, { recursive: true });
  const env = { BY_ID_DIR: byId, SYS_BLOCK_DIR: sysBlock, FSTAB: fstab, DRY_MOUNT: '1', DEVICE_WAIT_SECONDS: '0' };
  const sent: string[] = [];
  w.aws.ssm.commands.handler = (_instanceId, document, parameters) => {
    assert.equal(document, 'AWS-RunShellScript');
    sent.push(parameters.commands![0]!);
    return runLikeTheAgent(parameters.commands![0]!, env);
  };
  if (options.hook) {
    w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 300, notificationTargetArn: w.topicArn });
  }
  return { w, fstab, sent, image: (volumeId: string) => join(dir!, `${volumeId}.img`) };
}

/** The value a sent command assigns to `name` before running the script (single-quoted by scriptCommand). */
function assigned(command: string, name: string): string | undefined {
  return new RegExp(`(?:^| )${name}='([^']*)'`).exec(command.slice(0, command.indexOf(' bash -c ')))?.[1];
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

  it("a volume from a snapshot, attached at another device than the group's: the script gets EC2's device and MAY_FORMAT=0, and mounts its filesystem", async () => {
    const { w, fstab, sent, image } = await start();
    // pairkeeper hears of the launch only at the resync below, once the volume is attached by hand.
    w.aws.sns.chaos = { ...w.aws.sns.chaos, dropRate: 1 };
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    const instance = await waitForValue(() => w.aws.ec2.instances().find((i) => i.state === 'running'), 'the instance to run');
    const pair = w.seeded.pairs.find((p) => p.az === instance.availabilityZone)!;
    const volume = w.aws.ec2.volume(pair.volumeId)!;
    volume.snapshotId = 'snap-0123456789abcdef0';
    spawnSync('mkfs.ext4', ['-q', image(pair.volumeId)], { env: { PATH } });
    const uuid = blkid(image(pair.volumeId), 'UUID');
    w.aws.ec2.attachVolume({ volumeId: pair.volumeId, instanceId: instance.instanceId, device: '/dev/sdg' });
    await waitFor(() => volume.attachment?.state === 'attached', 'the volume to attach');

    // The first resync adopts the pair it finds on the instance (a claim); the second finishes it.
    await w.app.controller.resyncNow();
    await w.app.controller.idle();
    await w.app.controller.resyncNow();
    await waitFor(() => w.logs.lines.some((l) => l.msg === 'volume prepared'), 'the volume to be prepared', 20_000);
    assert.equal(sent.length, 1);
    assert.equal(assigned(sent[0]!, 'VOLUME_ID'), pair.volumeId);
    assert.equal(assigned(sent[0]!, 'DEVICE'), '/dev/sdg', 'the group says /dev/sdf; EC2 says /dev/sdg');
    assert.equal(assigned(sent[0]!, 'MAY_FORMAT'), '0');
    assert.equal(blkid(image(pair.volumeId), 'UUID'), uuid, 'the filesystem was replaced');
    assert.match(readFileSync(fstab, 'utf8'), new RegExp(`^UUID=${uuid}\\s`, 'm'));
  });

  it('a blank volume created from a snapshot is never formatted: the script refuses with its own code', async () => {
    const { w, sent, image } = await start({ hook: true });
    for (const pair of w.seeded.pairs) w.aws.ec2.volume(pair.volumeId)!.snapshotId = 'snap-0123456789abcdef0';
    w.aws.autoScaling.setDesiredCapacity('etcd', 1);
    await waitFor(() => w.app.controller.instances().some((r) => r.status === 'abandoned'), 'the launch to be abandoned', 20_000);
    const [failure] = w.logs.find('launch abandoned: Auto Scaling replaces the instance');
    assert.match(String(failure?.reason), /volume preparation failed: Failed, exit 18 \(may not format/);
    assert.equal(assigned(sent[0]!, 'MAY_FORMAT'), '0');
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
