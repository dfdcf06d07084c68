/**
 * `pairkeeper status`: the text summary of GET /v1/status from the running service's
 * admin listener, at the address and with the token of the same config file. A
 * wildcard admin.host is reached on loopback.
 */
import type { Config } from '../config/schema.ts';
import { PairkeeperError } from '../errors.ts';

const TIMEOUT_MS = 5000;

export async function fetchStatusText(config: Config): Promise<string> {
  const host = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host === '::' || config.admin.host === '[::]' ? '[::1]' : config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host;
  const url = `http://${host}:${config.admin.port}/v1/status`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'text/plain', ...(config.admin.token ? { authorization: `Bearer ${config.admin.token}` } : {}) },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new PairkeeperError('PK_STATUS_UNREACHABLE', `no answer from ${url} (is pairkeeper running with this config?): ${(err as Error).message}`, { cause: err });
  }
  const text = await response.text();
  if (!response.ok) throw new PairkeeperError('PK_STATUS_UNREACHABLE', `${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text;
}
