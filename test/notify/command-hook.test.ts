import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { commandEnvironment } from '../../src/notify/command-hook.ts';
import { notifyEvent } from '../../src/domain/notify-event.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { FAST_RETRY, attached, notifierFor } from './notifier-setup.ts';

/** A hook written in JavaScript, run by this very node: `node -e <script> <args…>`. */
function hook(script: string, ...args: string[]): string[] {
  return [process.execPath, '-e', script, ...args];
}

/** Every variable a pair.attached event sets (see attached()). */
const EVENT_VARIABLES = ['PAIRKEEPER_EVENT', 'PAIRKEEPER_EVENT_TYPE', 'PAIRKEEPER_EVENT_ID', 'NODE_ID', 'NODE_IP', 'INSTANCE_ID', 'VOLUME_ID', 'NETWORK_INTERFACE_ID', 'GROUP', 'AVAILABILITY_ZONE'];

/** Sets (or, for undefined, removes) variables in this process's environment; returns the undo. */
function setEnv(values: Record<string, string | undefined>): () => void {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (vars: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(vars)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(before);
}

/** Running, that is: a killed process its new parent has not reaped yet (a zombie) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('command notifications', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pairkeeper-hook-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs argv with no shell, the event in the environment', async () => {
    const out = join(dir, 'env.json');
    const script = `require('fs').writeFileSync(process.argv[1], JSON.stringify({ argv: process.argv.slice(2), env: process.env }))`;
    const { notifier } = notifierFor({ commands: [{ run: hook(script, out, '$HOME; echo hi', '`id`') }] });
    const event = attached({ reason: 'testing' });
    void notifier.emit(event);
    await notifier.idle();

    const seen = JSON.parse(await readFile(out, 'utf8')) as { argv: string[]; env: Record<string, string> };
    assert.deepEqual(seen.argv, ['$HOME; echo hi', '`id`'], 'arguments reach the hook as written');
    assert.deepEqual(JSON.parse(seen.env.PAIRKEEPER_EVENT!), event);
    assert.equal(seen.env.PAIRKEEPER_EVENT_TYPE, 'pair.attached');
    assert.equal(seen.env.PAIRKEEPER_EVENT_ID, event.id);
    assert.equal(seen.env.NODE_ID, '2');
    assert.equal(seen.env.NODE_IP, '10.0.1.12');
    assert.equal(seen.env.INSTANCE_ID, 'i-0abc1234def567890');
    assert.equal(seen.env.VOLUME_ID, 'vol-0123456789abcdef0');
    assert.equal(seen.env.NETWORK_INTERFACE_ID, 'eni-0fedcba9876543210');
    assert.equal(seen.env.GROUP, 'etcd');
    assert.equal(seen.env.AVAILABILITY_ZONE, 'eu-west-1a');
    assert.equal(seen.env.PATH, process.env.PATH, "pairkeeper's PATH is passed on");
    const [record] = notifier.deliveries();
    assert.equal(record?.outcome, 'delivered');
    assert.equal(record.exitCode, 0);
    assert.equal(record.target, process.execPath);
    await notifier.close();
  });

  it("gives the hook an explicit environment: never pairkeeper's AWS credentials", async () => {
    const out = join(dir, 'env.json');
    const script = `require('fs').writeFileSync(process.argv[1], JSON.stringify(process.env))`;
    const { notifier } = notifierFor({ commands: [{ run: hook(script, out) }] });
    const restore = setEnv({
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-of-pairkeeper',
      AWS_SESSION_TOKEN: 'session-of-pairkeeper',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'token-of-pairkeeper',
      PAIRKEEPER_CONFIG: '/etc/pairkeeper/pairkeeper.yaml',
      HOME: '/var/lib/pairkeeper',
      LANG: 'C.UTF-8',
    });
    try {
      void notifier.emit(attached());
      await notifier.idle();
    } finally {
      restore();
    }
    const seen = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(seen).sort(), [...EVENT_VARIABLES, 'HOME', 'LANG', 'PATH'].sort());
    assert.deepEqual([seen.HOME, seen.LANG, seen.PATH], ['/var/lib/pairkeeper', 'C.UTF-8', process.env.PATH]);
    await notifier.close();
  });

  it('passes on what the operator lists: env (fixed values) and passEnv (names from pairkeeper\'s environment)', async () => {
    const out = join(dir, 'env.json');
    const script = `require('fs').writeFileSync(process.argv[1], JSON.stringify(process.env))`;
    const { notifier } = notifierFor({
      commands: [{ run: hook(script, out), env: { SALT_TARGET: 'etcd*', PATH: '/opt/salt/bin:/usr/bin' }, passEnv: ['SALT_API_TOKEN_FILE', 'NOT_SET_ANYWHERE'] }],
    });
    const restore = setEnv({ SALT_API_TOKEN_FILE: '/run/salt/token', AWS_SECRET_ACCESS_KEY: 'secret-of-pairkeeper', NOT_SET_ANYWHERE: undefined });
    try {
      void notifier.emit(attached());
      await notifier.idle();
    } finally {
      restore();
    }
    const seen = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    assert.equal(seen.SALT_TARGET, 'etcd*');
    assert.equal(seen.PATH, '/opt/salt/bin:/usr/bin', 'a fixed value wins over the passed-on PATH');
    assert.equal(seen.SALT_API_TOKEN_FILE, '/run/salt/token');
    assert.ok(!('NOT_SET_ANYWHERE' in seen), 'a listed name pairkeeper does not have stays unset');
    assert.ok(!('AWS_SECRET_ACCESS_KEY' in seen));
    await notifier.close();
  });

  it('sets only the variables the event has, and never passes on an inherited one of the same name', () => {
    const waiting = notifyEvent('instance.waiting', { group: 'etcd', instanceId: 'i-1', availabilityZone: 'eu-west-1a', reason: 'no free pair in eu-west-1a' });
    const env = commandEnvironment(waiting, { env: {}, passEnv: [] }, { PATH: '/usr/bin', NODE_ID: 'stale', VOLUME_ID: 'vol-stale' });
    assert.deepEqual(Object.keys(env).sort(), ['AVAILABILITY_ZONE', 'GROUP', 'INSTANCE_ID', 'PAIRKEEPER_EVENT', 'PAIRKEEPER_EVENT_ID', 'PAIRKEEPER_EVENT_TYPE', 'PATH']);
    assert.equal(env.PAIRKEEPER_EVENT_TYPE, 'instance.waiting');
  });

  it('retries a failing command until it succeeds, keeping its output in the record', async () => {
    const counter = join(dir, 'count');
    const script = `
      const fs = require('fs'); const f = process.argv[1];
      const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0) + 1;
      fs.writeFileSync(f, String(n));
      if (n < 3) { console.error('salt-master not reachable (try ' + n + ')'); process.exit(7); }
      console.log('highstate queued');`;
    const { notifier, logs } = notifierFor({ commands: [{ run: hook(script, counter) }], retry: FAST_RETRY });
    void notifier.emit(attached());
    await notifier.idle();
    assert.deepEqual(
      notifier.deliveries().map((r) => [r.outcome, r.attempt, r.exitCode, r.output]),
      [
        ['failed', 1, 7, 'salt-master not reachable (try 1)'],
        ['failed', 2, 7, 'salt-master not reachable (try 2)'],
        ['delivered', 3, 0, 'highstate queued'],
      ],
    );
    assert.equal(notifier.deliveries()[0]!.error, 'exited with 7');
    const [warning] = logs.find('notification attempt failed; will retry');
    assert.equal(warning?.output, 'salt-master not reachable (try 1)');
    await notifier.close();
  });

  it('keeps only the last 2 KiB of output', async () => {
    const script = `process.stdout.write('x'.repeat(10000)); process.stderr.write('END'); process.exitCode = 1;`;
    const { notifier } = notifierFor({ commands: [{ run: hook(script) }], retry: { attempts: 1 } });
    void notifier.emit(attached());
    await notifier.idle();
    const [record] = notifier.deliveries();
    assert.equal(record?.outcome, 'gave-up');
    assert.ok(record.output!.length <= 2048);
    assert.ok(record.output!.endsWith('xEND'));
    await notifier.close();
  });

  it('kills a hanging command at timeoutMs, its children too, and retries', async () => {
    const pids = join(dir, 'pids');
    // The hook starts a child that inherits its stdout and hangs as well: both must go.
    const script = `
      const { spawn } = require('child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
      require('fs').appendFileSync(process.argv[1], process.pid + ' ' + child.pid + ' ');
      setInterval(() => {}, 1000);`;
    const { notifier } = notifierFor({ commands: [{ run: hook(script, pids), timeoutMs: 1000 }], retry: { attempts: 2, baseMs: 1, capMs: 1 } });
    void notifier.emit(attached());
    await notifier.idle();
    assert.deepEqual(
      notifier.deliveries().map((r) => [r.outcome, r.attempt, r.signal, r.error]),
      [
        ['failed', 1, 'SIGKILL', 'timed out after 1000 ms; killed'],
        ['gave-up', 2, 'SIGKILL', 'timed out after 1000 ms; killed (still failing after 2 attempts)'],
      ],
    );
    const started = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    assert.equal(started.length, 4, 'two hooks, each with a child');
    await waitFor(() => !started.some(alive), 'every hook and child to be gone');
    await notifier.close();
  });

  it('retries a command that cannot be started, then gives up', async () => {
    const missing = join(dir, 'no-such-hook');
    const { notifier } = notifierFor({ commands: [{ run: [missing, 'arg'] }], retry: { attempts: 2, baseMs: 1, capMs: 1 } });
    void notifier.emit(attached());
    await notifier.idle();
    const records = notifier.deliveries();
    assert.deepEqual(
      records.map((r) => r.outcome),
      ['failed', 'gave-up'],
    );
    assert.match(records[0]!.error!, /cannot run .*no-such-hook: spawn .* ENOENT/);
    assert.equal(records[0]!.target, missing);
    await notifier.close();
  });

  it('close() kills a command still running after closeTimeoutMs', async () => {
    const { notifier } = notifierFor({ commands: [{ run: hook('setInterval(() => {}, 1000)'), timeoutMs: 60_000 }] }, { closeTimeoutMs: 50 });
    void notifier.emit(attached());
    await waitFor(() => notifier.stats().inFlight === 1, 'the hook to start');
    await notifier.close();
    const [record] = notifier.deliveries();
    assert.equal(record?.outcome, 'dropped');
    assert.equal(record.signal, 'SIGKILL');
    assert.match(record.error!, /killed: the notifier is closing/);
  });
});
