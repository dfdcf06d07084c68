import { X509Certificate, type KeyObject } from 'node:crypto';
import { SnsRejection } from '../errors.ts';

/**
 * SNS signing certificates, fetched so that no request can hang on them: each fetch
 * has a timeout, concurrent requests for one URL share one fetch, distinct fetches
 * in flight are capped, and the cache is a bounded LRU. A certificate that can never
 * be good (404, not a certificate, expired) is remembered as such; a transient
 * failure (timeout, 5xx) is not, so the next delivery tries again.
 */
const MAX_CERT_BYTES = 64 * 1024;

type Entry = { key: KeyObject } | { rejection: SnsRejection };

export interface CertificateCacheOptions {
  timeoutMs: number;
  maxEntries: number;
  maxConcurrentFetches?: number;
  now?: () => number;
}

export class CertificateCache {
  /** Completed fetches performed, for tests and metrics. */
  fetches = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<KeyObject>>();
  private readonly options: Required<CertificateCacheOptions>;

  constructor(options: CertificateCacheOptions) {
    this.options = { maxConcurrentFetches: 8, now: Date.now, ...options };
  }

  get(url: URL): Promise<KeyObject> {
    const href = url.href;
    const entry = this.entries.get(href);
    if (entry) {
      this.entries.delete(href); // re-insert: Map order is the LRU order
      this.entries.set(href, entry);
      return 'key' in entry ? Promise.resolve(entry.key) : Promise.reject(entry.rejection);
    }
    const pending = this.inFlight.get(href);
    if (pending) return pending;
    if (this.inFlight.size >= this.options.maxConcurrentFetches) {
      return Promise.reject(new SnsRejection('PK_SNS_BUSY', 'too many certificate fetches in flight'));
    }
    const fetching = this.fetchKey(href).finally(() => this.inFlight.delete(href));
    this.inFlight.set(href, fetching);
    return fetching;
  }

  private async fetchKey(href: string): Promise<KeyObject> {
    try {
      const key = parseCertificate(await this.download(href), href, this.options.now());
      this.remember(href, { key });
      return key;
    } catch (err) {
      if (err instanceof SnsRejection && !err.retryable) this.remember(href, { rejection: err });
      throw err;
    } finally {
      this.fetches += 1;
    }
  }

  private async download(href: string): Promise<string> {
    let res: Response;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      // No redirects: a redirect could lead off the allowed host.
      res = await fetch(href, { redirect: 'error', signal });
      if (res.status !== 200) {
        await res.body?.cancel();
        const transient = res.status >= 500 || res.status === 429;
        throw new SnsRejection(transient ? 'PK_SNS_CERT_UNAVAILABLE' : 'PK_SNS_CERT_INVALID', `certificate ${href} answered HTTP ${res.status}`);
      }
      return await readLimited(res, href);
    } catch (err) {
      if (err instanceof SnsRejection) throw err;
      const reason = signal.aborted ? `timed out after ${this.options.timeoutMs} ms` : (err as Error).message;
      throw new SnsRejection('PK_SNS_CERT_UNAVAILABLE', `certificate ${href} could not be fetched: ${reason}`, err);
    }
  }

  private remember(href: string, entry: Entry): void {
    this.entries.set(href, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

async function readLimited(res: Response, href: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) cancels the stream.
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_CERT_BYTES) throw new SnsRejection('PK_SNS_CERT_INVALID', `certificate ${href} is larger than ${MAX_CERT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseCertificate(pem: string, href: string, now: number): KeyObject {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new SnsRejection('PK_SNS_CERT_INVALID', `${href} is not an X.509 certificate`, err);
  }
  if (Date.parse(cert.validTo) < now || Date.parse(cert.validFrom) > now) {
    throw new SnsRejection('PK_SNS_CERT_INVALID', `certificate ${href} is not valid now (${cert.validFrom} – ${cert.validTo})`);
  }
  return cert.publicKey;
}
