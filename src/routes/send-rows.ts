/**
 * JSON by default; an aligned text table when the client asks for text/plain
 * (`curl -H 'Accept: text/plain'`), which is what an operator at a terminal wants.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { textTable } from '../text-table.ts';

/** The client asked for text (and not for JSON too). */
export function wantsText(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/plain') && !accept.includes('application/json');
}

export function sendRows(request: FastifyRequest, reply: FastifyReply, key: string, rows: Record<string, unknown>[], columns: string[]): FastifyReply {
  if (wantsText(request)) {
    return reply.type('text/plain; charset=utf-8').send(textTable(rows, columns));
  }
  return reply.send({ [key]: rows });
}
