import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the server does with the nth request (1-based): answer with a status (and body), or hold it until release(). */
export type Answer = number | { status: number; body?: string; headers?: Record<string, string> } | 'hold';

/**
 * A webhook receiver on loopback, like salt-api's /hook as far as pairkeeper can
 * tell: it records every request and answers as the test scripts it.
 */
export class HookServer {
  readonly requests: HookRequest[] = [];
  private readonly held: ServerResponse[] = [];
  private readonly server: Server;
  private answer: (n: number, req: HookRequest) => Answer;
  port = 0;

  constructor(answer: (n: number, req: HookRequest) => Answer = () => ({ status: 200, body: '{"success": true}' })) {
    this.answer = answer;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(request);
        const a = this.answer(this.requests.length, request);
        if (a === 'hold') {
          this.held.push(res);
          return;
        }
        const { status, body = '', headers = {} } = typeof a === 'number' ? { status: a } : a;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
      });
    });
  }

  static async start(answer?: (n: number, req: HookRequest) => Answer): Promise<HookServer> {
    const s = new HookServer(answer);
    await s.listen();
    return s;
  }

  /** Listens on the port it had (after stop()), or a new one. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get heldCount(): number {
    return this.held.length;
  }

  setAnswer(answer: (n: number, req: HookRequest) => Answer): void {
    this.answer = answer;
  }

  /** Answers every held request with `status`. */
  release(status = 200): void {
    for (const res of this.held.splice(0)) res.writeHead(status).end();
  }

  /** Stops listening and cuts every connection, held ones included. */
  stop(): Promise<void> {
    this.held.length = 0;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
