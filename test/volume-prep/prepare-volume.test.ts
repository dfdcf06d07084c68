import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { noise, sha256, writeAt } from '../helpers/disk-bytes.ts';

/**
 * src/volume-prep/prepare-volume.sh, run as SSM runs it (bash, inputs in the
 * environment) against image files standing in for EBS volumes. blkid and mkfs
 * read and write images as they do devices; DRY_MOUNT=1 stands in for mount(8).
 * The image `sdf` is proven to be the volume the way udev proves it on Nitro: a
 * by-id link named from its serial; SYS_BLOCK_DIR, where the kernel would show
 * serials and Xen nodes, is an empty folder unless a test fills it. Where this
 * machine can (root, loop devices), prepare-matrix.test.ts runs the script on loop
 * devices with real mounts.
 */
const SCRIPT = fileURLToPath(new URL('../../src/volume-prep/prepare-volume.sh', import.meta.url));
// The script runs as root on the instance, where sbin is on PATH; a non-root CI's PATH may lack it.
const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
const VOLUME_ID = 'vol-0123456789abcdef0';
// As udev names it on Nitro: nvme-<model>_<serial>, the serial being the volume id without its hyphen.
const BY_ID_NAME = 'nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0';
const MiB = 1024 * 1024;
const EXIT = { ok: 0, badInput: 10, notFound: 11, detectionFailed: 12, refused: 13, afterCommandFailed: 16, identityNotProven: 17 } as const;

const have = (tool: string) => spawnSync('bash', ['-c', 'command -v "$1"', '-', tool], { env: { PATH } }).status === 0;
/** A skip reason naming the tools this machine lacks, or false when all are there. */
function needs(...tools: string[]): string | false {
  const missing = tools.filter((tool) => !have(tool));
  return missing.length > 0 && `not installed here: ${missing.join(', ')}`;
}
const PROBE = needs('blkid', 'wipefs', 'cmp', 'flock');
const FORMAT = needs('blkid', 'wipefs', 'cmp', 'flock', 'mkfs.ext4');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Scratch {
  dir: string;
  fstab: string;
  mountPoint: string;
  env: Record<string, string>;
  /** A sparse image of `size` bytes, all zeros: a new EBS volume. */
  blank(name: string, size?: number): string;
}

function scratch(t: TestContext): Scratch {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pk-prep-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'by-id'));
  mkdirSync(join(dir, 'sys', 'block'), { recursive: true });
  // Dangling until a test creates the image `sdf`.
  symlinkSync(join(dir, 'sdf'), join(dir, 'by-id', BY_ID_NAME));
  const fstab = join(dir, 'fstab');
  const mountPoint = join(dir, 'data');
  return {
    dir,
    fstab,
    mountPoint,
    env: {
      PATH,
      VOLUME_ID,
      DEVICE: join(dir, 'sdf'),
      MAY_FORMAT: '1',
      MOUNT_POINT: mountPoint,
      FSTAB: fstab,
      BY_ID_DIR: join(dir, 'by-id'),
      SYS_BLOCK_DIR: join(dir, 'sys', 'block'),
      DEV_DIR: dir,
      DEVICE_WAIT_SECONDS: '0',
      DRY_MOUNT: '1',
    },
    blank(name, size = 64 * MiB) {
      const path = join(dir, name);
      const fd = openSync(path, 'w');
      writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
      closeSync(fd);
      return path;
    },
  };
}

function prepare(s: Scratch, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { env: { ...s.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}


function run(cmd: string, args: string[]): string {
  const result = spawnSync(cmd, args, { env: { PATH }, encoding: 'utf8' });
  assert.equal(result.status, 0, `${cmd} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** What blkid finds, as its exit code and its KEY=value pairs. */
function blkid(path: string): { status: number | null; tags: Record<string, string> } {
  const result = spawnSync('blkid', ['-p', '-o', 'export', path], { env: { PATH }, encoding: 'utf8' });
  const tags = Object.fromEntries(result.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { status: result.status, tags };
}

const fstabEntries = (s: Scratch) => (existsSync(s.fstab) ? readFileSync(s.fstab, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')) : []);

/** AFTER_COMMAND leaves a mark, and only once the fstab entry is written. */
function afterMark(s: Scratch): { AFTER_COMMAND: string; ran: () => boolean } {
  const mark = join(s.dir, 'after-ran');
  return { AFTER_COMMAND: `grep -q '^UUID=' ${s.fstab} && touch ${mark}`, ran: () => existsSync(mark) };
}

/** Asserts the run was refused or failed with `code` and left the image byte for byte as it was. */
async function assertUntouched(s: Scratch, image: string, code: number, env: Record<string, string> = {}): Promise<Run> {
  const before = sha256(image);
  const after = afterMark(s);
  const result = await prepare(s, { ...env, AFTER_COMMAND: after.AFTER_COMMAND });
  assert.equal(result.code, code, result.stdout + result.stderr);
  assert.match(result.stderr, /^pairkeeper-prepare: vol-0123456789abcdef0: .*left (untouched|alone)$/m);
  assert.equal(sha256(image), before, 'the image changed');
  assert.deepEqual(fstabEntries(s), [], 'fstab changed');
  assert.equal(after.ran(), false, 'AFTER_COMMAND ran');
  assert.equal(existsSync(s.mountPoint), false, 'the mount point was created');
  return result;
}

describe('prepare-volume.sh on a blank volume', () => {
  it('creates ext4 with the label, (dry-)mounts it, adds one fstab line by UUID with nofail, then runs AFTER_COMMAND', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const after = afterMark(s);
    const result = await prepare(s, { FS_LABEL: 'zookeeper', AFTER_COMMAND: after.AFTER_COMMAND });
    assert.equal(result.code, EXIT.ok, result.stdout + result.stderr);

    const { tags } = blkid(image);
    assert.equal(tags.TYPE, 'ext4');
    assert.equal(tags.LABEL, 'zookeeper');
    assert.match(result.stdout, new RegExp(`would mount -t ext4 -o defaults,nofail ${image} ${s.mountPoint}$`, 'm'));
    assert.deepEqual(fstabEntries(s), [`UUID=${tags.UUID} ${s.mountPoint} ext4 defaults,nofail 0 2`]);
    assert.ok(after.ran(), 'AFTER_COMMAND did not run, or ran before the fstab entry was written');
    for (const line of result.stdout.trim().split('\n')) assert.match(line, /^pairkeeper-prepare: vol-0123456789abcdef0: /);
  });

  it('adds nofail to MOUNT_OPTIONS that lack it, so a missing volume never blocks boot', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    s.blank('sdf');
    const result = await prepare(s, { MOUNT_OPTIONS: 'noatime' });
    assert.equal(result.code, EXIT.ok, result.stderr);
    assert.match(fstabEntries(s)[0] ?? '', / ext4 noatime,nofail 0 2$/);
  });

  it('creates xfs when FS_TYPE=xfs (fsck pass 0)', { skip: needs('blkid', 'wipefs', 'cmp', 'flock', 'mkfs.xfs') }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf', 320 * MiB); // mkfs.xfs wants at least 300 MB
    const result = await prepare(s, { FS_TYPE: 'xfs', FS_LABEL: 'data' });
    assert.equal(result.code, EXIT.ok, result.stdout + result.stderr);
    const { tags } = blkid(image);
    assert.equal(tags.TYPE, 'xfs');
    assert.deepEqual(fstabEntries(s), [`UUID=${tags.UUID} ${s.mountPoint} xfs defaults,nofail 0 0`]);
  });

  it('run again, changes nothing: same filesystem, same fstab, exit 0', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    assert.equal((await prepare(s)).code, EXIT.ok);
    const [image1, fstab1] = [sha256(image), readFileSync(s.fstab, 'utf8')];

    const second = await prepare(s);
    assert.equal(second.code, EXIT.ok, second.stdout + second.stderr);
    assert.doesNotMatch(second.stdout, /creating/);
    assert.match(second.stdout, /already mounts UUID=/);
    assert.equal(sha256(image), image1);
    assert.equal(readFileSync(s.fstab, 'utf8'), fstab1);
  });

  it('three runs at once (an SSM retry racing the first): one mkfs, one fstab line, all exit 0', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const results = await Promise.all([prepare(s), prepare(s), prepare(s)]);
    assert.deepEqual(results.map((r) => r.code), [EXIT.ok, EXIT.ok, EXIT.ok], results.map((r) => r.stderr).join(''));
    assert.equal(results.filter((r) => r.stdout.includes('is blank: creating')).length, 1);
    assert.deepEqual(fstabEntries(s), [`UUID=${blkid(image).tags.UUID} ${s.mountPoint} ext4 defaults,nofail 0 2`]);
  });
});

describe('prepare-volume.sh never formats a volume that holds something', () => {
  it('keeps an existing ext4 filesystem and its files: same UUID, same bytes; mounts it and adds it to fstab', { skip: needs('blkid', 'wipefs', 'cmp', 'flock', 'mkfs.ext4', 'debugfs') }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const content = join(s.dir, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'myid'), '3\n');
    run('mkfs.ext4', ['-q', '-L', 'old', '-d', content, image]);
    const { tags: before } = blkid(image);
    const bytes = sha256(image);

    const result = await prepare(s, { FS_LABEL: 'new' });
    assert.equal(result.code, EXIT.ok, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout, /creating/);
    assert.equal(sha256(image), bytes);
    assert.equal(blkid(image).tags.UUID, before.UUID);
    assert.equal(run('debugfs', ['-R', 'cat /myid', image]), '3\n');
    assert.deepEqual(fstabEntries(s), [`UUID=${before.UUID} ${s.mountPoint} ext4 defaults,nofail 0 2`]);
  });

  it('refuses a filesystem of another type than FS_TYPE', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    run('mkfs.ext4', ['-q', image]);
    const result = await assertUntouched(s, image, EXIT.refused, { FS_TYPE: 'xfs' });
    assert.match(result.stderr, /holds ext4 \(filesystem\), not xfs/);
  });

  it('refuses a partition table', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    // MBR: one Linux partition (type 0x83) from sector 2048, and the 0x55AA signature.
    const entry = Buffer.from([0x00, 0x20, 0x21, 0x00, 0x83, 0x8a, 0x08, 0x82, 0x00, 0x08, 0x00, 0x00, 0x00, 0xf8, 0x01, 0x00]);
    writeAt(image, 446, entry);
    writeAt(image, 510, Buffer.from([0x55, 0xaa]));
    assert.equal(blkid(image).tags.PTTYPE, 'dos');
    const result = await assertUntouched(s, image, EXIT.refused);
    assert.match(result.stderr, /partition table \(dos\)/);
  });

  it('refuses bytes blkid cannot name: it exits 2 ("nothing found") for them, so the first MiB must read as zeros', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    writeAt(image, 0, noise(MiB));
    assert.equal(blkid(image).status, 2, 'blkid was expected to name nothing here');
    const result = await assertUntouched(s, image, EXIT.refused);
    assert.match(result.stderr, /not blank: bytes at 0\.\.16777216 are not all zeros/);
  });

  it('refuses data in the last MiB only (where backup GPT, md 0.90/1.0 and ZFS keep headers)', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    writeAt(image, 64 * MiB - 4096, noise(4096));
    assert.equal(blkid(image).status, 2);
    const result = await assertUntouched(s, image, EXIT.refused);
    assert.match(result.stderr, /bytes at 66060288\.\.67108864 are not all zeros/);
  });
});

describe('prepare-volume.sh when it cannot tell', () => {
  function fakeBlkid(s: Scratch, body: string): Record<string, string> {
    const bin = join(s.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'blkid'), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, 'blkid'), 0o755);
    return { PATH: `${bin}:${PATH}` };
  }

  it('leaves a blank device alone when blkid fails (exit 4)', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const result = await assertUntouched(s, image, EXIT.detectionFailed, fakeBlkid(s, 'echo "blkid: broken" >&2; exit 4'));
    assert.match(result.stderr, /blkid failed on .* \(exit 4: blkid: broken\): cannot tell whether it holds data/);
  });

  it('leaves it alone when blkid exits 2 with an error, as real blkid does for a device it cannot open', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const env = fakeBlkid(s, 'for last; do :; done; echo "blkid: error: $last: Permission denied" >&2; exit 2');
    const result = await assertUntouched(s, image, EXIT.detectionFailed, env);
    assert.match(result.stderr, /blkid could not probe .*Permission denied/);
  });
});

describe('prepare-volume.sh finding the device', () => {
  it("on Nitro, follows the volume's by-id link even when DEVICE names another disk", { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const nvme = s.blank('sdf');
    const requested = s.blank('sdg');
    const decoy = s.blank('nvme2n1');
    symlinkSync(decoy, join(s.dir, 'by-id', 'nvme-Amazon_Elastic_Block_Store_vol0fedcba9876543210'));
    const [requestedBefore, decoyBefore] = [sha256(requested), sha256(decoy)];

    const result = await prepare(s, { DEVICE: requested });
    assert.equal(result.code, EXIT.ok, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`found ${nvme}, proven to be ${VOLUME_ID}`));
    assert.equal(blkid(nvme).tags.TYPE, 'ext4');
    assert.equal(sha256(requested), requestedBefore);
    assert.equal(sha256(decoy), decoyBefore);
  });

  /** Shows `name` in the fake sysfs as the kernel shows an attached disk: its NVMe serial or its Xen node. */
  function sysfs(s: Scratch, name: string, file: 'serial' | 'nodename', value: string): void {
    mkdirSync(join(s.dir, 'sys', 'block', name, 'device'), { recursive: true });
    writeFileSync(join(s.dir, 'sys', 'block', name, 'device', file), `${value}\n`);
  }

  it("on Xen, takes the disk whose node is the attachment's (/dev/sdf is vbd 2128), whatever the kernel named it", { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const xvdf = s.blank('xvdf');
    sysfs(s, 'xvdf', 'nodename', 'device/vbd/2128');
    const result = await prepare(s);
    assert.equal(result.code, EXIT.ok, result.stdout + result.stderr);
    assert.equal(blkid(xvdf).tags.TYPE, 'ext4');
  });

  it("on Xen, refuses the alias when its node is another attachment's (/dev/sdg)", { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const xvdf = s.blank('xvdf');
    sysfs(s, 'xvdf', 'nodename', 'device/vbd/2144');
    const result = await assertUntouched(s, xvdf, EXIT.identityNotProven);
    assert.match(result.stderr, /is not vol-0123456789abcdef0: it is Xen device\/vbd\/2144, not device\/vbd\/2128 device\/vbd\/51792/);
  });

  it('refuses a blank disk at the Xen alias that nothing proves to be the volume (no serial, no Xen node)', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const xvdf = s.blank('xvdf');
    const result = await assertUntouched(s, xvdf, EXIT.identityNotProven);
    assert.match(result.stderr, /xvdf\) is there, but neither an NVMe serial nor a Xen node proves it is vol-0123456789abcdef0/);
  });

  it("refuses the volume's by-id link when the kernel shows its target's serial as another volume's", { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const sdf = s.blank('sdf');
    sysfs(s, 'sdf', 'serial', 'vol0fedcba9876543210');
    const result = await assertUntouched(s, sdf, EXIT.identityNotProven);
    assert.match(result.stderr, /its NVMe serial is vol0fedcba9876543210, not vol0123456789abcdef0/);
  });

  it('refuses when two disks claim to be the volume', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const sdf = s.blank('sdf');
    s.blank('nvme2n1');
    sysfs(s, 'nvme2n1', 'serial', 'vol0123456789abcdef0');
    const result = await assertUntouched(s, sdf, EXIT.identityNotProven);
    assert.match(result.stderr, /more than one device claims to be vol-0123456789abcdef0/);
  });

  it('gives up after DEVICE_WAIT_SECONDS with the "not found" code, naming what it looked for', async (t) => {
    const s = scratch(t);
    const started = Date.now();
    const result = await prepare(s, { DEVICE_WAIT_SECONDS: '1' });
    assert.equal(result.code, EXIT.notFound, result.stdout + result.stderr);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.match(result.stderr, new RegExp(`no device proven to be ${VOLUME_ID} after 1s; .* and at ${s.dir}/by-id/${BY_ID_NAME} ${s.dir}/sdf ${s.dir}/xvdf$`, 'm'));
  });

  it('outside a dry run, does not take a regular file for the device (a write to a missing /dev/sdf makes one)', async (t) => {
    const s = scratch(t);
    s.blank('sdf');
    const result = await prepare(s, { DRY_MOUNT: '' });
    assert.equal(result.code, EXIT.notFound, result.stdout + result.stderr);
  });
});

describe('prepare-volume.sh and what already claims the mount point', () => {
  it('refuses when fstab mounts another UUID at MOUNT_POINT, and leaves fstab as it was', { skip: PROBE }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    const theirs = `UUID=11111111-2222-3333-4444-555555555555 ${s.mountPoint} ext4 defaults 0 2\n`;
    writeFileSync(s.fstab, theirs);
    const before = sha256(image);
    const result = await prepare(s);
    assert.equal(result.code, EXIT.refused, result.stdout + result.stderr);
    assert.match(result.stderr, /already mounts UUID=11111111-2222-3333-4444-555555555555 at .*left alone/);
    assert.equal(readFileSync(s.fstab, 'utf8'), theirs);
    assert.equal(sha256(image), before);
  });

  it('refuses when fstab mounts this filesystem at another mount point', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    const image = s.blank('sdf');
    run('mkfs.ext4', ['-q', image]);
    const elsewhere = `UUID=${blkid(image).tags.UUID} /srv/old ext4 defaults,nofail 0 2\n`;
    writeFileSync(s.fstab, elsewhere);
    const result = await prepare(s);
    assert.equal(result.code, EXIT.refused, result.stdout + result.stderr);
    assert.match(result.stderr, /at \/srv\/old, not at /);
    assert.equal(readFileSync(s.fstab, 'utf8'), elsewhere);
  });

  it('reports a failing AFTER_COMMAND with its own code, after the volume is ready', { skip: FORMAT }, async (t) => {
    const s = scratch(t);
    s.blank('sdf');
    const result = await prepare(s, { AFTER_COMMAND: 'exit 3' });
    assert.equal(result.code, EXIT.afterCommandFailed, result.stdout + result.stderr);
    assert.match(result.stderr, /AFTER_COMMAND failed \(exit 3\)/);
    assert.equal(fstabEntries(s).length, 1);
  });
});

describe('prepare-volume.sh input', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no VOLUME_ID', { VOLUME_ID: '' }, /VOLUME_ID must look like/],
    ['a malformed VOLUME_ID', { VOLUME_ID: 'vol-XYZ' }, /VOLUME_ID must look like/],
    ['no MAY_FORMAT', { MAY_FORMAT: '' }, /MAY_FORMAT must be 1/],
    ['MAY_FORMAT yes', { MAY_FORMAT: 'yes' }, /MAY_FORMAT must be 1/],
    ['no MOUNT_POINT', { MOUNT_POINT: '' }, /MOUNT_POINT must be/],
    ['MOUNT_POINT /', { MOUNT_POINT: '/' }, /MOUNT_POINT must be/],
    ['a relative MOUNT_POINT', { MOUNT_POINT: 'data' }, /MOUNT_POINT must be/],
    ['a MOUNT_POINT with ..', { MOUNT_POINT: '/var/../etc' }, /MOUNT_POINT must be/],
    ['a MOUNT_POINT with a space', { MOUNT_POINT: '/var/lib/my data' }, /MOUNT_POINT must be/],
    ['FS_TYPE btrfs', { FS_TYPE: 'btrfs' }, /FS_TYPE must be ext4 or xfs/],
    ['an xfs label over 12 characters', { FS_TYPE: 'xfs', FS_LABEL: 'thirteen-char' }, /FS_LABEL must be at most 12/],
    ['MOUNT_OPTIONS with a space', { MOUNT_OPTIONS: 'defaults, nofail' }, /MOUNT_OPTIONS must be/],
    ['DEVICE_WAIT_SECONDS not a number', { DEVICE_WAIT_SECONDS: 'soon' }, /DEVICE_WAIT_SECONDS must be/],
  ];
  for (const [what, env, message] of cases) {
    it(`rejects ${what} with the bad-input code`, async (t) => {
      const s = scratch(t);
      const result = await prepare(s, env);
      assert.equal(result.code, EXIT.badInput, result.stdout + result.stderr);
      assert.match(result.stderr, message);
    });
  }
});
