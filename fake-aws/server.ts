import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallRecorder } from './call-recorder.ts';
import { FakeAwsError } from './errors.ts';
import type { Faults } from './faults.ts';
import type { FakeService, JsonService, QueryService } from './protocol.ts';
import { escapeXml, toXml } from './xml.ts';

/** Extra HTTP routes (the control API) tried before the AWS services. Return false to pass. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, body: string) => Promise<boolean> | boolean;

export interface FakeAwsHttpServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startHttpServer(options: {
  services: FakeService[];
  faults: Faults;
  recorder: CallRecorder;
  extraRoutes?: ExtraRoute[];
  host?: string;
  port?: number;
}): Promise<FakeAwsHttpServer> {
  const { services, faults, recorder, extraRoutes = [] } = options;
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake-aws internal error: ${String(err)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    for (const route of extraRoutes) if (await route(req, res, body)) return;

    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const [prefix, action] = target.split('.');
      const service = services.find((s): s is JsonService => s.kind === 'json' && s.targetPrefix === prefix);
      if (!service || !action) return sendJsonError(res, 400, 'UnknownOperationException', `unknown target ${target}`);
      return answerJson(service, action, body, res, req.headers.authorization);
    }

    const params = new URLSearchParams(body);
    const action = params.get('Action');
    const version = params.get('Version');
    const service = services.find((s): s is QueryService => s.kind === 'query' && s.version === version);
    if (!service || !action) {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(`<Response><Errors><Error><Code>InvalidAction</Code><Message>no service for Version=${escapeXml(version ?? '')} Action=${escapeXml(action ?? '')}</Message></Error></Errors></Response>`);
      return;
    }
    recorder.record(`${service.iamPrefix}:${action}`, req.headers.authorization, () => service.callResources(action, params));
    return answerQuery(service, action, params, res);
  }

  async function answerQuery(service: QueryService, action: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      await faults.before(service.name, action);
      const result = await service.handle(action, params);
      const inner = Object.entries(result).map(([k, v]) => toXml(k, v, service.style === 'ec2' ? 'item' : 'member')).join('');
      const xml =
        service.style === 'ec2'
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${service.xmlns}"><requestId>${requestId}</requestId>${inner}</${action}Response>`
          : `<${action}Response xmlns="${service.xmlns}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(xml);
    } catch (err) {
      const e = asFakeError(err);
      const xml =
        service.style === 'ec2'
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
          : `<ErrorResponse xmlns="${service.xmlns}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      res.writeHead(e.status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(xml);
    }
  }

  async function answerJson(service: JsonService, action: string, body: string, res: ServerResponse, authorization: string | undefined): Promise<void> {
    try {
      let input: Record<string, unknown>;
      try {
        input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      } catch {
        throw new FakeAwsError('SerializationException', 'body is not JSON');
      }
      recorder.record(`${service.iamPrefix}:${action}`, authorization, () => service.callResources(action, input));
      await faults.before(service.name, action);
      const result: unknown = await service.handle(action, input);
      res.writeHead(200, { 'content-type': `application/x-amz-json-${service.jsonVersion ?? '1.1'}`, 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(result ?? {}));
    } catch (err) {
      const e = asFakeError(err);
      const fields = service.errorFields?.(e);
      sendJsonError(res, e.status, fields?.type ?? e.code, e.message, fields?.headers);
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function asFakeError(err: unknown): FakeAwsError {
  if (err instanceof FakeAwsError) return err;
  return new FakeAwsError('InternalError', `fake-aws bug: ${String(err)}`, 500);
}

function sendJsonError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': code,
    ...headers,
  });
  res.end(JSON.stringify({ __type: code, message }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
