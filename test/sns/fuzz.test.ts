import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../fake-aws/random.ts';
import { TOPIC, startSnsHarness, type SnsHarness } from '../helpers/sns-app.ts';

/**
 * Malformed, mangled and hostile bodies: none may crash the process or earn a 5xx
 * (a 5xx makes SNS retry, and these can never become valid). Seeded, so a failure
 * names the seed and the body that caused it. A SigningCertURL on an allowed host
 * that cannot be reached is the one designed exception (503: a retry could
 * succeed), so mutations keep the certificate URL genuine or clearly invalid.
 */
const SEEDS = [1, 2, 3];
const ROUNDS = 150;
const LAUNCH = readFileSync(new URL('../../src/sns/samples/launch.json', import.meta.url), 'utf8');

const weird: unknown[] = [null, true, 0, -1, 1e308, '', ' ', '\u0000', '\ud800', '💥'.repeat(1000), [], {}, [[[]]], { Type: 'Notification' }, 'x'.repeat(100_000)];

function mutate(base: Record<string, unknown>, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const keys = Object.keys(base);
  const msg: Record<string, unknown> = { ...base };
  const ops = 1 + Math.floor(random() * 3);
  for (let i = 0; i < ops; i++) {
    const key = pick(keys);
    switch (Math.floor(random() * 7)) {
      case 0:
        delete msg[key];
        break;
      case 1:
        msg[key] = pick(weird);
        break;
      case 2:
        msg[key] = JSON.stringify(msg[key] ?? '').slice(0, Math.floor(random() * 20));
        break;
      case 3:
        msg.Type = pick(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', 'notification', '']);
        break;
      case 4:
        msg.Message = pick([JSON.stringify({ AutoScalingGroupName: pick(weird), Event: pick(weird) }), '{', '[]', LAUNCH.replace('i-', pick(['', 'i-;', 'x']))]);
        break;
      case 5:
        msg.SigningCertURL = pick(['http://localhost/x.pem', 'https://sns.evil.example/x.pem', 'file:///etc/passwd', '//localhost/x.pem', String(base.SigningCertURL)]);
        break;
      default:
        msg[pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])] = pick(weird);
    }
  }
  const text = JSON.stringify(msg);
  const cut = random() < 0.15 ? text.slice(0, Math.floor(random() * text.length)) : text;
  return random() < 0.05 ? Buffer.from(cut).toString('latin1') : cut;
}

describe('POST /sns fuzz', () => {
  let h: SnsHarness;
  before(async () => {
    h = await startSnsHarness();
  });
  after(() => h.close());

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${ROUNDS} mangled bodies, no 5xx, still serving`, async () => {
      const random = seededRandom(seed);
      for (let round = 0; round < ROUNDS; round++) {
        const base = h.signer.notification({ topicArn: TOPIC, message: LAUNCH }) as unknown as Record<string, unknown>;
        const body = mutate(base, random);
        const contentType = ['text/plain; charset=UTF-8', 'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'][round % 4]!;
        const res = await h.app.publicApp.inject({ method: 'POST', url: '/sns', headers: { 'content-type': contentType }, payload: body });
        assert.ok(res.statusCode < 500, `seed ${seed} round ${round}: ${res.statusCode} ${res.body} for ${body.slice(0, 300)}`);
        assert.ok(typeof res.json<{ code?: string; status?: string }>() === 'object');
      }
      assert.equal((await h.app.publicApp.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  }
});
