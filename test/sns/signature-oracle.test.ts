import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { SnsHttpsEndpoint } from '../../fake-aws/sns/https-endpoint.ts';
import { SnsSigner, type SnsEnvelope } from '../../fake-aws/sns/signer.ts';
import { testTls } from '../../fake-aws/tls/index.ts';
import { signatureAlgorithm, verifySignature } from '../../src/sns/signature.ts';

/**
 * pairkeeper's verifier, the fake SNS signer and AWS's own sns-validator must agree
 * on every message SNS sends — except UnsubscribeConfirmation, where sns-validator
 * 0.3.5 signs over the notification key list (no Token) and so rejects genuine
 * messages. That disagreement is pinned here: if a new sns-validator fixes it,
 * this test says so.
 */
type Validator = { validate(message: object, cb: (err: Error | null) => void): void };
const MessageValidator = createRequire(import.meta.url)('sns-validator') as new (host: RegExp) => Validator;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:t';

describe('SNS signatures: pairkeeper, the test signer and sns-validator agree', () => {
  let endpoint: SnsHttpsEndpoint;
  let signer: SnsSigner;
  const validator = new MessageValidator(/^localhost:\d+$/);
  const publicKey = new X509Certificate(testTls.snsSigningCert).publicKey;
  const oracle = (m: SnsEnvelope) => new Promise<boolean>((resolve) => validator.validate({ ...m }, (err) => resolve(err === null)));
  const ours = (m: SnsEnvelope) => {
    try {
      verifySignature(m, publicKey, signatureAlgorithm(m, ['1', '2']));
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    endpoint = await new SnsHttpsEndpoint({ tlsCertPem: testTls.localhostCert, tlsKeyPem: testTls.localhostKey, signingCertPem: testTls.snsSigningCert }).start();
    signer = new SnsSigner({ privateKeyPem: testTls.snsSigningKey, certUrl: endpoint.certUrl });
  });
  after(() => endpoint.close());

  for (const version of ['1', '2'] as const) {
    it(`Notification v${version}, with and without Subject`, async () => {
      for (const subject of [undefined, 'Auto Scaling: launch for group "etcd"']) {
        const m = signer.notification({ topicArn: TOPIC, message: '{"a":"ünïcödé \\n"}', version, ...(subject ? { subject } : {}) });
        assert.equal(ours(m), true);
        assert.equal(await oracle(m), true);
        const tampered = { ...m, Subject: 'changed' };
        assert.equal(ours(tampered), false);
        assert.equal(await oracle(tampered), false);
      }
    });

    it(`SubscriptionConfirmation v${version}`, async () => {
      const m = signer.confirmation({ type: 'SubscriptionConfirmation', topicArn: TOPIC, token: 'abc', subscribeUrl: endpoint.subscribeUrl(TOPIC, 'abc'), version });
      assert.equal(ours(m), true);
      assert.equal(await oracle(m), true);
      const tampered = { ...m, Token: 'abd' };
      assert.equal(ours(tampered), false);
      assert.equal(await oracle(tampered), false);
    });

    it(`UnsubscribeConfirmation v${version}: pairkeeper follows the documented key list, sns-validator does not`, async () => {
      const m = signer.confirmation({ type: 'UnsubscribeConfirmation', topicArn: TOPIC, token: 'abc', subscribeUrl: endpoint.subscribeUrl(TOPIC, 'abc'), version });
      assert.equal(ours(m), true);
      assert.equal(await oracle(m), false, 'sns-validator 0.3.5 drops Token for UnsubscribeConfirmation');
    });
  }
});
