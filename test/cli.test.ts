import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seedPairs, type SeedResult } from '../fake-aws/ec2/seed.ts';
import { startFakeAws, type FakeAws } from '../fake-aws/index.ts';
import { freePort } from './helpers/free-port.ts';
import { waitFor } from './helpers/wait-for.ts';

/** The `pairkeeper` command as an operator runs it: a child process, its output and exit status. */
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const EXAMPLE = new URL('../config/pairkeeper.example.yaml', import.meta.url).pathname;

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (output.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.err += d.toString()));
  return { child, output };
}

async function pairkeeper(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const { child, output } = start(args, env);
  const [code] = (await once(child, 'close')) as [number];
  return { code, ...output };
}

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pk-cli-')), 'pairkeeper.yaml');
  writeFileSync(path, text);
  return path;
}

describe('pairkeeper CLI', () => {
  it('prints its usage for --help, -h and no arguments: commands and environment', async () => {
    for (const args of [['--help'], ['-h'], [], ['help'], ['pairs', '--help']]) {
      const { code, out } = await pairkeeper(args);
      assert.equal(code, 0, args.join(' '));
      for (const word of ['serve', 'check-config', 'pairs', 'pairs create', 'setup', 'status', '--apply', '--for setup', '--config', '--json', 'PAIRKEEPER_CONFIG', 'PAIRKEEPER_LISTEN_PORT', 'PAIRKEEPER_ADMIN_PORT']) {
        assert.ok(out.includes(word), `usage lacks ${word}`);
      }
    }
  });

  it('answers an unknown command or flag with the usage on stderr and exit 2', async () => {
    for (const args of [['frobnicate'], ['pairs', '--verbose'], ['check-config', 'extra'], ['check-config', '--json'], ['pairs', 'create', '--json'], ['setup', '--nodes', 'a']]) {
      const { code, out, err } = await pairkeeper(args);
      assert.equal(code, 2, args.join(' '));
      assert.equal(out, '');
      assert.match(err, /^pairkeeper: .+\n\nUsage: pairkeeper <command>/);
    }
  });

  describe('check-config', () => {
    it('prints the example config with its defaults resolved, and exits 0', async () => {
      const { code, out } = await pairkeeper(['check-config', '--config', EXAMPLE]);
      assert.equal(code, 0);
      assert.match(out, /is valid/);
      assert.match(out, /pollIntervalMs: 1500/);
      assert.match(out, /filters: Env=production,Service=etcd/);
    });

    it('reads PAIRKEEPER_CONFIG and applies the port overrides', async () => {
      const { code, out } = await pairkeeper(['check-config'], { PAIRKEEPER_CONFIG: EXAMPLE, PAIRKEEPER_ADMIN_PORT: '9099' });
      assert.equal(code, 0);
      assert.match(out, /port: 9099/);
    });

    it('redacts the admin token', async () => {
      const path = writeConfig('aws: { region: us-east-1 }\nsns: { topicArns: [arn:aws:sns:us-east-1:123456789012:t] }\nadmin: { token: s3cret-s3cret-s3cret }\n');
      const { code, out } = await pairkeeper(['check-config', '--config', path]);
      assert.equal(code, 0);
      assert.equal(out.includes('s3cret'), false, out);
      assert.match(out, /token: "?\[redacted\]"?/);
    });

    it('exits 2 on a bad key, naming it', async () => {
      const path = writeConfig('aws: { region: us-east-1 }\nsns: { topicArns: [arn:aws:sns:us-east-1:123456789012:t], autoconfirm: true }\n');
      const { code, out, err } = await pairkeeper(['check-config', '--config', path]);
      assert.equal(code, 2);
      assert.equal(out, '');
      assert.match(err, /sns\.autoconfirm: unknown key/);
    });
  });

  describe('pairs, against the local AWS', () => {
    let aws: FakeAws;
    let seeded: SeedResult;
    let config: string;

    before(async () => {
      aws = await startFakeAws();
      seeded = seedPairs(aws.ec2, { azs: ['us-east-1a', 'us-east-1b'], pairs: 3, tags: { Service: 'etcd' }, broken: [{ kind: 'volume-only' }] });
      // Another service's pair, NodeID node-1 too: unless the filters leave it out, node-1 shows as broken.
      seedPairs(aws.ec2, { azs: ['us-east-1a'], pairs: 1, tags: { Service: 'kafka' } });
      // A running member without a pair: a service that started working would attach one to it.
      aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: ['us-east-1a'], minSize: 0, maxSize: 1, desiredCapacity: 1 });
      await waitFor(() => [...aws.autoScaling.requireGroup('etcd').members.values()].some((m) => m.lifecycleState === 'InService'), 'the member to be in service');
      const claimsDir = mkdtempSync(join(tmpdir(), 'pk-cli-claims-'));
      config = writeConfig(
        `aws: { region: ${aws.region} }\n` +
          `sns: { topicArns: ['arn:aws:sns:${aws.region}:${aws.accountId}:etcd'] }\n` +
          'groups: [{ name: etcd, filters: Service=etcd }]\n' +
          `claims: { path: ${join(claimsDir, 'claims.json')} }\n`,
      );
    });
    after(() => aws.close());

    it('prints the pair table of each group and exits 0', async () => {
      const { code, out, err } = await pairkeeper(['pairs', '--config', config], aws.env());
      assert.equal(code, 0, err);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0]!, /^GROUP\s+NODEID\s+AVAILABILITYZONE\s+VOLUMEID\s+NETWORKINTERFACEID\s+PRIVATEIP\s+STATUS\s+HOLDER\s+PROBLEM$/);
      assert.equal(lines.length, 1 + 4);
      for (const pair of seeded.pairs) {
        assert.ok(lines.some((l) => l.startsWith(`etcd   ${pair.nodeId} `) && l.includes(pair.volumeId) && l.includes(pair.eniId) && / free /.test(l)), `${pair.nodeId} missing:\n${out}`);
      }
      assert.ok(lines.some((l) => l.includes('node-4') && l.includes('incomplete') && l.includes('no ENI with this NodeID')), out);
    });

    it('prints the same rows as JSON with --json', async () => {
      const { code, out, err } = await pairkeeper(['pairs', '--json', '--config', config], aws.env());
      assert.equal(code, 0, err);
      const { pairs } = JSON.parse(out) as { pairs: { group: string; nodeId: string; volumeId?: string; networkInterfaceId?: string; status: string }[] };
      assert.deepEqual(
        pairs.map((p) => [p.nodeId, p.volumeId, p.networkInterfaceId, p.status]),
        [...seeded.pairs.map((p) => [p.nodeId, p.volumeId, p.eniId, 'free']), ['node-4', seeded.broken[0]!.volumeIds[0], undefined, 'incomplete']],
      );
      assert.ok(pairs.every((p) => p.group === 'etcd'));
    });

    it('only reads: no call that changes AWS, and the running member is left unpaired', async () => {
      aws.faults.resetCounts();
      const { code, err } = await pairkeeper(['pairs', '--config', config], aws.env());
      assert.equal(code, 0, err);
      const calls = Object.keys(aws.faults.calls());
      assert.ok(calls.length > 0);
      for (const call of calls) assert.match(call, /^\w+:(Describe|Get|List)/);
      assert.ok(seeded.pairs.every((p) => aws.ec2.volume(p.volumeId)?.attachment === undefined));
    });

    // Last: the service it starts may well pair the running member.
    it('serve runs the service with the --config file until SIGTERM', async () => {
      const ports = { PAIRKEEPER_LISTEN_PORT: String(await freePort()), PAIRKEEPER_ADMIN_PORT: String(await freePort()) };
      const { child, output } = start(['serve', '--config', config], { ...aws.env(), ...ports });
      await waitFor(() => output.out.includes('pairkeeper started'), 'start-up');
      assert.ok(output.out.includes(config), output.out);
      const res = await fetch(`http://127.0.0.1:${ports.PAIRKEEPER_LISTEN_PORT}/sns`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 400);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, output.err);
    });
  });

  describe('status', () => {
    it('exits 1 naming the admin URL when nothing answers there', async () => {
      const port = await freePort();
      const path = writeConfig(`aws: { region: us-east-1 }\nsns: { topicArns: [arn:aws:sns:us-east-1:123456789012:t] }\nadmin: { port: ${port} }\n`);
      const { code, out, err } = await pairkeeper(['status', '--config', path]);
      assert.equal(code, 1);
      assert.equal(out, '');
      assert.match(err, new RegExp(`pairkeeper: status: no answer from http://127\\.0\\.0\\.1:${port}/v1/status .*\\(PK_STATUS_UNREACHABLE\\)`));
    });
  });
});
