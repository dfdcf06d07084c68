/**
 * The string SNS signs: `key\nvalue\n` for each present key, in byte order, from the
 * list for the message type. Both confirmation types use the list with Token and
 * SubscribeURL — sns-validator 0.3.5 uses the notification list for
 * UnsubscribeConfirmation, which is why pairkeeper does not delegate to it.
 */
import { verify, type KeyObject } from 'node:crypto';
import { SnsRejection } from '../errors.ts';
import type { SnsEnvelope } from './envelope.ts';

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

const ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' };

export function stringToSign(envelope: SnsEnvelope): string {
  const keys = envelope.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  return keys
    .filter((key) => envelope[key] !== undefined)
    .map((key) => `${key}\n${envelope[key]}\n`)
    .join('');
}

/** Checked before any certificate is fetched: `accepted` is sns.signatureVersions. */
export function signatureAlgorithm(envelope: SnsEnvelope, accepted: readonly string[]): string {
  const algorithm = ALGORITHMS[envelope.SignatureVersion];
  if (!algorithm || !accepted.includes(envelope.SignatureVersion)) {
    throw new SnsRejection('PK_SNS_SIGNATURE_VERSION', `SignatureVersion ${envelope.SignatureVersion} is not accepted (sns.signatureVersions: ${accepted.join(', ')})`);
  }
  return algorithm;
}

export function verifySignature(envelope: SnsEnvelope, publicKey: KeyObject, algorithm: string): void {
  const signature = Buffer.from(envelope.Signature, 'base64');
  const ok = signature.length > 0 && verify(algorithm, Buffer.from(stringToSign(envelope), 'utf8'), publicKey, signature);
  if (!ok) throw new SnsRejection('PK_SNS_BAD_SIGNATURE', `signature of message ${envelope.MessageId} does not verify`);
}
