import { createSign, randomUUID } from 'node:crypto';

/**
 * Signs SNS HTTP messages exactly as AWS documents
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
 * Written from the docs on its own, not shared with pairkeeper's verifier, so a
 * mistake in one is caught by the other.
 */
export type SignatureVersion = '1' | '2';
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsEnvelope {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: SignatureVersion;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL?: string;
  SubscribeURL?: string;
  Token?: string;
}

export type UnsignedEnvelope = Omit<SnsEnvelope, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>;

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

export function canonicalString(message: UnsignedEnvelope): string {
  const keys = message.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = '';
  for (const key of keys) {
    const value = message[key];
    if (value !== undefined) out += `${key}\n${value}\n`;
  }
  return out;
}

export class SnsSigner {
  readonly certUrl: string;
  private readonly privateKeyPem: string;

  constructor(options: { privateKeyPem: string; certUrl: string }) {
    this.privateKeyPem = options.privateKeyPem;
    this.certUrl = options.certUrl;
  }

  sign(message: UnsignedEnvelope, version: SignatureVersion = '1'): SnsEnvelope {
    const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(canonicalString(message), 'utf8');
    return {
      ...message,
      SignatureVersion: version,
      Signature: signer.sign(this.privateKeyPem, 'base64'),
      SigningCertURL: this.certUrl,
    };
  }

  notification(options: {
    topicArn: string;
    message: string;
    subject?: string;
    version?: SignatureVersion;
    messageId?: string;
    timestamp?: Date;
    unsubscribeUrl?: string;
  }): SnsEnvelope {
    return this.sign(
      {
        Type: 'Notification',
        MessageId: options.messageId ?? randomUUID(),
        TopicArn: options.topicArn,
        ...(options.subject === undefined ? {} : { Subject: options.subject }),
        Message: options.message,
        Timestamp: (options.timestamp ?? new Date()).toISOString(),
        ...(options.unsubscribeUrl === undefined ? {} : { UnsubscribeURL: options.unsubscribeUrl }),
      },
      options.version,
    );
  }

  /** SubscriptionConfirmation or UnsubscribeConfirmation: both carry a Token and a SubscribeURL. */
  confirmation(options: {
    type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
    topicArn: string;
    token: string;
    subscribeUrl: string;
    version?: SignatureVersion;
    messageId?: string;
    timestamp?: Date;
  }): SnsEnvelope {
    const text =
      options.type === 'SubscriptionConfirmation'
        ? `You have chosen to subscribe to the topic ${options.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`
        : `You have chosen to deactivate subscription ${options.topicArn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`;
    return this.sign(
      {
        Type: options.type,
        MessageId: options.messageId ?? randomUUID(),
        Token: options.token,
        TopicArn: options.topicArn,
        Message: text,
        SubscribeURL: options.subscribeUrl,
        Timestamp: (options.timestamp ?? new Date()).toISOString(),
      },
      options.version,
    );
  }
}
