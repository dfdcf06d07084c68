/**
 * The JSON body SNS POSTs to an HTTP(S) subscriber, after structural checks. The
 * body is unauthenticated until its signature verifies, so every field is checked
 * for format and length here, before anything is kept, logged or fetched; a field
 * that fails is named in the refusal, its value is not.
 */
import { SnsRejection } from '../errors.ts';

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

/** SNS's own limit on a published message: 256 KiB of UTF-8, so at most that many characters. */
const MAX_MESSAGE_CHARS = 256 * 1024;
const MAX_URL_CHARS = 2048;

/**
 * Each field's shape. MessageIds are UUIDs; topic names are at most 256 characters;
 * SNS timestamps are ISO-8601 in UTC; an RSA-4096 signature is 684 base64
 * characters; Subject is at most 100 characters at publish time (1024 leaves room).
 */
const FIELDS = {
  MessageId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  TopicArn: /^arn:aws[a-z-]{0,16}:sns:[a-z0-9-]{1,32}:\d{12}:[\w-]{1,256}$/,
  Timestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/,
  SignatureVersion: /^\d{1,3}$/,
  Signature: /^[A-Za-z0-9+/]{1,1024}={0,2}$/,
  Message: { maxLength: MAX_MESSAGE_CHARS },
  SigningCertURL: { maxLength: MAX_URL_CHARS },
  Subject: { maxLength: 1024 },
  UnsubscribeURL: { maxLength: MAX_URL_CHARS },
  SubscribeURL: { maxLength: MAX_URL_CHARS },
  Token: { maxLength: 2048 },
} as const satisfies Record<string, RegExp | { maxLength: number }>;

type Field = keyof typeof FIELDS;
const REQUIRED: readonly Field[] = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'];
const OPTIONAL: readonly Field[] = ['Subject', 'UnsubscribeURL', 'SubscribeURL', 'Token'];

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
  // A fresh object with the known fields only: nothing else in the body outlives this call.
  const envelope: Record<string, string> = { Type: raw.Type };
  for (const key of REQUIRED) {
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new SnsRejection('PK_SNS_MALFORMED', `${key} is missing or not a string`);
    envelope[key] = checked(key, raw[key]);
  }
  for (const key of OPTIONAL) {
    if (!(key in raw)) continue;
    if (typeof raw[key] !== 'string') throw new SnsRejection('PK_SNS_MALFORMED', `${key} is not a string`);
    envelope[key] = checked(key, raw[key]);
  }
  if (raw.Type !== 'Notification') {
    for (const key of ['SubscribeURL', 'Token'] as const) {
      if (!envelope[key]) throw new SnsRejection('PK_SNS_MALFORMED', `${raw.Type} without ${key}`);
    }
  }
  if (Number.isNaN(Date.parse(envelope.Timestamp!))) throw new SnsRejection('PK_SNS_MALFORMED', 'Timestamp is not a date');
  return envelope as unknown as SnsEnvelope;
}

function checked(key: Field, value: string): string {
  const rule = FIELDS[key];
  const ok = rule instanceof RegExp ? rule.test(value) : value.length <= rule.maxLength;
  if (!ok) throw new SnsRejection('PK_SNS_MALFORMED', rule instanceof RegExp ? `${key} is not in the format SNS uses` : `${key} is longer than ${rule.maxLength} characters`);
  return value;
}
