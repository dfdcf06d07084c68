import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TOPIC, startSnsHarness, type SnsHarness } from '../helpers/sns-app.ts';

/**
 * An outsider floods the public listener with unauthenticated junk over loopback.
 * Whatever the junk puts in the envelope fields, what pairkeeper keeps and logs
 * stays small, and the genuine messages handled before the flood stay visible in
 * `/v1/events`. Bounded: a few dozen bodies of just under 1 MiB, then several
 * hundred short ones (more than the events ring holds).
 */
const LAUNCH = readFileSync(new URL('../../src/sns/samples/launch.json', import.meta.url), 'utf8');
const BODY_BYTES = 1000 * 1000;
const BIG_BODIES = 24;
const FIELDS = ['MessageId', 'TopicArn', 'Timestamp', 'Type', 'SignatureVersion', 'Signature', 'SigningCertURL', 'Subject', 'Token', 'SubscribeURL'];

describe('a flood of unauthenticated junk', () => {
  let h: SnsHarness;
  let base = '';
  const genuine: string[] = [];

  before(async () => {
    h = await startSnsHarness();
    await h.app.publicApp.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(h.app.publicApp.server.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      assert.equal((await h.post(msg)).status, 200);
      genuine.push(msg.MessageId);
    }
  });
  after(() => h.close());

  /** A body that looks like SNS (a refusable signature) with `size` characters in `field`. */
  const junk = (field: string, size: number): string => {
    const msg: Record<string, string> = {
      Type: 'Notification',
      MessageId: crypto.randomUUID(),
      TopicArn: TOPIC,
      Message: 'x',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'AAAA',
      SigningCertURL: h.endpoint.certUrl,
    };
    msg[field] = (field === 'SigningCertURL' ? `${h.endpoint.certUrl}#` : '') + 'A'.repeat(size);
    return JSON.stringify(msg);
  };
  const pad = (body: string): string => body.replace(/}$/, `,"Padding":"${'p'.repeat(Math.max(0, BODY_BYTES - body.length - 14))}"}`);

  const flood = async (bodies: string[]): Promise<void> => {
    for (const body of bodies) {
      const res = await fetch(`${base}/sns`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body });
      assert.ok(res.status >= 400 && res.status < 500, `junk is refused for good (got ${res.status})`);
      await res.arrayBuffer();
    }
  };

  /** What the events route carries: everything kept about handled and refused messages. */
  const keptBytes = async (): Promise<number> => (await h.app.adminApp.inject({ method: 'GET', url: '/v1/events' })).body.length;

  it('oversized fields cost no more than short ones, log nothing long, and leave /v1/events its genuine messages', async () => {
    const shortFlood = Array.from({ length: BIG_BODIES }, (_, i) => pad(junk(FIELDS[i % FIELDS.length]!, 8)));
    const oversizedFlood = Array.from({ length: BIG_BODIES }, (_, i) => pad(junk(FIELDS[i % FIELDS.length]!, BODY_BYTES - 1000)));
    assert.ok(oversizedFlood.every((b) => b.length <= BODY_BYTES + 20));

    await flood(shortFlood);
    const afterShort = await keptBytes();
    await flood(oversizedFlood);
    const afterOversized = await keptBytes();
    // The same number of refusals: what is kept may differ by the lengths of bounded fields only.
    assert.ok(afterOversized - afterShort < 16 * 1024, `kept ${afterOversized - afterShort} more bytes for oversized fields`);

    const longest = Math.max(...h.logs.raw.map((l) => l.length));
    assert.ok(longest < 4096, `longest log line is ${longest} characters`);

    // Many short junk messages: more than the events ring holds.
    const many = Array.from({ length: 700 }, (_, i) => junk(FIELDS[i % FIELDS.length]!, 8));
    await flood(many);
    const listed = (await h.app.adminApp.inject({ method: 'GET', url: '/v1/events' })).json<{ events: { messageId: string; outcome: string }[]; refused: { detail: string }[] }>();
    for (const id of genuine) assert.ok(listed.events.some((e) => e.messageId === id && e.outcome === 'accepted'), `genuine message ${id} still listed`);
    assert.ok(listed.refused.length > 0 && listed.refused.length <= 100, 'refusals are listed apart, in a bounded ring');
    assert.ok(listed.refused.every((r) => r.detail.startsWith('PK_SNS_')));
  });
});
