/**
 * Whether an SNS envelope is one SNS sent for a topic we trust: the topic, its age
 * and the signature with a certificate from an allowed host. The one check for
 * every path an envelope takes in: `POST /sns`, and an SQS queue subscribed to the
 * topic without raw delivery. Cheapest checks first: nothing is fetched for a
 * message from a topic we do not trust.
 */
import type { Config } from '../config/schema.ts';
import { SnsRejection } from '../errors.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { parseEnvelope, type SnsEnvelope } from './envelope.ts';
import { signatureAlgorithm, verifySignature } from './signature.ts';
import { UrlPolicy } from './url-policy.ts';

export class EnvelopeVerifier {
  private readonly config: Config['sns'];
  private readonly certificates: CertificateCache;
  private readonly urls: UrlPolicy;
  private readonly topics: Set<string>;
  private readonly now: () => number;

  constructor(deps: { config: Config['sns']; certificates: CertificateCache; now?: () => number }) {
    this.config = deps.config;
    this.certificates = deps.certificates;
    this.urls = new UrlPolicy({ certHostPattern: deps.config.certHostPattern });
    this.topics = new Set(deps.config.topicArns);
    this.now = deps.now ?? Date.now;
  }

  /** Parses and verifies an envelope that came by another way than POST /sns (an SQS queue); throws an SnsRejection for a forged one. */
  async open(body: string): Promise<SnsEnvelope> {
    const envelope = parseEnvelope(body);
    await this.verify(envelope);
    return envelope;
  }

  /** Throws an SnsRejection unless the envelope is authentic; returns the validated SubscribeURL of a SubscriptionConfirmation. */
  async verify(envelope: SnsEnvelope): Promise<URL | undefined> {
    if (!this.topics.has(envelope.TopicArn)) {
      throw new SnsRejection('PK_SNS_TOPIC_NOT_ALLOWED', `topic ${envelope.TopicArn} is not in sns.topicArns`);
    }
    const age = this.now() - Date.parse(envelope.Timestamp);
    if (age > this.config.maxMessageAgeSeconds * 1000) {
      throw new SnsRejection('PK_SNS_STALE', `message is ${Math.round(age / 1000)} s old (limit ${this.config.maxMessageAgeSeconds} s)`);
    }
    if (-age > this.config.clockSkewSeconds * 1000) {
      throw new SnsRejection('PK_SNS_FROM_FUTURE', `Timestamp is ${Math.round(-age / 1000)} s in the future`);
    }
    const algorithm = signatureAlgorithm(envelope, this.config.signatureVersions);
    const certUrl = this.urls.certificateUrl(envelope.SigningCertURL, envelope.TopicArn);
    // Checked even when confirming is left to an operator, who may follow the URL by hand.
    const subscribeUrl = envelope.Type === 'SubscriptionConfirmation' ? this.urls.subscribeUrl(envelope.SubscribeURL!, envelope.TopicArn) : undefined;
    verifySignature(envelope, await this.certificates.get(certUrl), algorithm);
    return subscribeUrl;
  }
}
