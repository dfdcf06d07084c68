/**
 * SNS signing certificates, fetched so that no request can hang on them and no
 * sender can starve them. Anyone can name a certificate URL on an allowed host, so:
 * - good certificates and remembered failures are kept apart: failures can never
 *   evict a good certificate (a bounded LRU of its own);
 * - a certificate that can never be good (4xx, not a certificate, expired) is
 *   remembered for `failureTtlMs`, at most `maxFailuresPerHost` per host; a transient
 *   failure (timeout, 5xx) is not remembered, so the next delivery tries again;
 * - each fetch has a timeout, concurrent requests for one URL share one fetch, and
 *   fetches in flight are capped per host and in all, so stalling one host leaves
 *   the others free; a cached certificate needs no fetch at all;
 * - a cached certificate's validity dates are checked again at every use.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { SnsRejection } from '../errors.ts';

const MAX_CERT_BYTES = 64 * 1024;

interface GoodCertificate {
  key: KeyObject;
  validFrom: number;
  validTo: number;
}

interface Failure {
  rejection: SnsRejection;
  until: number;
}

export interface CertificateCacheOptions {
  timeoutMs: number;
  /** Good certificates kept (SNS uses a handful per region). */
  maxEntries: number;
  maxConcurrentFetches?: number;
  maxConcurrentFetchesPerHost?: number;
  maxFailuresPerHost?: number;
  /** Hosts whose failures are remembered; the least recent host is forgotten first. */
  maxFailureHosts?: number;
  failureTtlMs?: number;
  now?: () => number;
}

export class CertificateCache {
  /** Completed fetches performed, for tests and metrics. */
  fetches = 0;
  /** Map order is the LRU order (re-inserted on use). */
  private readonly good = new Map<string, GoodCertificate>();
  /** host → href → failure, both in insertion order. */
  private readonly failures = new Map<string, Map<string, Failure>>();
  private readonly inFlight = new Map<string, Promise<KeyObject>>();
  private readonly inFlightPerHost = new Map<string, number>();
  private readonly options: Required<CertificateCacheOptions>;

  constructor(options: CertificateCacheOptions) {
    this.options = {
      maxConcurrentFetches: 32,
      maxConcurrentFetchesPerHost: 4,
      maxFailuresPerHost: 16,
      maxFailureHosts: 16,
      failureTtlMs: 5 * 60_000,
      now: Date.now,
      ...options,
    };
  }

  get(url: URL): Promise<KeyObject> {
    const href = url.href;
    const now = this.options.now();
    const good = this.good.get(href);
    if (good) {
      this.good.delete(href);
      // Past its dates: dropped, and fetched again below (which refuses it, if it is what the host still serves).
      if (good.validFrom <= now && now <= good.validTo) {
        this.good.set(href, good);
        return Promise.resolve(good.key);
      }
    }
    const failure = this.failures.get(url.host)?.get(href);
    if (failure && failure.until > now) return Promise.reject(failure.rejection);
    const pending = this.inFlight.get(href);
    if (pending) return pending;
    const onHost = this.inFlightPerHost.get(url.host) ?? 0;
    if (this.inFlight.size >= this.options.maxConcurrentFetches || onHost >= this.options.maxConcurrentFetchesPerHost) {
      return Promise.reject(new SnsRejection('PK_SNS_BUSY', `too many certificate fetches in flight (${onHost} from ${url.host})`));
    }
    this.inFlightPerHost.set(url.host, onHost + 1);
    const fetching = this.fetchKey(href, url.host).finally(() => {
      this.inFlight.delete(href);
      const left = (this.inFlightPerHost.get(url.host) ?? 1) - 1;
      if (left === 0) this.inFlightPerHost.delete(url.host);
      else this.inFlightPerHost.set(url.host, left);
    });
    this.inFlight.set(href, fetching);
    return fetching;
  }

  private async fetchKey(href: string, host: string): Promise<KeyObject> {
    try {
      const cert = parseCertificate(await this.download(href), href, this.options.now());
      this.keepGood(href, cert);
      return cert.key;
    } catch (err) {
      if (err instanceof SnsRejection && !err.retryable) this.keepFailure(host, href, err);
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

  private keepGood(href: string, cert: GoodCertificate): void {
    this.good.set(href, cert);
    while (this.good.size > this.options.maxEntries) this.good.delete(this.good.keys().next().value as string);
  }

  private keepFailure(host: string, href: string, rejection: SnsRejection): void {
    const onHost = this.failures.get(host) ?? new Map<string, Failure>();
    this.failures.delete(host); // re-inserted: the most recent host last
    this.failures.set(host, onHost);
    onHost.delete(href);
    onHost.set(href, { rejection, until: this.options.now() + this.options.failureTtlMs });
    while (onHost.size > this.options.maxFailuresPerHost) onHost.delete(onHost.keys().next().value as string);
    while (this.failures.size > this.options.maxFailureHosts) this.failures.delete(this.failures.keys().next().value as string);
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

function parseCertificate(pem: string, href: string, now: number): GoodCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new SnsRejection('PK_SNS_CERT_INVALID', `${href} is not an X.509 certificate`, err);
  }
  const validFrom = Date.parse(cert.validFrom);
  const validTo = Date.parse(cert.validTo);
  if (!(validFrom <= now && now <= validTo)) {
    throw new SnsRejection('PK_SNS_CERT_INVALID', `certificate ${href} is not valid now (${cert.validFrom} – ${cert.validTo})`);
  }
  return { key: cert.publicKey, validFrom, validTo };
}
