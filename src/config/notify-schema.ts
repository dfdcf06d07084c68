/**
 * The `notify` key: where pairkeeper reports pairs attached and released,
 * instances waiting and lifecycle launches abandoned (webhooks, commands), and
 * where it keeps the cluster facts file. Documented in config/pairkeeper.example.yaml.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { NOTIFY_EVENT_TYPES } from '../domain/notify-event.ts';

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'not a valid HTTP header name');
const headers = z.record(z.string(), z.string()).superRefine((h, ctx) => {
  for (const name of Object.keys(h)) if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid HTTP header name' });
});

/** Which events a target receives; all unless narrowed. */
const events = z
  .array(z.enum(NOTIFY_EVENT_TYPES))
  .min(1)
  .default(() => [...NOTIFY_EVENT_TYPES]);

/**
 * `{type}` in the URL becomes the event type with dots as slashes (pair.attached →
 * pair/attached): with salt-api, `https://salt:8000/hook/pairkeeper/{type}` fires
 * `salt/netapi/hook/pairkeeper/pair/attached` on Salt's event bus.
 */
export const TYPE_PLACEHOLDER = '{type}';

/** The URL as it will be requested, or undefined if it does not parse. */
function requestUrl(text: string): URL | undefined {
  try {
    return new URL(text.replaceAll(TYPE_PLACEHOLDER, 'pair/attached'));
  } catch {
    return undefined;
  }
}

const webhookUrl = z.string().superRefine((text, ctx) => {
  const url = requestUrl(text);
  if (!url) {
    ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'expected an http or https URL' });
  // fetch refuses them, and they would put a secret in the config: authHeaderFile is the place.
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'no credentials in the URL; use authHeaderFile' });
});

/** Headers that carry a credential whatever the receiver; plus the configured authHeaderName. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-auth-token', 'cookie', 'x-api-key'];

/**
 * Loopback as the URL parser leaves the host: 127.0.0.0/8, [::1], localhost. Only
 * there does plain http not cross a network; a name like 127.0.0.1.nip.io resolves
 * wherever its owner likes.
 */
function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'));
}

/** The first credential the webhook would send, and the key that configures it. */
function credentialSent(config: { headers: Record<string, string>; authHeaderFile?: string | undefined; authHeaderName: string }): { header: string; key: string } | undefined {
  if (config.authHeaderFile) return { header: config.authHeaderName, key: 'authHeaderFile' };
  const credentials = [...CREDENTIAL_HEADERS, config.authHeaderName.toLowerCase()];
  const header = Object.keys(config.headers).find((name) => credentials.includes(name.toLowerCase()));
  return header === undefined ? undefined : { header, key: 'headers' };
}

const webhook = z.strictObject({
  url: webhookUrl,
  events,
  /** Sent with every request; no secrets here (the config is not a secret store). */
  headers: headers.default({}),
  /**
   * A file whose content (trimmed) is sent as the `authHeaderName` header, read at every
   * attempt so a rotated token is picked up without a restart.
   */
  authHeaderFile: z.string().min(1).optional(),
  /** salt-api wants `X-Auth-Token` (a token from /login or `salt-run auth.mk_token`). */
  authHeaderName: headerName.default('Authorization'),
  timeoutMs: z.number().int().min(1).max(120_000).default(5000),
}).superRefine((config, ctx) => {
  // A token in clear text is anyone's on the path: refused at load, not discovered in a capture.
  const url = requestUrl(config.url);
  const credential = credentialSent(config);
  if (url?.protocol !== 'http:' || !credential || isLoopback(url)) return;
  ctx.addIssue({ code: 'custom', path: ['url'], message: `plain http would send the ${credential.header} header (${credential.key}) in clear text; use https, or a loopback host` });
});

/** What a shell and execve accept as a variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The variables pairkeeper sets from the event. The operator's `env`/`passEnv` may not
 * name them: a hook must be able to trust that NODE_ID is the event's.
 */
export const EVENT_FIELD_ENV_NAMES = ['NODE_ID', 'NODE_IP', 'INSTANCE_ID', 'VOLUME_ID', 'NETWORK_INTERFACE_ID', 'GROUP', 'AVAILABILITY_ZONE'] as const;
const EVENT_ENV_NAMES: readonly string[] = ['PAIRKEEPER_EVENT', 'PAIRKEEPER_EVENT_TYPE', 'PAIRKEEPER_EVENT_ID', ...EVENT_FIELD_ENV_NAMES];

const envName = z
  .string()
  .regex(ENV_NAME, 'not a valid environment variable name')
  .refine((name) => !EVENT_ENV_NAMES.includes(name), { message: 'set by pairkeeper from the event' });

const command = z.strictObject({
  /** argv: run as is, no shell. The event comes in the environment (PAIRKEEPER_EVENT, NODE_ID, NODE_IP, …). */
  run: z.array(z.string().min(1)).min(1),
  events,
  /**
   * The hook's environment is the event's variables, PATH, HOME and LANG, plus these
   * fixed values (which win over a passed-on one); nothing else of pairkeeper's, so
   * never its AWS credentials.
   */
  env: z
    .record(z.string(), z.string().refine((value) => !value.includes('\0'), { message: 'contains a NUL byte' }))
    .superRefine((vars, ctx) => {
      for (const name of Object.keys(vars)) {
        const checked = envName.safeParse(name);
        if (!checked.success) ctx.addIssue({ code: 'custom', path: [name], message: checked.error.issues[0]!.message });
      }
    })
    .default({}),
  /** Names of pairkeeper's own variables to pass on to the hook, when pairkeeper has them. */
  passEnv: z.array(envName).default([]),
  /** The command's process group is killed after this, and the delivery retried. */
  timeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
});

export const notifySchema = z
  .strictObject({
    webhooks: z.array(webhook).default([]),
    commands: z.array(command).default([]),
    /** Each delivery is tried this many times in all, with exponential backoff and full jitter in between. */
    retry: z
      .strictObject({
        attempts: z.number().int().min(1).max(100).default(5),
        baseMs: z.number().int().min(1).default(1000),
        capMs: z.number().int().min(1).default(60_000),
      })
      .prefault({})
      .refine((r) => r.capMs >= r.baseMs, { message: 'capMs must be at least baseMs', path: ['capMs'] }),
    /** Deliveries waiting (for a first try or a retry) kept at most; beyond it the oldest is dropped and counted. */
    queueLimit: z.number().int().min(1).default(1000),
    /** Where to keep the cluster facts (every attached pair's node, IP, volume, device), e.g. /etc/cluster_facts.json. */
    factsFile: z.string().min(1).optional(),
  })
  .prefault({});

export type NotifyConfig = z.infer<typeof notifySchema>;
export type WebhookConfig = NotifyConfig['webhooks'][number];
export type CommandConfig = NotifyConfig['commands'][number];
