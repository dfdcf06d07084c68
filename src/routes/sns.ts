/**
 * `POST /sns`. SNS sends JSON as `text/plain; charset=UTF-8` by default, some set
 * `application/json`, a hand-made request may send none: every body is taken as
 * text and parsed by the ingress, so all of them get the same checks and answers.
 */
import type { FastifyInstance } from 'fastify';

/** SNS messages are JSON at most 256 KiB, but escaping inside `Message` can grow them. */
export const SNS_BODY_LIMIT = 1024 * 1024;

/** What answers an SNS delivery (the SNS ingress). */
export interface SnsHandler {
  handle(body: string, headers: Record<string, string | string[] | undefined>): Promise<{ status: number; body: unknown }>;
}

export function snsRoutes(app: FastifyInstance, ingress: SnsHandler): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: SNS_BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.post('/sns', async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : '';
    const answer = await ingress.handle(body, request.headers);
    return reply.code(answer.status).send(answer.body);
  });
}
