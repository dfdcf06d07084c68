import { z } from 'zod';

/**
 * The one configuration schema. Every key is documented in
 * config/pairkeeper.example.yaml; unknown keys are errors (strictObject), so a
 * typo stops start-up instead of being silently ignored.
 */
const port = z.number().int().min(0).max(65535);

const regex = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8080),
    })
    .prefault({}),
  admin: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8081),
    })
    .prefault({}),
  aws: z.strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1'),
  }),
  sns: z.strictObject({
    topicArns: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'expected an SNS topic ARN')).min(1),
    /** Matched against the host (and port, if any) of SigningCertURL and SubscribeURL. */
    certHostPattern: regex.default('^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$'),
    autoConfirm: z.boolean().default(true),
    maxMessageAgeSeconds: z.number().int().positive().default(3600),
    clockSkewSeconds: z.number().int().nonnegative().default(300),
    certFetchTimeoutMs: z.number().int().positive().max(14_000).default(5000),
    certCacheSize: z.number().int().positive().default(64),
    confirmTimeoutMs: z.number().int().positive().max(7000).default(5000),
    /** MessageIds remembered for replay protection; the window is maxMessageAgeSeconds + clockSkewSeconds. */
    seenMessageIds: z.number().int().positive().default(100_000),
  }),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
