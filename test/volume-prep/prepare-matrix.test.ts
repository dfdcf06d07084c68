import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { noise, sha256, writeAt } from '../helpers/disk-bytes.ts';

/**
 * The "never format data" matrix (issue 14): prepare-volume.sh run for real on a
 * loop device over a 64 MiB image, as root, with real mount(8). The script proves
 * the device is the volume by its NVMe serial; here a fake sysfs tree
 * (SYS_BLOCK_DIR) gives the loop device the volume's serial, or another volume's.
 * Every refusal must leave the device byte for byte as it was, fstab empty and the
 * mount point uncreated. Skips, naming what is missing, without root, loop devices
 * or the tools that make a case.
 */
const SCRIPT = fileURLToPath(new URL('../../src/volume-prep/prepare-volume.sh', import.meta.url));
const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
const VOLUME_ID = 'vol-0123456789abcdef0';
const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const EXIT = { ok: 0, refused: 13, identityNotProven: 17, mayNotFormat: 18 } as const;

const have = (tool: string) => spawnSync('bash', ['-c', 'command -v "$1"', '-', tool], { env: { PATH } }).status === 0;
function needs(...tools: string[]): string | false {
  const missing = tools.filter((tool) => !have(tool));
  return missing.length > 0 && `not installed here: ${missing.join(', ')}`;
}

/** Why loop devices can't be used here, or false when they can: tried once. */
function loopProblem(): string | false {
  if (process.getuid?.() !== 0) return 'not root: losetup and mount need root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control: no loop devices here';
  const missing = needs('losetup', 'mount', 'umount', 'blkid', 'wipefs', 'cmp', 'flock', 'mkfs.ext4');
  if (missing) return missing;
  const dir = mkdtempSync(join(tmpdir(), 'pk-matrix-probe-'));
  try {
    const image = join(dir, 'probe.img');
    writeFileSync(image, Buffer.alloc(MiB));
    const loop = spawnSync('losetup', ['-f', '--show', image], { env: { PATH }, encoding: 'utf8' });
    if (loop.status !== 0) return `losetup failed: ${loop.stderr.trim()}`;
    spawnSync('losetup', ['-d', loop.stdout.trim()], { env: { PATH } });
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const LOOP = loopProblem();

function run(cmd: string, args: string[], input?: string): string {
  const result = spawnSync(cmd, args, { env: { PATH }, encoding: 'utf8', input, timeout: 30_000 });
  assert.equal(result.status, 0, `${cmd} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const mountsAt = (mountPoint: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === mountPoint).length;

/**
 * An md superblock 1.0 (at the end of the member, where the filesystem inside
 * starts at byte 0), written by hand because `mdadm --create` needs the kernel's md
 * driver; checksummed as mdadm does, so blkid names it. Layout: struct mdp_superblock_1.
 */
function mdSuperblock10(deviceSize: number): { offset: number; bytes: Buffer } {
  const sectors = deviceSize / 512;
  const superSector = (sectors - 16) & ~7;
  const maxDev = 2;
  const sb = Buffer.alloc(256 + maxDev * 2);
  sb.writeUInt32LE(0xa92b4efc, 0); // magic
  sb.writeUInt32LE(1, 4); // major_version
  noise(16).copy(sb, 16); // set_uuid
  sb.write('pk:matrix', 32); // set_name
  sb.writeUInt32LE(1, 72); // level: raid1
  sb.writeBigUInt64LE(BigInt(superSector), 80); // size (sectors per member)
  sb.writeUInt32LE(2, 92); // raid_disks
  sb.writeBigUInt64LE(BigInt(superSector), 136); // data_size
  sb.writeBigUInt64LE(BigInt(superSector), 144); // super_offset
  noise(32).copy(sb, 168, 16); // device_uuid
  sb.writeUInt32LE(maxDev, 220); // max_dev
  sb.writeUInt16LE(0, 256); // dev_roles[0]: this member is role 0
  sb.writeUInt16LE(0xffff, 258); // dev_roles[1]: missing
  let sum = 0n;
  for (let i = 0; i < sb.length; i += 4) sum += BigInt(sb.readUInt32LE(i));
  sb.writeUInt32LE(Number((sum & 0xffffffffn) + (sum >> 32n)) >>> 0, 216); // sb_csum
  return { offset: superSector * 512, bytes: sb };
}

interface Volume {
  dir: string;
  device: string;
  mountPoint: string;
  fstab: string;
  env: Record<string, string>;
}

/** Attaches a blank 64 MiB loop device whose fake sysfs serial is `serial`; detaches and unmounts after the test. */
function volume(t: TestContext, serial = VOLUME_ID.replace('-', '')): Volume {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pk-matrix-')));
  const image = join(dir, 'volume.img');
  const fd = openSync(image, 'w');
  writeSync(fd, Buffer.alloc(1), 0, 1, SIZE - 1);
  closeSync(fd);
  const device = run('losetup', ['-f', '--show', image]).trim();
  const mountPoint = join(dir, 'data');
  t.after(() => {
    while (mountsAt(mountPoint) > 0 && spawnSync('umount', [mountPoint], { env: { PATH } }).status === 0);
    spawnSync('losetup', ['-d', device], { env: { PATH } });
    rmSync(dir, { recursive: true, force: true });
  });
  // As the kernel shows an EBS volume on Nitro: /sys/block/nvme1n1/device/serial, space-padded to 20.
  const sysDevice = join(dir, 'sys', 'block', basename(device), 'device');
  mkdirSync(sysDevice, { recursive: true });
  writeFileSync(join(sysDevice, 'serial'), `${serial.padEnd(20)}\n`);
  mkdirSync(join(dir, 'by-id'));
  const fstab = join(dir, 'fstab');
  return {
    dir,
    device,
    mountPoint,
    fstab,
    env: {
      PATH,
      VOLUME_ID,
      // The loop device stands where the attachment's device would be.
      DEVICE: device,
      MOUNT_POINT: mountPoint,
      FS_TYPE: 'ext4',
      FSTAB: fstab,
      BY_ID_DIR: join(dir, 'by-id'),
      SYS_BLOCK_DIR: join(dir, 'sys', 'block'),
      DEVICE_WAIT_SECONDS: '0',
      MAY_FORMAT: '1',
    },
  };
}

function prepare(v: Volume, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { env: { ...v.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const fstabEntries = (v: Volume) => (existsSync(v.fstab) ? readFileSync(v.fstab, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')) : []);

/** Runs the script and asserts it refused with `code`, changing nothing: same bytes, no fstab line, no mount point. */
async function assertRefused(v: Volume, code: number, message: RegExp, env: Record<string, string> = {}): Promise<void> {
  const before = sha256(v.device);
  const result = await prepare(v, env);
  assert.equal(result.code, code, result.output);
  assert.match(result.output, message);
  assert.equal(sha256(v.device), before, 'the device changed');
  assert.deepEqual(fstabEntries(v), [], 'fstab changed');
  assert.equal(existsSync(v.mountPoint), false, 'the mount point was created');
}

describe('prepare-volume.sh on loop devices: the never-format-data matrix', { skip: LOOP }, () => {
  it('blank: formats ext4, mounts it, one fstab line by UUID with nofail; a second run changes nothing', async (t) => {
    const v = volume(t);
    const first = await prepare(v);
    assert.equal(first.code, EXIT.ok, first.output);
    const uuid = run('blkid', ['-p', '-o', 'value', '-s', 'UUID', v.device]).trim();
    assert.equal(run('blkid', ['-p', '-o', 'value', '-s', 'TYPE', v.device]).trim(), 'ext4');
    assert.equal(mountsAt(v.mountPoint), 1);
    assert.deepEqual(fstabEntries(v), [`UUID=${uuid} ${v.mountPoint} ext4 defaults,nofail 0 2`]);
    writeFileSync(join(v.mountPoint, 'myid'), '3\n');

    const second = await prepare(v);
    assert.equal(second.code, EXIT.ok, second.output);
    assert.doesNotMatch(second.output, /creating/);
    assert.equal(mountsAt(v.mountPoint), 1, 'mounted twice');
    assert.deepEqual(fstabEntries(v), [`UUID=${uuid} ${v.mountPoint} ext4 defaults,nofail 0 2`]);
    assert.equal(readFileSync(join(v.mountPoint, 'myid'), 'utf8'), '3\n');
  });

  for (const mayFormat of ['1', '0']) {
    it(`an ext4 filesystem (MAY_FORMAT=${mayFormat}): mounted, not formatted, its file unchanged`, { skip: needs('debugfs') }, async (t) => {
      const v = volume(t);
      const content = join(v.dir, 'content');
      mkdirSync(content);
      writeFileSync(join(content, 'myid'), noise(100_000));
      run('mkfs.ext4', ['-q', '-d', content, v.device]);
      const uuid = run('blkid', ['-p', '-o', 'value', '-s', 'UUID', v.device]).trim();
      const result = await prepare(v, { MAY_FORMAT: mayFormat });
      assert.equal(result.code, EXIT.ok, result.output);
      assert.doesNotMatch(result.output, /creating/);
      assert.equal(mountsAt(v.mountPoint), 1);
      assert.equal(sha256(join(v.mountPoint, 'myid')), sha256(join(content, 'myid')));
      assert.deepEqual(fstabEntries(v), [`UUID=${uuid} ${v.mountPoint} ext4 defaults,nofail 0 2`]);
    });
  }

  it('a mount point where another filesystem is mounted: refused', async (t) => {
    const v = volume(t);
    mkdirSync(v.mountPoint);
    run('mount', ['-t', 'tmpfs', 'tmpfs', v.mountPoint]);
    const before = sha256(v.device);
    const result = await prepare(v);
    assert.equal(result.code, EXIT.refused, result.output);
    assert.match(result.output, /already has another filesystem mounted/);
    assert.equal(sha256(v.device), before, 'the device changed');
    assert.deepEqual(fstabEntries(v), []);
  });

  it('an ext4 filesystem at 1 MiB with no partition table (as sgdisk --zap-all leaves a disk): refused', async (t) => {
    const v = volume(t);
    run('mkfs.ext4', ['-q', '-E', `offset=${MiB}`, v.device, '32M']);
    assert.notEqual(spawnSync('blkid', ['-p', v.device], { env: { PATH } }).status, 0, 'blkid at offset 0 was expected to find nothing');
    await assertRefused(v, EXIT.refused, /ext4 at offset 1048576/);
  });

  it('data only in the middle (first and last MiB zero): refused', async (t) => {
    const v = volume(t);
    writeAt(v.device, 30 * MiB, noise(MiB));
    await assertRefused(v, EXIT.refused, /not blank: bytes at 3\d{7}\.\.\d+ are not all zeros/);
  });

  it('data only in the last MiB: refused', async (t) => {
    const v = volume(t);
    writeAt(v.device, SIZE - 4096, noise(4096));
    await assertRefused(v, EXIT.refused, /not blank: bytes at 6\d{7}\.\.\d+ are not all zeros/);
  });

  it('a GPT partition table: refused', { skip: needs('sgdisk') }, async (t) => {
    const v = volume(t);
    run('sgdisk', ['-n', '1:2048:0', v.device]);
    await assertRefused(v, EXIT.refused, /partition table \(gpt\)/);
  });

  it('a GPT whose protective MBR and primary header are zeroed (only the backup at the end is left): refused', { skip: needs('sgdisk') }, async (t) => {
    const v = volume(t);
    run('sgdisk', ['-n', '1:2048:0', v.device]);
    writeAt(v.device, 0, Buffer.alloc(34 * 512));
    // wipefs names the backup header; where it does not, the last MiB is read.
    await assertRefused(v, EXIT.refused, /not blank: (wipefs finds 0x3fffe00 gpt|bytes at 6\d{7}\.\.\d+ are not all zeros)/);
  });

  it('an LVM physical volume: refused', { skip: needs('pvcreate') }, async (t) => {
    const v = volume(t);
    run('pvcreate', ['-qq', v.device]);
    await assertRefused(v, EXIT.refused, /holds LVM2_member/);
  });

  it('an md RAID member (superblock 1.0, at the end): refused', async (t) => {
    const v = volume(t);
    const { offset, bytes } = mdSuperblock10(SIZE);
    writeAt(v.device, offset, bytes);
    assert.equal(run('blkid', ['-p', '-o', 'value', '-s', 'TYPE', v.device]).trim(), 'linux_raid_member');
    await assertRefused(v, EXIT.refused, /holds linux_raid_member/);
  });

  it('a LUKS header: refused', { skip: needs('cryptsetup') }, async (t) => {
    const v = volume(t);
    run('cryptsetup', ['luksFormat', '-q', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file=-', v.device], 'secret');
    await assertRefused(v, EXIT.refused, /holds crypto_LUKS/);
  });

  it('swap: refused', { skip: needs('mkswap') }, async (t) => {
    const v = volume(t);
    run('mkswap', [v.device]);
    await assertRefused(v, EXIT.refused, /holds swap/);
  });

  it("a blank device whose serial is another volume's: refused before anything is read or written", async (t) => {
    const v = volume(t, 'vol0fedcba9876543210');
    await assertRefused(v, EXIT.identityNotProven, /serial is vol0fedcba9876543210, not vol0123456789abcdef0/);
  });

  it('MAY_FORMAT=0 on a blank device (a snapshot, or prepared before): refused', async (t) => {
    const v = volume(t);
    await assertRefused(v, EXIT.mayNotFormat, /MAY_FORMAT=0/, { MAY_FORMAT: '0' });
  });
});
