/**
 * JSON by default; an aligned text table when the client asks for text/plain
 * (`curl -H 'Accept: text/plain'`), which is what an operator at a terminal wants.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { textTable } from '../text-table.ts';

export function sendRows(request: FastifyRequest, reply: FastifyReply, key: string, rows: Record<string, unknown>[], columns: string[]): FastifyReply {
  const accept = request.headers.accept ?? '';
  if (accept.includes('text/plain') && !accept.includes('application/json')) {
    return reply.type('text/plain; charset=utf-8').send(textTable(rows, columns));
  }
  return reply.send({ [key]: rows });
}
