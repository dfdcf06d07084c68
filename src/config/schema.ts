/**
 * The one configuration schema. Every key is documented in
 * config/pairkeeper.example.yaml; unknown keys are errors (strictObject), so a
 * typo stops start-up instead of being silently ignored.
 */
import { z } from 'zod';
import { FilterSyntaxError, parseFilters } from '../domain/filters.ts';
import { notifySchema } from './notify-schema.ts';

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

/** A group's filters in Smilodon's syntax (`Env=dev,Service=etcd,tag-key=Project`): one string or a list. */
const filters = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v.join(',') : v))
  .superRefine((text, ctx) => {
    try {
      parseFilters(text);
    } catch (err) {
      if (!(err instanceof FilterSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });

/**
 * Where a prepared volume is mounted: absolute, every character an ordinary path
 * uses (letters, digits, . _ - + @ : = ,), no spaces, newlines, shell or fstab
 * metacharacters, no . or .. components. prepare-volume.sh holds this same string
 * as PATH_PATTERN (a test keeps them equal); its syntax means the same in JavaScript
 * and in bash's extended regular expressions.
 */
export const MOUNT_POINT_PATTERN = '^(/\\.*[A-Za-z0-9_@+:=,-][A-Za-z0-9._@+:=,-]*)+$';

const group = z.strictObject({
  name: z.string().min(1).max(255),
  filters: filters.default(''),
  nodeIdTag: z.string().min(1).max(128).default('NodeID'),
  volumeDevice: z.string().regex(/^\/dev\/(sd[b-z]|xvd[b-z])$/, 'expected a device name such as /dev/sdf').default('/dev/sdf'),
  eniDeviceIndex: z.number().int().min(1).max(15).default(1),
  /** For lifecycle hooks that notify pairkeeper's topic. */
  lifecycle: z
    .strictObject({
      /** How to complete a launch hook when no pair can be had: abandon (the instance is replaced) or continue without a pair. */
      onNoPair: z.enum(['abandon', 'continue']).default('abandon'),
      /** How long a hook-held launch waits for a pair to be released before onNoPair applies. */
      noPairWaitSeconds: z.number().min(0).max(7200).default(60),
      /** A heartbeat goes out every this fraction of the hook's heartbeat timeout while work goes on. */
      heartbeatFraction: z.number().min(0.001).max(0.9).default(0.5),
      /**
       * Hooks that are pairkeeper's whatever they notify: by name, for hooks with no notification
       * target (an EventBridge rule feeds the queue). Resync completes them like the ones that notify
       * pairkeeper's topics or queue.
       */
      hookNames: z.array(z.string().min(1).max(255)).max(50).default([]),
    })
    .prefault({}),
  /**
   * Prepare the volume on the instance after attaching, through SSM Run Command:
   * format only a blank volume, mount it by UUID with nofail, then run afterCommand.
   * Absent: pairkeeper only attaches.
   */
  prepare: z
    .strictObject({
      mountPoint: z
        .string()
        .regex(new RegExp(MOUNT_POINT_PATTERN), 'expected an absolute path without spaces, shell metacharacters, . or .. components, such as /var/lib/zookeeper'),
      fsType: z.enum(['ext4', 'xfs']).default('ext4'),
      fsLabel: z.string().regex(/^[A-Za-z0-9._-]{1,12}$/, 'up to 12 letters, digits, dots, dashes or underscores').optional(),
      mountOptions: z.string().regex(/^[A-Za-z0-9_=,.-]+$/, 'expected mount options such as defaults,nofail').default('defaults,nofail'),
      /** Run (bash -c) after every successful preparation, e.g. systemctl start zookeeper; must be idempotent. */
      afterCommand: z.string().min(1).optional(),
      /** The SSM document; AWS-RunShellScript or your copy of it. */
      document: z.string().min(1).default('AWS-RunShellScript'),
      /** How long to wait for the instance's SSM agent to register. */
      agentTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
      /** The command's own timeout. */
      timeoutSeconds: z.number().int().min(30).max(7200).default(600),
    })
    .optional(),
});

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8080),
      /** Serve HTTPS on the public listener (SNS needs a CA-signed certificate), or leave TLS to a proxy. */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /** Shed POST /sns with 503 (SNS retries) while the event loop lags more than this; 0 turns shedding off. */
      maxEventLoopDelayMs: z.number().int().min(0).default(1000),
    })
    .prefault({}),
  admin: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8081),
      /** Bearer token for every admin route; required when `host` is not loopback. */
      token: z.string().min(16, 'use at least 16 characters').optional(),
      /** Or read the token from this file (trailing newline ignored), so it stays out of the config. */
      tokenFile: z.string().min(1).optional(),
    })
    .prefault({})
    .superRefine((admin, ctx) => {
      if (admin.token && admin.tokenFile) ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give admin.token or admin.tokenFile, not both' });
      if (!admin.token && !admin.tokenFile && !isLoopback(admin.host)) {
        ctx.addIssue({ code: 'custom', path: ['token'], message: `required when the admin listener is not on loopback (admin.host is ${admin.host})` });
      }
    }),
  aws: z.strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1'),
    /**
     * pairkeeper paces its EC2 calls with AWS's default token buckets, so a burst
     * waits instead of being throttled. Raise it if AWS raised your account's limits.
     */
    ec2RateScale: z.number().positive().default(1),
    /**
     * Parameter Store calls (the ssm claim store) are paced the same way, with its
     * buckets: 40 reads and about 3 writes a second per account and region.
     */
    ssmRateScale: z.number().positive().default(1),
    /**
     * The buckets are the account's: this replica's share of them, fixed. Default: in proportion to
     * the instances it owns among the last minute's messages (equal parts without messages).
     */
    ssmShare: z.number().positive().max(1).optional(),
    /** The account has Parameter Store's higher throughput on (about 10 writes a second, 100 GetParametersByPath). */
    ssmHigherThroughput: z.boolean().default(false),
    /**
     * How often attachments in progress are re-read, and the least time between two
     * reads of one kind (instances, volumes, ENIs): the reads made meanwhile share one
     * call. A quiet reader answers at once; one with many reads waiting, three times as often.
     */
    pollIntervalMs: z.number().int().min(10).max(60_000).default(1500),
    /** Give up waiting for one attachment after this. */
    attachTimeoutSeconds: z.number().int().positive().default(300),
  }),
  groups: z.array(group).default([]).refine((gs) => new Set(gs.map((g) => g.name)).size === gs.length, { message: 'group names must be unique' }),
  claims: z
    .strictObject({
      /** file: one replica; ssm: Parameter Store, for several replicas. */
      store: z.enum(['file', 'ssm']).default('file'),
      path: z.string().min(1).default('var/claims.json'),
      ssmPrefix: z.string().regex(/^(\/[\w.-]+)+$/, 'expected a path such as /pairkeeper').default('/pairkeeper'),
    })
    .prefault({}),
  /**
   * Replicas that share one claim store (ssm), each subscribed to the topic so that
   * every message reaches each of them. Told how many they are and which one each is,
   * they split the work: each instance is owned by one replica (rendezvous hash of its
   * id), which alone acts on its messages. The others step back and take over only if
   * the owner has not paired (or released) it within `takeoverSeconds`, so a replica
   * that dies costs that delay, never a pairing. Not told (count 1, the default), every
   * replica acts on every message: still safe (the claim is the lock), at about twice
   * the Parameter Store writes.
   */
  replicas: z
    .strictObject({
      count: z.number().int().min(1).max(16).default(1),
      /** This replica's place, 0 to count - 1 (environment: PAIRKEEPER_REPLICA_INDEX, e.g. a StatefulSet's ordinal). */
      index: z.number().int().min(0).default(0),
      /** How long the other replicas give an instance's owner before they do its work themselves. */
      takeoverSeconds: z.number().min(0.05).max(3600).default(60),
    })
    .prefault({})
    .refine((r) => r.index < r.count, { path: ['index'], message: 'must be below replicas.count (replicas are numbered from 0)' }),
  work: z
    .strictObject({
      /** Instances worked on at once; one instance's events always run one at a time, in order. */
      concurrency: z.number().int().min(1).max(5000).default(256),
      /** Instances queued at most; beyond it /sns answers 503 and SNS retries later. */
      queueLimit: z.number().int().min(1).default(10_000),
    })
    .prefault({}),
  resync: z
    .strictObject({
      /**
       * Every group is compared with AWS this often (and at start-up): instances
       * without a pair get one, claims of gone instances are released, hook-held
       * instances are completed. It also retries instances waiting for a pair.
       */
      intervalSeconds: z.number().min(0.05).max(3600).default(60),
    })
    .prefault({}),
  sns: z.strictObject({
    /**
     * The topics whose messages pairkeeper takes (POST /sns, and SNS envelopes in the
     * queue). Empty only when intake.sqs takes the events, from a queue fed raw or by
     * an EventBridge rule: then no SNS message is taken.
     */
    topicArns: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'expected an SNS topic ARN')).default([]),
    /**
     * Absent (the default): the host of SigningCertURL and SubscribeURL must be exactly
     * sns.<region of the TopicArn>.amazonaws.com (.amazonaws.com.cn in aws-cn). Set:
     * matched whole against the host (and port, if any) instead; it must be anchored.
     */
    certHostPattern: regex
      .refine((s) => s.startsWith('^') && /(^|[^\\])(\\\\)*\$$/.test(s), {
        message: 'must be anchored: start with ^ and end with $, or any host that merely contains a match would be trusted',
      })
      .optional(),
    /** SNS signature versions accepted: 1 is SHA1withRSA, 2 SHA256withRSA; ["2"] refuses SHA1 (set the topic's SignatureVersion to 2). */
    signatureVersions: z.array(z.enum(['1', '2'])).min(1).default(['1', '2']),
    autoConfirm: z.boolean().default(true),
    maxMessageAgeSeconds: z.number().int().positive().default(3600),
    clockSkewSeconds: z.number().int().nonnegative().default(300),
    certFetchTimeoutMs: z.number().int().positive().max(14_000).default(5000),
    certCacheSize: z.number().int().positive().default(64),
    confirmTimeoutMs: z.number().int().positive().max(7000).default(5000),
    /** MessageIds remembered for replay protection; the window is maxMessageAgeSeconds + clockSkewSeconds. */
    seenMessageIds: z.number().int().positive().default(100_000),
  }).prefault({}),
  /** Intakes besides `POST /sns`. */
  intake: z
    .strictObject({
      /** An SQS queue that Auto Scaling writes to (through SNS, EventBridge or directly): for hosts SNS cannot reach. */
      sqs: z
        .strictObject({
          queueUrl: z.string().regex(/^https?:\/\/[^\s/]+\/\d{12}\/[\w-]{1,80}$/, 'expected an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)'),
          /** Long poll: one ReceiveMessage waits up to this long for a message. */
          waitTimeSeconds: z.number().int().min(1).max(20).default(20),
          /** Each received message is hidden this long, and extended at half of it while its work goes on. */
          visibilityTimeoutSeconds: z.number().int().min(1).max(43_200).default(60),
          maxMessages: z.number().int().min(1).max(10).default(10),
        })
        .optional(),
    })
    .prefault({}),
  /** Where pairkeeper reports what it did: webhooks (salt-api), commands, the facts file. */
  notify: notifySchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
}).refine((config) => config.replicas.count === 1 || config.claims.store === 'ssm', {
  path: ['replicas', 'count'],
  message: 'several replicas need a shared claim store: set claims.store to ssm (the file store is one replica\'s)',
}).refine((config) => config.sns.topicArns.length > 0 || config.intake.sqs !== undefined, {
  path: ['sns', 'topicArns'],
  message: 'name at least one topic, unless intake.sqs takes the events (a queue fed raw or by an EventBridge rule)',
});

export type Config = z.infer<typeof configSchema>;
export type GroupConfig = Config['groups'][number];
