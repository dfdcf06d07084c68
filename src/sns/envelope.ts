import { SnsRejection } from '../errors.ts';

/** The JSON body SNS POSTs to an HTTP(S) subscriber, after structural checks. */
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsEnvelope {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  UnsubscribeURL?: string;
  /** Present on the two confirmation types. */
  SubscribeURL?: string;
  Token?: string;
}

const TYPES: readonly string[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];
const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;
const OPTIONAL = ['Subject', 'UnsubscribeURL', 'SubscribeURL', 'Token'] as const;

export function parseEnvelope(body: string): SnsEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SnsRejection('PK_SNS_MALFORMED', 'body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SnsRejection('PK_SNS_MALFORMED', 'body is not a JSON object');
  }
  const raw = parsed as Record<string, unknown>;
  if (typeof raw.Type !== 'string' || !TYPES.includes(raw.Type)) {
    throw new SnsRejection('PK_SNS_MALFORMED', `Type must be one of ${TYPES.join(', ')}`);
  }
  for (const key of REQUIRED) {
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new SnsRejection('PK_SNS_MALFORMED', `${key} is missing or not a string`);
  }
  for (const key of OPTIONAL) {
    if (key in raw && typeof raw[key] !== 'string') throw new SnsRejection('PK_SNS_MALFORMED', `${key} is not a string`);
  }
  if (raw.Type !== 'Notification') {
    for (const key of ['SubscribeURL', 'Token'] as const) {
      if (typeof raw[key] !== 'string' || raw[key] === '') throw new SnsRejection('PK_SNS_MALFORMED', `${raw.Type} without ${key}`);
    }
  }
  if (Number.isNaN(Date.parse(raw.Timestamp as string))) throw new SnsRejection('PK_SNS_MALFORMED', 'Timestamp is not a date');
  return raw as unknown as SnsEnvelope;
}
