/**
 * Which URLs in a message pairkeeper may fetch. SigningCertURL and SubscribeURL come
 * from an unauthenticated body (the signature is checked *with* the certificate), so
 * they must point at SNS itself, and at the SNS of the message's own region: https,
 * no credentials, and a host that is exactly `sns.<region>.amazonaws.com`
 * (`.amazonaws.com.cn` in aws-cn) for the region in the TopicArn — or, when the
 * operator sets `sns.certHostPattern`, a host (with port, if any) that pattern
 * matches whole. The certificate must carry the name SNS gives its certificates.
 * The WHATWG URL parser is used, not the legacy one sns-validator relies on.
 */
import { SnsRejection } from '../errors.ts';

const CERTIFICATE_PATH = /^\/SimpleNotificationService-[A-Za-z0-9_-]{1,128}\.pem$/;

/** The DNS suffix of SNS in each partition pairkeeper knows; other partitions need sns.certHostPattern. */
const PARTITION_SUFFIX: Record<string, string> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
};

type UrlCode = 'PK_SNS_CERT_URL' | 'PK_SNS_SUBSCRIBE_URL';

export class UrlPolicy {
  private readonly hostPattern: RegExp | undefined;

  constructor(options: { certHostPattern?: string | undefined }) {
    // Wrapped, so an alternation inside an anchored pattern (^a|b$) is anchored whole too.
    this.hostPattern = options.certHostPattern === undefined ? undefined : new RegExp(`^(?:${options.certHostPattern})$`);
  }

  certificateUrl(value: string, topicArn: string): URL {
    const url = this.snsUrl(value, topicArn, 'PK_SNS_CERT_URL', 'SigningCertURL');
    if (!CERTIFICATE_PATH.test(url.pathname) || url.search !== '' || url.hash !== '') {
      throw new SnsRejection('PK_SNS_CERT_URL', `SigningCertURL path must be /SimpleNotificationService-….pem: ${value}`);
    }
    return url;
  }

  /** The SubscribeURL of a confirmation, which must confirm *this* topic. */
  subscribeUrl(value: string, topicArn: string): URL {
    const url = this.snsUrl(value, topicArn, 'PK_SNS_SUBSCRIBE_URL', 'SubscribeURL');
    if (url.searchParams.get('Action') !== 'ConfirmSubscription' || url.searchParams.get('TopicArn') !== topicArn) {
      throw new SnsRejection('PK_SNS_SUBSCRIBE_URL', 'SubscribeURL does not confirm the TopicArn of the message');
    }
    return url;
  }

  private snsUrl(value: string, topicArn: string, code: UrlCode, name: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new SnsRejection(code, `${name} is not a URL`);
    }
    if (url.protocol !== 'https:') throw new SnsRejection(code, `${name} must be https: ${value}`);
    if (url.username || url.password) throw new SnsRejection(code, `${name} must not carry credentials`);
    if (this.hostPattern) {
      if (!this.hostPattern.test(url.host)) throw new SnsRejection(code, `${name} host ${url.host} does not match sns.certHostPattern`);
    } else {
      const expected = snsHost(topicArn);
      if (url.host !== expected) throw new SnsRejection(code, `${name} host ${url.host} is not ${expected ?? 'an SNS host pairkeeper knows (set sns.certHostPattern)'}`);
    }
    return url;
  }
}

/** `sns.<region>.<suffix>` for `arn:<partition>:sns:<region>:…`; undefined for a partition not in the table. */
function snsHost(topicArn: string): string | undefined {
  const [, partition = '', , region = ''] = topicArn.split(':');
  const suffix = PARTITION_SUFFIX[partition];
  return suffix === undefined ? undefined : `sns.${region}.${suffix}`;
}
