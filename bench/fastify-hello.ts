/**
 * The resident-set floor of pairkeeper's stack, for the burst benchmark: Fastify with
 * a pino logger (writing to stdout, which the benchmark reads and drops) and one
 * route, nothing else. Started with the image's node flags, it is what any service
 * built on Node 24, Fastify and pino holds before it does its own work.
 * Prints `{"port": N}` on stdout once listening.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';

const app = Fastify({ logger: true });
app.get('/healthz', () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
