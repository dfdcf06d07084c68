import { SnsRejection } from '../errors.ts';

/**
 * Which URLs in a message pairkeeper may fetch. SigningCertURL and SubscribeURL come
 * from an unauthenticated body (the signature is checked *with* the certificate), so
 * they must point at SNS itself: https, a host (with port, if any) matching the
 * configured pattern, and for the certificate a path ending in `.pem`. The WHATWG URL
 * parser is used, not the legacy one sns-validator relies on.
 */
export class UrlPolicy {
  private readonly hostPattern: RegExp;

  constructor(hostPattern: string) {
    this.hostPattern = new RegExp(hostPattern);
  }

  certificateUrl(value: string): URL {
    const url = this.snsUrl(value, 'PK_SNS_CERT_URL', 'SigningCertURL');
    if (!url.pathname.endsWith('.pem') || url.search !== '' || url.hash !== '') {
      throw new SnsRejection('PK_SNS_CERT_URL', `SigningCertURL path must end in .pem: ${value}`);
    }
    return url;
  }

  /** The SubscribeURL of a confirmation, which must confirm *this* topic. */
  subscribeUrl(value: string, topicArn: string): URL {
    const url = this.snsUrl(value, 'PK_SNS_SUBSCRIBE_URL', 'SubscribeURL');
    if (url.searchParams.get('Action') !== 'ConfirmSubscription' || url.searchParams.get('TopicArn') !== topicArn) {
      throw new SnsRejection('PK_SNS_SUBSCRIBE_URL', 'SubscribeURL does not confirm the TopicArn of the message');
    }
    return url;
  }

  private snsUrl(value: string, code: 'PK_SNS_CERT_URL' | 'PK_SNS_SUBSCRIBE_URL', name: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new SnsRejection(code, `${name} is not a URL`);
    }
    if (url.protocol !== 'https:') throw new SnsRejection(code, `${name} must be https: ${value}`);
    if (url.username || url.password) throw new SnsRejection(code, `${name} must not carry credentials`);
    if (!this.hostPattern.test(url.host)) throw new SnsRejection(code, `${name} host ${url.host} is not an SNS host`);
    return url;
  }
}
