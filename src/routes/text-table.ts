import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * JSON by default; an aligned text table when the client asks for text/plain
 * (`curl -H 'Accept: text/plain'`), which is what an operator at a terminal wants.
 */
export function sendRows(request: FastifyRequest, reply: FastifyReply, key: string, rows: Record<string, unknown>[], columns: string[]): FastifyReply {
  const accept = request.headers.accept ?? '';
  if (accept.includes('text/plain') && !accept.includes('application/json')) {
    return reply.type('text/plain; charset=utf-8').send(textTable(rows, columns));
  }
  return reply.send({ [key]: rows });
}

export function textTable(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => cellText(r[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function cellText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
