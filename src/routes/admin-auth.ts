import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Bearer-token check for every admin route, when a token is configured. Both sides
 * are hashed first, so the comparison takes the same time whatever the length or
 * content of the guess.
 */
export function requireBearerToken(app: FastifyInstance, token: string): void {
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

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
