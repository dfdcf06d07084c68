import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { iamPolicy } from '../../src/iam/policy.ts';
import { setupIamPolicy } from '../../src/iam/setup-policy.ts';

/** `pairkeeper iam-policy` as an operator runs it: the JSON on stdout, the notes on stderr. */
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const EXAMPLE = new URL('../../config/pairkeeper.example.yaml', import.meta.url).pathname;

async function pairkeeper(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, out, err };
}

describe('pairkeeper iam-policy', () => {
  it('prints the policy for the config as JSON alone on stdout, and its notes on stderr', async () => {
    const { code, out, err } = await pairkeeper(['iam-policy', '--config', EXAMPLE]);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), iamPolicy(loadConfig({ PAIRKEEPER_CONFIG: EXAMPLE }).config).policy);
    assert.match(err, /kms:CreateGrant/);
  });

  it('--for setup prints the policy of pairs create and setup (config/iam-policy-setup.json for the example); another --for is bad usage', async () => {
    const { code, out, err } = await pairkeeper(['iam-policy', '--for', 'setup', '--config', EXAMPLE]);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), setupIamPolicy(loadConfig({ PAIRKEEPER_CONFIG: EXAMPLE }).config).policy);
    assert.equal(out, readFileSync(new URL('../../config/iam-policy-setup.json', import.meta.url), 'utf8'));
    const actions = (JSON.parse(out) as { Statement: { Action: string[] }[] }).Statement.flatMap((st) => st.Action);
    assert.ok(actions.includes('ec2:CreateVolume') && actions.includes('autoscaling:PutLifecycleHook'));
    assert.deepEqual(actions.filter((a) => /:Delete|:Attach|:Detach/.test(a)), [], 'it deletes and attaches nothing');
    assert.match(err, /iam:PassRole/);
    const other = await pairkeeper(['iam-policy', '--for', 'lambda', '--config', EXAMPLE]);
    assert.equal(other.code, 2);
    assert.match(other.err, /only "setup"/);
  });

  it('refuses an invalid config with exit status 2, as the service would', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pk-iam-')), 'bad.yaml');
    writeFileSync(path, 'aws: { region: nowhere }\n');
    const { code, out, err } = await pairkeeper(['iam-policy', '--config', path]);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /aws\.region/);
  });
});
