import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError, type SnsRejection } from '../../src/errors.ts';
import { UrlPolicy } from '../../src/sns/url-policy.ts';

/**
 * Which SigningCertURL and SubscribeURL pairkeeper may fetch. By default: exactly
 * SNS's host in the region of the message's topic, the certificate under the name
 * SNS gives it. An operator's own host pattern must be anchored, or start-up stops.
 */
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:etcd';
const CN_TOPIC = 'arn:aws-cn:sns:cn-north-1:123456789012:etcd';
const CERT = '/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
const subscribe = (host: string, topic: string) => `https://${host}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topic)}&Token=t`;

const refusal = (f: () => unknown): string => {
  try {
    f();
    return 'accepted';
  } catch (err) {
    return (err as SnsRejection).code;
  }
};

describe('the default URL rule', () => {
  const policy = new UrlPolicy({});

  const accepted: [string, string][] = [
    [`https://sns.eu-west-1.amazonaws.com${CERT}`, TOPIC],
    [`https://sns.cn-north-1.amazonaws.com.cn${CERT}`, CN_TOPIC],
    [`https://sns.us-gov-west-1.amazonaws.com${CERT}`, 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:etcd'],
  ];
  for (const [url, topic] of accepted) {
    it(`accepts ${url} for ${topic}`, () => {
      assert.equal(refusal(() => policy.certificateUrl(url, topic)), 'accepted');
    });
  }

  const refused: [string, string][] = [
    ['another AWS service on the sns. prefix', `https://sns.s3.amazonaws.com${CERT}`],
    ['another region than the topic', `https://sns.us-east-1.amazonaws.com${CERT}`],
    ['the China suffix for a topic in the aws partition', `https://sns.eu-west-1.amazonaws.com.cn${CERT}`],
    ['a port', `https://sns.eu-west-1.amazonaws.com:8443${CERT}`],
    ['a look-alike suffix', `https://sns.eu-west-1.amazonaws.com.evil.example${CERT}`],
    ['a path other than SNS gives certificates', 'https://sns.eu-west-1.amazonaws.com/uploads/SimpleNotificationService-x.pem'],
    ['a certificate name SNS does not use', 'https://sns.eu-west-1.amazonaws.com/evil.pem'],
  ];
  for (const [what, url] of refused) {
    it(`refuses a SigningCertURL on ${what}`, () => {
      assert.equal(refusal(() => policy.certificateUrl(url, TOPIC)), 'PK_SNS_CERT_URL');
    });
  }

  it('holds the SubscribeURL to the same host', () => {
    assert.equal(refusal(() => policy.subscribeUrl(subscribe('sns.eu-west-1.amazonaws.com', TOPIC), TOPIC)), 'accepted');
    assert.equal(refusal(() => policy.subscribeUrl(subscribe('sns.cn-north-1.amazonaws.com.cn', CN_TOPIC), CN_TOPIC)), 'accepted');
    for (const host of ['sns.us-east-1.amazonaws.com', 'sns.s3.amazonaws.com', 'sns.eu-west-1.amazonaws.com:8443', 'evil.example']) {
      assert.equal(refusal(() => policy.subscribeUrl(subscribe(host, TOPIC), TOPIC)), 'PK_SNS_SUBSCRIBE_URL', host);
    }
  });
});

describe('sns.certHostPattern', () => {
  const config = (pattern: string) => `aws: { region: eu-west-1 }\nsns: { topicArns: ['${TOPIC}'], certHostPattern: '${pattern}' }\n`;

  it('is absent by default: the exact SNS host of the region applies', () => {
    assert.equal(parseConfig(`aws: { region: eu-west-1 }\nsns: { topicArns: ['${TOPIC}'] }\n`, 't').sns.certHostPattern, undefined);
  });

  for (const pattern of ['sns\\.example\\.com', '^sns\\.example\\.com', 'sns\\.example\\.com$', '^sns\\.example\\.com\\$']) {
    it(`refuses the unanchored ${pattern} at start-up, naming the key`, () => {
      assert.throws(() => parseConfig(config(pattern), 't'), (e: unknown) => e instanceof ConfigError && /sns\.certHostPattern: .*anchored/.test(e.message));
    });
  }

  it('an anchored pattern applies whole, even with an alternation inside', () => {
    const policy = new UrlPolicy({ certHostPattern: parseConfig(config('^localhost:\\d+|sns\\.example\\.com$'), 't').sns.certHostPattern });
    assert.equal(refusal(() => policy.certificateUrl(`https://sns.example.com${CERT}`, TOPIC)), 'accepted');
    assert.equal(refusal(() => policy.certificateUrl(`https://localhost:8443${CERT}`, TOPIC)), 'accepted');
    assert.equal(refusal(() => policy.certificateUrl(`https://localhost:8443.evil.example${CERT}`, TOPIC)), 'PK_SNS_CERT_URL');
    assert.equal(refusal(() => policy.certificateUrl(`https://evil.sns.example.com${CERT}`, TOPIC)), 'PK_SNS_CERT_URL');
    assert.equal(refusal(() => policy.certificateUrl('https://sns.example.com/evil.pem', TOPIC)), 'PK_SNS_CERT_URL', 'the certificate name rule still holds');
  });
});
