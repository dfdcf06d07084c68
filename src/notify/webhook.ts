import { readFile } from 'node:fs/promises';
import { TYPE_PLACEHOLDER, type WebhookConfig } from '../config/notify-schema.ts';
import type { NotifyEvent, NotifyEventType } from '../domain/notify-event.ts';
import type { AttemptResult, Target } from './target.ts';

/** Enough of an error answer to say why; the rest is not read. */
const BODY_EXCERPT_BYTES = 512;

/**
 * POSTs the event as JSON. Shaped for salt-api (rest_cherrypy), the usual receiver:
 *
 * - `POST /hook/<path>` fires an event tagged `salt/netapi/hook/<path>` on Salt's
 *   event bus, with data `{ body: <raw body>, post: <body parsed by Content-Type>,
 *   headers: <request headers> }`, and answers 200 `{"success": true}`. So the
 *   reactor reads our fields from `data['post']` (we send application/json), and a
 *   URL of `https://salt:8000/hook/pairkeeper/{type}` gives one tag per event type:
 *
 *     reactor:
 *       - 'salt/netapi/hook/pairkeeper/pair/attached':
 *         - /srv/reactor/pairkeeper-attached.sls   # {{ data['post']['nodeId'] }} …
 *
 * - Auth: the hook requires a salt-api session by default; the token goes in the
 *   `X-Auth-Token` header (authHeaderName: X-Auth-Token, authHeaderFile holding a
 *   token from /login or a long-lived one from `salt-run auth.mk_token …
 *   token_expire=…`; /login tokens expire after the master's token_expire, 12 h by
 *   default). Or the master sets `rest_cherrypy: webhook_disable_auth: True` and
 *   the hook is open: then keep salt-api on loopback or firewalled. Either way the
 *   request headers, the token included, are copied into the event's data on
 *   Salt's bus: whoever can read the bus can read them.
 *
 * An expired token answers 401, which is not retried (the same request can never
 * succeed); the token file is read at every attempt, so refreshing it fixes the
 * next event without a restart.
 */
export class WebhookTarget implements Target {
  readonly kind = 'webhook';
  private readonly config: WebhookConfig;
  readonly events: ReadonlySet<NotifyEventType>;

  constructor(config: WebhookConfig) {
    this.config = config;
    this.events = new Set(config.events);
  }

  /** pair.attached → pair/attached: salt-api turns the path into the event tag. */
  urlFor(type: NotifyEventType): string {
    return this.config.url.replaceAll(TYPE_PLACEHOLDER, type.replaceAll('.', '/'));
  }

  describe(event: NotifyEvent): string {
    const url = new URL(this.urlFor(event.type));
    return `${url.origin}${url.pathname}`;
  }

  async attempt(event: NotifyEvent, signal: AbortSignal): Promise<AttemptResult> {
    const { timeoutMs } = this.config;
    const headers = new Headers(this.config.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', 'pairkeeper');
    headers.set('content-type', 'application/json');
    if (this.config.authHeaderFile) {
      const token = await readToken(this.config.authHeaderFile);
      if (typeof token !== 'string') return { ok: false, retryable: true, error: token.error };
      headers.set(this.config.authHeaderName, token);
    }
    try {
      const response = await fetch(this.urlFor(event.type), {
        method: 'POST',
        headers,
        body: JSON.stringify(event),
        // A redirect would turn the POST into a GET elsewhere: the URL is wrong, say so.
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      const excerpt = await readExcerpt(response);
      const { status } = response;
      if (status >= 200 && status < 300) return { ok: true, retryable: false, status };
      const retryable = status === 408 || status === 429 || status >= 500;
      return { ok: false, retryable, status, error: `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}` };
    } catch (err) {
      return { ok: false, retryable: true, error: describeFetchError(err, timeoutMs) };
    }
  }
}

async function readToken(path: string): Promise<string | { error: string }> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    return token || { error: `authHeaderFile ${path} is empty` };
  } catch (err) {
    return { error: `cannot read authHeaderFile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/** The start of the body, on one line; the rest is cancelled, not downloaded. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (err instanceof DOMException && err.name === 'AbortError') return 'aborted: the notifier is closing';
  // fetch says "fetch failed" and puts the reason (ECONNREFUSED, a TLS error, …) in the cause.
  const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  return (err as Error).message ?? String(err);
}
