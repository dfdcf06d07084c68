import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from './helpers/free-port.ts';
import { waitFor } from './helpers/wait-for.ts';

/** The real entry point, as `npm start` runs it: config from a file, two listeners, signals. */
const ENTRY = new URL('../src/server.ts', import.meta.url).pathname;
const EXAMPLE = new URL('../config/pairkeeper.example.yaml', import.meta.url).pathname;


function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [ENTRY], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

describe('server entry', () => {
  it('starts with the example config, serves both listeners, and stops cleanly on SIGTERM', async () => {
    const [listen, admin] = [await freePort(), await freePort()];
    const s = start({ PAIRKEEPER_CONFIG: EXAMPLE, PAIRKEEPER_LISTEN_PORT: String(listen), PAIRKEEPER_ADMIN_PORT: String(admin) });
    await waitFor(() => s.out().includes('pairkeeper started'), 'start-up');
    assert.equal((await fetch(`http://127.0.0.1:${listen}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${admin}/healthz`)).status, 200);
    const refused = await fetch(`http://127.0.0.1:${listen}/sns`, { method: 'POST', body: '{}' });
    assert.equal(refused.status, 400);
    s.child.kill('SIGTERM');
    const [code] = (await once(s.child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.match(s.out(), /"msg":"stopped"/);
    assert.equal(s.err().includes('Deprecation'), false, s.err());
  });

  it('refuses to start on a bad key, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'aws: { region: us-east-1 }\nsns: { topicArns: [arn:aws:sns:us-east-1:123456789012:t], autoconfirm: true }\n');
    const s = start({ PAIRKEEPER_CONFIG: path });
    const [code] = (await once(s.child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(s.err(), /sns\.autoconfirm: unknown key/);
  });

  it('refuses to start without a config file, saying which path it tried', async () => {
    const s = start({ PAIRKEEPER_CONFIG: '/nonexistent/pairkeeper.yaml' });
    const [code] = (await once(s.child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(s.err(), /cannot read config file \/nonexistent\/pairkeeper\.yaml/);
  });
});
