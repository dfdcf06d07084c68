/**
 * One JSON line per event. Secrets are redacted wherever they would appear: auth
 * headers, subscription tokens and SubscribeURLs (whoever holds one can confirm a
 * subscription), lifecycle action tokens.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'token',
  'Token',
  'subscribeUrl',
  'SubscribeURL',
  'lifecycleActionToken',
  'config.admin.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'pairkeeper' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
