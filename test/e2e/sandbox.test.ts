import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** `npm run sandbox`, the README's way to try pairkeeper: it comes up, and a scale-out reaches pairkeeper. */
describe('sandbox', () => {
  for (const [mode, args, proof] of [
    ['', [], /subscription confirmed/],
    [' in queue mode (SNS into SQS)', ['--queue'], /"format":"sns-envelope".*queued event accepted/],
    [' in queue mode (EventBridge into SQS)', ['--queue=eventbridge'], /"format":"eventbridge".*queued event accepted/],
  ] as const) {
    it(`starts the local AWS and pairkeeper${mode}, and a scale-out gets its pairs attached`, async () => {
      const ports = { aws: await freePort(), sns: await freePort(), listen: await freePort(), admin: await freePort() };
      const child = spawn(process.execPath, [new URL('../../fake-aws/sandbox.ts', import.meta.url).pathname, ...args], {
        env: { ...process.env, FAKE_AWS_PORT: String(ports.aws), FAKE_SNS_PORT: String(ports.sns), PAIRKEEPER_LISTEN_PORT: String(ports.listen), PAIRKEEPER_ADMIN_PORT: String(ports.admin) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await waitFor(() => out.includes('sandbox: ready'), 'the sandbox', 30_000);
        const scaled = await fetch(`http://127.0.0.1:${ports.aws}/_fake/groups/etcd/desired-capacity`, { method: 'POST', body: '{"desiredCapacity":2}' });
        assert.equal(scaled.status, 200);
        await waitFor(async () => {
          const { events } = (await (await fetch(`http://127.0.0.1:${ports.admin}/v1/events`)).json()) as { events: { kind?: string }[] };
          return events.filter((e) => e.kind === 'launch').length === 2;
        }, 'two launch events', 20_000);
        await waitFor(async () => {
          const { pairs } = (await (await fetch(`http://127.0.0.1:${ports.admin}/v1/pairs`)).json()) as { pairs: { status: string }[] };
          return pairs.filter((p) => p.status === 'attached').length === 2;
        }, 'two attached pairs', 20_000);
      } finally {
        child.kill('SIGINT');
        // A sandbox that does not stop would hold the test until its timeout and hide why the test failed.
        const stopped = await Promise.race([once(child, 'exit').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
        if (!stopped) child.kill('SIGKILL');
        assert.ok(stopped, `the sandbox did not stop within 20 s of SIGINT; its output ends: ${out.slice(-2000)}`);
      }
      assert.match(out, proof);
    });
  }
});
