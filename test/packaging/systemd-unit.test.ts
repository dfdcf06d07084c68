import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { imageMallocEnv, imageNodeFlags } from '../../bench/image-node.ts';

/**
 * config/pairkeeper.service, read as systemd reads it: sections of `Key=value`
 * lines, a key may repeat. Checked for what running beside a Salt master needs;
 * where systemd-analyze is installed, systemd itself verifies it too.
 */
const UNIT = readFileSync(new URL('../../config/pairkeeper.service', import.meta.url), 'utf8');
const IMAGE_NODE_FLAGS = imageNodeFlags();
const DRAIN_SECONDS = 20; // server.ts gives work in flight this long after SIGTERM

type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** systemd's time span, as far as a unit would write one: `30`, `30s`, `1min 30s`. */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  return span.split(/\s+/).reduce((sum, part) => {
    const [, n, unit] = /^(\d+)([a-z]*)$/.exec(part) ?? [];
    if (n === undefined || units[unit!] === undefined) throw new Error(`cannot read time span ${span}`);
    return sum + Number(n) * units[unit!]!;
  }, 0);
}

function unitProblems(text: string): string[] {
  const unit = parseUnit(text);
  const values = (section: string, key: string) => unit.get(section)?.get(key) ?? [];
  const last = (section: string, key: string) => values(section, key).at(-1);
  const words = (section: string, key: string) => values(section, key).flatMap((v) => v.split(/\s+/));
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => ok || problems.push(problem);

  expect(words('Unit', 'After').includes('network-online.target'), 'not After=network-online.target');
  expect(words('Unit', 'Wants').includes('network-online.target'), 'not Wants=network-online.target (After= alone does not pull it in)');
  expect(['simple', 'exec'].includes(last('Service', 'Type') ?? 'simple'), `Type=${last('Service', 'Type')}: server.ts does not fork or notify`);
  expect(last('Service', 'User') === 'pairkeeper', 'not User=pairkeeper');
  expect(words('Service', 'Environment').includes('PAIRKEEPER_CONFIG=/etc/pairkeeper/pairkeeper.yaml'), 'no Environment=PAIRKEEPER_CONFIG=/etc/pairkeeper/pairkeeper.yaml');
  expect(last('Service', 'WorkingDirectory') === '/opt/pairkeeper', 'not WorkingDirectory=/opt/pairkeeper');
  const start = last('Service', 'ExecStart') ?? '';
  // node's flags as the image gives them: the memory the README and the benchmarks state is theirs.
  const flags = IMAGE_NODE_FLAGS.join(' ');
  const started = /^\/\S*\/node (.*?) ?(src\/cli\.ts serve|src\/server\.ts)$/.exec(start);
  expect(started?.[1] === flags, `ExecStart=${start}: expected an absolute node ${flags} running src/cli.ts serve`);
  // and its allocator settings, for the same reason.
  for (const [name, value] of Object.entries(imageMallocEnv())) {
    expect(words('Service', 'Environment').includes(`${name}=${value}`), `no Environment=${name}=${value}, which the image sets`);
  }
  expect(last('Service', 'Restart') === 'on-failure', 'not Restart=on-failure');
  const stop = last('Service', 'TimeoutStopSec');
  expect(stop !== undefined && seconds(stop) > DRAIN_SECONDS, `TimeoutStopSec=${stop}: must exceed the ${DRAIN_SECONDS} s drain`);
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes']]) {
    expect(last('Service', key!) === value, `not ${key}=${value}`);
  }
  const writable = last('Service', 'StateDirectory') === 'pairkeeper' || words('Service', 'ReadWritePaths').includes('/var/lib/pairkeeper');
  expect(writable, '/var/lib/pairkeeper (the claims file) is not writable under ProtectSystem=strict');
  const cache = words('Service', 'Environment').find((e) => e.startsWith('NODE_COMPILE_CACHE='))?.slice('NODE_COMPILE_CACHE='.length);
  const cacheWritable = cache === `/var/cache/${last('Service', 'CacheDirectory')}` || words('Service', 'ReadWritePaths').includes(cache ?? '');
  expect(cache === undefined || cacheWritable, `NODE_COMPILE_CACHE=${cache} is not writable under ProtectSystem=strict`);
  // Hooks run in the service's cgroup: a leaking or forking hook must hit a limit, not the Salt master beside it.
  const memory = last('Service', 'MemoryMax');
  expect(memory !== undefined && /^\d+[KMG]$/.test(memory), `MemoryMax=${memory ?? ''}: expected a bound in K, M or G`);
  const tasks = last('Service', 'TasksMax');
  expect(tasks !== undefined && /^\d+$/.test(tasks), `TasksMax=${tasks ?? ''}: expected a number of tasks`);
  expect(words('Install', 'WantedBy').includes('multi-user.target'), 'not WantedBy=multi-user.target');
  return problems;
}

const BROKEN = `[Unit]
After=network.target
[Service]
Type=forking
ExecStart=node src/server.ts
Environment=NODE_COMPILE_CACHE=/var/cache/node
Restart=always
TimeoutStopSec=10s
ProtectSystem=full
MemoryMax=infinity
`;

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).error === undefined;

/** Runs systemd-analyze on a copy of the unit `text`. */
function systemdAnalyze(args: string[], text: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pk-unit-'));
  const path = join(dir, 'pairkeeper.service');
  // verify checks that ExecStart's program exists; /usr/bin/node need not on this machine.
  writeFileSync(path, text.replace(/^ExecStart=\S+\/node /m, `ExecStart=${process.execPath} `));
  const run = spawnSync('systemd-analyze', [...args, path], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('config/pairkeeper.service', () => {
  it('runs pairkeeper serve as user pairkeeper, hardened, with time to drain', () => {
    assert.deepEqual(unitProblems(UNIT), []);
  });

  it('would fail on a unit that misses them', () => {
    assert.deepEqual(unitProblems(BROKEN), [
      'not After=network-online.target',
      'not Wants=network-online.target (After= alone does not pull it in)',
      'Type=forking: server.ts does not fork or notify',
      'not User=pairkeeper',
      'no Environment=PAIRKEEPER_CONFIG=/etc/pairkeeper/pairkeeper.yaml',
      'not WorkingDirectory=/opt/pairkeeper',
      `ExecStart=node src/server.ts: expected an absolute node ${IMAGE_NODE_FLAGS.join(' ')} running src/cli.ts serve`,
      ...Object.entries(imageMallocEnv()).map(([name, value]) => `no Environment=${name}=${value}, which the image sets`),
      'not Restart=on-failure',
      'TimeoutStopSec=10s: must exceed the 20 s drain',
      'not NoNewPrivileges=yes',
      'not ProtectSystem=strict',
      'not ProtectHome=yes',
      'not PrivateTmp=yes',
      '/var/lib/pairkeeper (the claims file) is not writable under ProtectSystem=strict',
      'NODE_COMPILE_CACHE=/var/cache/node is not writable under ProtectSystem=strict',
      'MemoryMax=infinity: expected a bound in K, M or G',
      'TasksMax=: expected a number of tasks',
      'not WantedBy=multi-user.target',
    ]);
  });

  it('passes systemd-analyze verify, and its offline security review at exposure 2.0 or less', { skip: !hasSystemdAnalyze && 'systemd-analyze is not installed' }, () => {
    assert.deepEqual(systemdAnalyze(['verify'], UNIT), { status: 0, stderr: '' });
    const security = systemdAnalyze(['security', '--offline=yes', '--threshold=20'], UNIT);
    assert.equal(security.status, 0, security.stderr);
    // And verify does complain: a misspelt key and a bad value.
    const typo = systemdAnalyze(['verify'], UNIT.replace('NoNewPrivileges=yes', 'NoNewPriviliges=yes').replace('Restart=on-failure', 'Restart=sometimes'));
    assert.match(typo.stderr, /Unknown key 'NoNewPriviliges'/);
    assert.match(typo.stderr, /restart specifier.*sometimes/);
  });
});
