import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { QueueFullError } from '../../src/controller/instance-queue.ts';
import { freePort } from '../helpers/free-port.ts';
import { canonicalString, type SnsEnvelope } from '../../fake-aws/sns/signer.ts';
import { OTHER_TOPIC, TOPIC, snsHeaders, startSnsHarness, type SnsHarness } from '../helpers/sns-app.ts';

const sample = (name: string): string => readFileSync(new URL(`../../src/sns/samples/${name}.json`, import.meta.url), 'utf8');
const LAUNCH = sample('launch');

/** A well-formed (unsigned) notification envelope with some fields replaced. */
const envelopeWith = (fields: Record<string, string>): Record<string, string> => ({
  Type: 'Notification',
  MessageId: crypto.randomUUID(),
  TopicArn: TOPIC,
  Message: 'm',
  Timestamp: new Date().toISOString(),
  SignatureVersion: '1',
  Signature: 'AA==',
  SigningCertURL: 'https://localhost/x.pem',
  ...fields,
});

describe('POST /sns', () => {
  let h: SnsHarness;
  beforeEach(async () => {
    h = await startSnsHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  describe('accepts genuine notifications', () => {
    for (const version of ['1', '2'] as const) {
      it(`SignatureVersion ${version}`, async () => {
        const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, subject: 'Auto Scaling: launch for group "etcd"', version });
        const res = await h.post(msg, snsHeaders(msg));
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { status: 'accepted', messageId: msg.MessageId });
        assert.equal(h.sink.events.length, 1);
        assert.equal(h.sink.events[0]?.kind, 'launch');
      });
    }

    for (const contentType of ['text/plain; charset=UTF-8', 'application/json', undefined]) {
      it(`with content-type ${contentType ?? '(none)'}`, async () => {
        const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
        const res = await h.app.publicApp.inject({
          method: 'POST',
          url: '/sns',
          headers: contentType ? { 'content-type': contentType } : {},
          payload: JSON.stringify(msg),
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(h.sink.events.length, 1);
      });
    }

    it('without a Subject, and without the SNS headers', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      assert.equal(msg.Subject, undefined);
      const res = await h.post(msg);
      assert.equal(res.status, 200);
    });

    it('records and logs the event with the ids an operator greps for', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      await h.post(msg, snsHeaders(msg));
      const events = await h.app.adminApp.inject({ method: 'GET', url: '/v1/events?instance=i-0c55bedeb30ef1f08' });
      const [recorded] = events.json<{ events: Record<string, unknown>[] }>().events;
      assert.equal(recorded?.messageId, msg.MessageId);
      assert.equal(recorded?.kind, 'launch');
      assert.equal(recorded?.outcome, 'accepted');
      const [line] = h.logs.find('Auto Scaling event accepted');
      assert.equal(line?.messageId, msg.MessageId);
      assert.equal(line?.instanceId, 'i-0c55bedeb30ef1f08');
      assert.equal(line?.group, 'etcd');
    });

    it('acknowledges test and unknown notifications without passing them on, and counts them', async () => {
      for (const message of [sample('test-notification'), 'hello, world', '{"Event":"autoscaling:SOMETHING_NEW","AutoScalingGroupName":"etcd"}']) {
        const msg = h.signer.notification({ topicArn: TOPIC, message });
        const res = await h.post(msg, snsHeaders(msg));
        assert.equal(res.status, 200);
        assert.equal(res.json.status, 'ignored');
      }
      assert.equal(h.sink.events.length, 0);
      const metrics = (await h.app.adminApp.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /pairkeeper_autoscaling_events_total\{kind="test"\} 1/);
      assert.match(metrics, /pairkeeper_autoscaling_events_total\{kind="unknown"\} 2/);
      assert.match(metrics, /pairkeeper_sns_messages_total\{type="Notification",outcome="ignored"\} 3/);
    });
  });

  describe('refuses what can never be valid', () => {
    it('a signature made with another key (403)', async () => {
      const msg = h.forger.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_BAD_SIGNATURE');
      assert.equal(h.sink.events.length, 0);
    });

    it('a genuine message with its Message changed (403)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post({ ...msg, Message: LAUNCH.replace('i-0c55bedeb30ef1f08', 'i-0000000000000000f') });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_BAD_SIGNATURE');
    });

    it('a v1 signature relabelled as v2 (403)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, version: '1' });
      const res = await h.post({ ...msg, SignatureVersion: '2' });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_BAD_SIGNATURE');
    });

    it('an unsupported SignatureVersion, without fetching anything (403)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post({ ...msg, SignatureVersion: '3' });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_SIGNATURE_VERSION');
      assert.equal(h.endpoint.certFetches, 0);
    });

    it('a topic not in sns.topicArns, without fetching its certificate (403)', async () => {
      const msg = h.signer.notification({ topicArn: OTHER_TOPIC, message: LAUNCH });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_TOPIC_NOT_ALLOWED');
      assert.equal(h.endpoint.certFetches, 0);
    });

    it('a message type header that disagrees with the body (400)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post(msg, { ...snsHeaders(msg), 'x-amz-sns-message-type': 'SubscriptionConfirmation' });
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'PK_SNS_HEADER_MISMATCH');
    });

    it('a topic header that disagrees with the body (400)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post(msg, { ...snsHeaders(msg), 'x-amz-sns-topic-arn': OTHER_TOPIC });
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'PK_SNS_HEADER_MISMATCH');
    });

    it('a Timestamp older than sns.maxMessageAgeSeconds (403)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, timestamp: new Date(Date.now() - 3601_000) });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_STALE');
    });

    it('a Timestamp within the age limit is accepted', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, timestamp: new Date(Date.now() - 3500_000) });
      assert.equal((await h.post(msg, snsHeaders(msg))).status, 200);
    });

    it('a Timestamp in the future beyond the clock skew (403)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, timestamp: new Date(Date.now() + 301_000) });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_FROM_FUTURE');
    });

    const badCertUrls: [string, (good: URL) => string][] = [
      ['http instead of https', (u) => u.href.replace('https:', 'http:')],
      ['a host the pattern does not match', (u) => u.href.replace('localhost', 'sns.evil.example')],
      ['a look-alike host with the allowed one as a prefix', (u) => u.href.replace(`localhost:${u.port}`, `localhost:${u.port}.evil.example`)],
      ['credentials in the URL', (u) => u.href.replace('https://', 'https://user:pw@')],
      ['a path not ending in .pem', (u) => u.href.replace('.pem', '.txt')],
      ['a query string', (u) => `${u.href}?x=.pem`],
      ['not a URL', () => 'not a url'],
    ];
    for (const [what, mutate] of badCertUrls) {
      it(`a SigningCertURL with ${what} (403), fetching nothing`, async () => {
        const certUrl = mutate(new URL(h.endpoint.certUrl));
        const msg = h.signer.sign({ Type: 'Notification', MessageId: crypto.randomUUID(), TopicArn: TOPIC, Message: LAUNCH, Timestamp: new Date().toISOString() });
        const res = await h.post({ ...msg, SigningCertURL: certUrl });
        assert.equal(res.status, 403);
        assert.equal(res.json.code, 'PK_SNS_CERT_URL');
        assert.equal(h.endpoint.certFetches, 0);
      });
    }

    it('a certificate URL on the allowed host that does not exist (403, remembered)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const certUrl = h.endpoint.certUrl.replace('SimpleNotificationService-', 'SimpleNotificationService-missing');
      for (let i = 0; i < 2; i++) {
        const res = await h.post({ ...msg, SigningCertURL: certUrl });
        assert.equal(res.status, 403);
        assert.equal(res.json.code, 'PK_SNS_CERT_INVALID');
      }
      assert.equal(h.app.certificates.fetches, 1);
    });

    const malformed: [string, unknown][] = [
      ['not JSON', '{"Type": "Notification",'],
      ['a JSON array', '[1,2,3]'],
      ['an unknown Type', { Type: 'Surprise' }],
      ['a missing Signature', { Type: 'Notification', MessageId: 'x', TopicArn: TOPIC, Message: 'm', Timestamp: new Date().toISOString(), SignatureVersion: '1', SigningCertURL: 'https://localhost/x.pem' }],
      ['a non-string Message', { Type: 'Notification', MessageId: 'x', TopicArn: TOPIC, Message: { a: 1 }, Timestamp: new Date().toISOString(), SignatureVersion: '1', Signature: 'AA==', SigningCertURL: 'https://localhost/x.pem' }],
      ['a Timestamp that is not a date', { Type: 'Notification', MessageId: 'x', TopicArn: TOPIC, Message: 'm', Timestamp: 'yesterday', SignatureVersion: '1', Signature: 'AA==', SigningCertURL: 'https://localhost/x.pem' }],
      ['a confirmation without a Token', { Type: 'SubscriptionConfirmation', MessageId: 'x', TopicArn: TOPIC, Message: 'm', Timestamp: new Date().toISOString(), SignatureVersion: '1', Signature: 'AA==', SigningCertURL: 'https://localhost/x.pem', SubscribeURL: 'https://localhost/' }],
      ['an empty body', ''],
      ['a MessageId that is not a UUID', envelopeWith({ MessageId: 'x'.repeat(5000) })],
      ['a TopicArn that is not an ARN', envelopeWith({ TopicArn: `${TOPIC}${'x'.repeat(300)}` })],
      ['a Timestamp that is not ISO-8601', envelopeWith({ Timestamp: new Date().toString() })],
      ['a SignatureVersion that is not a number', envelopeWith({ SignatureVersion: '1'.repeat(10) })],
      ['a Signature that is not base64', envelopeWith({ Signature: 'not base64!' })],
      ['a SigningCertURL longer than 2048 characters', envelopeWith({ SigningCertURL: `https://localhost/${'x'.repeat(2048)}.pem` })],
      ['a Subject longer than 1024 characters', envelopeWith({ Subject: 'x'.repeat(1025) })],
    ];
    for (const [what, body] of malformed) {
      it(`${what} (400)`, async () => {
        const res = await h.post(body);
        assert.equal(res.status, 400);
        assert.equal(res.json.code, 'PK_SNS_MALFORMED');
      });
    }

    it('a body over the limit (413)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: 'x'.repeat(1024 * 1024 + 1) });
      const res = await h.post(msg);
      assert.equal(res.status, 413);
      assert.equal(res.json.code, 'PK_SNS_BODY_TOO_LARGE');
    });

    /** A launch message padded to `size` characters, with quotes that escaping in the body doubles. */
    const launchOfSize = (size: number): string => {
      const bare = JSON.stringify({ ...JSON.parse(LAUNCH), Cause: '' });
      const quotes = '"'.repeat(20 * 1024);
      const message = JSON.stringify({ ...JSON.parse(LAUNCH), Cause: quotes + 'x'.repeat(size - bare.length - 2 * quotes.length) });
      assert.equal(message.length, size);
      return message;
    };

    it('a Message of 256 KiB, the SNS maximum, is accepted', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: launchOfSize(256 * 1024) });
      assert.equal((await h.post(msg)).status, 200);
    });

    it('a Message over 256 KiB, which SNS never sends (400)', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: launchOfSize(256 * 1024 + 1) });
      const res = await h.post(msg);
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'PK_SNS_MALFORMED');
    });
  });

  describe('duplicates and replays', () => {
    it('handles a MessageId once; later copies answer 200 and do nothing', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const first = await h.post(msg, snsHeaders(msg));
      const second = await h.post(msg, snsHeaders(msg));
      assert.equal(first.json.status, 'accepted');
      assert.equal(second.status, 200);
      assert.equal(second.json.status, 'duplicate');
      assert.equal(h.sink.events.length, 1);
    });

    it('concurrent copies of one message are handled once', async () => {
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const results = await Promise.all(Array.from({ length: 10 }, () => h.post(msg, snsHeaders(msg))));
      assert.ok(results.every((r) => r.status === 200));
      assert.equal(results.filter((r) => r.json.status === 'accepted').length, 1);
      assert.equal(h.sink.events.length, 1);
    });

    it('a message refused for a passing reason is handled when SNS retries it', async () => {
      h.endpoint.certMode = 'fail';
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const first = await h.post(msg, snsHeaders(msg));
      assert.equal(first.status, 503);
      assert.equal(first.json.code, 'PK_SNS_CERT_UNAVAILABLE');
      h.endpoint.certMode = 'serve';
      const retry = await h.post(msg, snsHeaders(msg));
      assert.equal(retry.status, 200);
      assert.equal(retry.json.status, 'accepted');
    });
  });

  it('answers 503 when the work queue is full, and takes the message when SNS sends it again', async () => {
    h.sink.refuseNext = new QueueFullError(10_000);
    const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
    const first = await h.post(msg, snsHeaders(msg));
    assert.equal(first.status, 503);
    assert.equal(first.json.code, 'PK_QUEUE_FULL');
    const retry = await h.post(msg, snsHeaders(msg));
    assert.equal(retry.status, 200);
    assert.equal(retry.json.status, 'accepted');
    assert.equal(h.sink.events.length, 1);
  });

  describe('signing certificates', () => {
    it('many requests while the certificate is first fetched share one fetch', async () => {
      const messages = Array.from({ length: 40 }, () => h.signer.notification({ topicArn: TOPIC, message: LAUNCH }));
      const results = await Promise.all(messages.map((m) => h.post(m, snsHeaders(m))));
      assert.ok(results.every((r) => r.status === 200));
      assert.equal(h.endpoint.certFetches, 1);
      assert.equal(h.sink.events.length, 40);
    });

    it('64 certificate URLs on the allowed host that do not exist do not evict the genuine certificate', async () => {
      const first = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      assert.equal((await h.post(first, snsHeaders(first))).status, 200);
      for (let i = 0; i < 64; i++) {
        const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
        const res = await h.post({ ...msg, SigningCertURL: h.endpoint.certUrl.replace('SimpleNotificationService-', `SimpleNotificationService-missing${i}`) });
        assert.equal(res.json.code, 'PK_SNS_CERT_INVALID');
      }
      const later = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      assert.equal((await h.post(later, snsHeaders(later))).status, 200);
      assert.equal(h.endpoint.certFetches, 1, 'the genuine certificate was never fetched again');
    });

    it('a certificate host that never answers: the request ends in bounded time with 503', async () => {
      h.endpoint.certMode = 'hang';
      const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 503);
      assert.equal(res.json.code, 'PK_SNS_CERT_UNAVAILABLE');
      assert.match(String(res.json.message), /timed out after 500 ms/);
    });
  });

  describe('subscriptions', () => {
    it('confirms a subscription from an allowed topic by visiting its SubscribeURL', async () => {
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 'tok-1', subscribeUrl: h.endpoint.subscribeUrl(TOPIC, 'tok-1') });
      h.endpoint.onConfirm = (topicArn, token) => (topicArn === TOPIC && token === 'tok-1' ? `${TOPIC}:sub-1` : undefined);
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 200);
      assert.equal(res.json.status, 'confirmed');
      assert.deepEqual(h.endpoint.confirmations, [{ topicArn: TOPIC, token: 'tok-1', accepted: true }]);
      const subs = (await h.app.adminApp.inject({ method: 'GET', url: '/v1/subscriptions' })).json<{ subscriptions: Record<string, unknown>[] }>();
      assert.equal(subs.subscriptions[0]?.outcome, 'confirmed');
      assert.equal(subs.subscriptions[0]?.subscriptionArn, `${TOPIC}:sub-1`);
      assert.ok(!JSON.stringify(subs).includes('tok-1'), 'the token is not kept');
      assert.ok(!h.logs.raw.join('\n').includes('tok-1'), 'the token is not logged');
    });

    it('never confirms a subscription from a topic not in the allowlist (403)', async () => {
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: OTHER_TOPIC, token: 't', subscribeUrl: h.endpoint.subscribeUrl(OTHER_TOPIC, 't') });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_TOPIC_NOT_ALLOWED');
      assert.equal(h.endpoint.confirmations.length, 0);
    });

    it('refuses a SubscribeURL on another host (403), visiting nothing', async () => {
      const subscribeUrl = h.endpoint.subscribeUrl(TOPIC, 't').replace('localhost', '127.0.0.1');
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 't', subscribeUrl });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_SUBSCRIBE_URL');
      assert.equal(h.endpoint.confirmations.length, 0);
    });

    it('refuses a SubscribeURL that would confirm a different topic (403)', async () => {
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 't', subscribeUrl: h.endpoint.subscribeUrl(OTHER_TOPIC, 't') });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_SUBSCRIBE_URL');
      assert.equal(h.endpoint.confirmations.length, 0);
    });

    it('answers 400 when SNS refuses the token: a retry could not succeed', async () => {
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 'stale', subscribeUrl: h.endpoint.subscribeUrl(TOPIC, 'stale') });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'PK_SNS_CONFIRM_REFUSED');
      assert.equal(h.endpoint.confirmations.length, 1, 'one visit, no retry');
      const subs = (await h.app.adminApp.inject({ method: 'GET', url: '/v1/subscriptions' })).json<{ subscriptions: Record<string, unknown>[] }>();
      assert.equal(subs.subscriptions[0]?.outcome, 'confirm-failed');
    });

    it('answers 503 when SNS cannot be reached to confirm, so SNS sends the confirmation again', async () => {
      const closedPort = await freePort();
      const subscribeUrl = h.endpoint.subscribeUrl(TOPIC, 't').replace(/localhost:\d+/, `localhost:${closedPort}`);
      const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 't', subscribeUrl });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 503);
      assert.equal(res.json.code, 'PK_SNS_CONFIRM_FAILED');
      const retry = await h.post(msg, snsHeaders(msg));
      assert.equal(retry.status, 503, 'the retry is handled again, not taken for a duplicate');
    });

    it('verifies UnsubscribeConfirmation with its documented keys, keeps it, and does not resubscribe', async () => {
      const msg = h.signer.confirmation({ type: 'UnsubscribeConfirmation', topicArn: TOPIC, token: 'u-1', subscribeUrl: h.endpoint.subscribeUrl(TOPIC, 'u-1') });
      const res = await h.post(msg, snsHeaders(msg));
      assert.equal(res.status, 200);
      assert.equal(res.json.status, 'unsubscribed');
      assert.equal(h.endpoint.confirmations.length, 0);
      assert.equal(h.logs.find(/subscription removed/).length, 1);
    });

    it('refuses an UnsubscribeConfirmation whose Token was changed (the Token is signed)', async () => {
      const msg = h.signer.confirmation({ type: 'UnsubscribeConfirmation', topicArn: TOPIC, token: 'u-1', subscribeUrl: h.endpoint.subscribeUrl(TOPIC, 'u-1') });
      const res = await h.post({ ...msg, Token: 'u-2' } satisfies SnsEnvelope);
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'PK_SNS_BAD_SIGNATURE');
      assert.ok(canonicalString(msg).includes('Token\nu-1\n'));
    });
  });
});

describe('POST /sns with sns.autoConfirm false', () => {
  let h: SnsHarness;
  before(async () => {
    h = await startSnsHarness({ autoConfirm: false });
  });
  after(async () => {
    await h.close();
  });

  it('acknowledges the confirmation, logs that it waits for an operator, and visits nothing', async () => {
    const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 't', subscribeUrl: h.endpoint.subscribeUrl(TOPIC, 't') });
    const res = await h.post(msg, snsHeaders(msg));
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'awaiting-manual-confirmation');
    assert.equal(h.endpoint.confirmations.length, 0);
    assert.equal(h.logs.find(/awaits manual confirmation/).length, 1);
  });

  it('still refuses a SubscribeURL off the SNS host, which an operator might otherwise follow (403)', async () => {
    const subscribeUrl = h.endpoint.subscribeUrl(TOPIC, 't').replace('localhost', '127.0.0.1');
    const msg = h.signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 't', subscribeUrl });
    const res = await h.post(msg, snsHeaders(msg));
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'PK_SNS_SUBSCRIBE_URL');
  });
});


describe('POST /sns with sns.signatureVersions ["2"]', () => {
  let h: SnsHarness;
  before(async () => {
    h = await startSnsHarness({ signatureVersions: ['2'] });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a genuine SignatureVersion 1 message, naming the key, without fetching anything (403)', async () => {
    const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, version: '1' });
    const res = await h.post(msg, snsHeaders(msg));
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'PK_SNS_SIGNATURE_VERSION');
    assert.match(String(res.json.message), /sns\.signatureVersions/);
    assert.equal(h.endpoint.certFetches, 0);
  });

  it('accepts SignatureVersion 2', async () => {
    const msg = h.signer.notification({ topicArn: TOPIC, message: LAUNCH, version: '2' });
    assert.equal((await h.post(msg, snsHeaders(msg))).status, 200);
  });

  it('the setting takes only the versions SNS has, at least one', () => {
    for (const signatureVersions of [['3'], []]) {
      const text = JSON.stringify({ aws: { region: 'us-east-1' }, sns: { topicArns: [TOPIC], signatureVersions } });
      assert.throws(() => parseConfig(text, 't'), /sns\.signatureVersions/);
    }
  });
});
