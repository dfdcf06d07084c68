/**
 * Who may use the admin routes. Two checks, each an onRequest hook:
 * - the Host header must name this listener (DNS rebinding: a page at
 *   evil.example whose name is re-pointed at 127.0.0.1 makes a browser send its
 *   own name as Host, and no token would be needed on loopback);
 * - the bearer token, when one is configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function requireAdminHost(app: FastifyInstance, configuredHost: string): void {
  const configured = hostname(configuredHost);
  // Listening on every address: reached by any of them. An address is never a rebinding: that needs a name.
  const wildcard = configured === '0.0.0.0' || configured === '[::]';
  app.addHook('onRequest', async (request, reply) => {
    const given = request.headers.host ?? '';
    const url = parseHost(given);
    // In-process requests (inject) have no socket port; a real connection always has one.
    const arrivedOn = request.socket.localPort;
    const port = url && (url.port === '' ? 80 : Number(url.port));
    const named = url !== undefined && (isLoopbackName(url.hostname) || url.hostname === configured || (wildcard && isIP(bare(url.hostname)) !== 0));
    if (named && (arrivedOn === undefined || port === arrivedOn)) return;
    request.log.warn({ code: 'PK_ADMIN_HOST', host: given.slice(0, 100) }, 'admin request refused: Host does not name this listener');
    await reply.code(421).send({ code: 'PK_ADMIN_HOST', message: `Host must name this listener: localhost, a loopback address or admin.host (${configuredHost}), with its port` });
  });
}

export function requireBearerToken(app: FastifyInstance, token: string): void {
  // Both sides are hashed first, so the comparison takes the same time whatever the length or content of the guess.
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!timingSafeEqual(digest(given), expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="pairkeeper-admin"')
        .send({ code: 'PK_UNAUTHORIZED', message: 'this route needs Authorization: Bearer <admin token>' });
    }
  });
}

/** `host[:port]` as the WHATWG parser reads it (lower case, IPv6 in brackets), or undefined if it is more than that. */
function parseHost(value: string): URL | undefined {
  try {
    const url = new URL(`http://${value}`);
    return url.pathname === '/' && url.search === '' && url.hash === '' && !url.username && !url.password && !value.includes('/') ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A configured host in the form URL.hostname has. */
function hostname(host: string): string {
  const url = parseHost(isIP(host) === 6 ? `[${host}]` : host);
  return url?.hostname ?? host.toLowerCase();
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function bare(name: string): string {
  return name.startsWith('[') ? name.slice(1, -1) : name;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
