import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the endpoint answers for a token, or a fault. */
export type Answer =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** One request the server received, for assertions. */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  form: URLSearchParams;
}

/** A loopback RFC 7662 introspection + OIDC userinfo endpoint whose answers tests script. */
export interface IntrospectionServer {
  readonly url: string;
  readonly introspectionEndpoint: string;
  readonly userinfoEndpoint: string;
  readonly requests: ReceivedRequest[];
  /** Answer for introspection of a token; default `{ active: false }`. */
  answer(token: string, answer: Answer): void;
  /** Answer for userinfo with a token; default 401. */
  answerUserinfo(token: string, answer: Answer): void;
  /** Answer every request with this (e.g. an outage) until `fault(null)`. */
  fault(answer: Answer | null): void;
  /** Delay every answer by this many ms. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/** Starts the endpoint on 127.0.0.1, port 0; checks Basic or post client credentials when given. */
export async function startIntrospectionServer(credentials = { clientId: 'api', clientSecret: 's3cret-value' }): Promise<IntrospectionServer> {
  const introspection = new Map<string, Answer>();
  const userinfo = new Map<string, Answer>();
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let fault: Answer | null = null;
  let delayMs = 0;

  function send(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
    if (answer.kind === 'hang') return;
    if (answer.kind === 'reset') return void req.socket.destroy();
    if (answer.kind === 'raw') return void res.writeHead(answer.status, answer.headers ?? {}).end(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  }

  function authenticated(req: IncomingMessage, form: URLSearchParams): boolean {
    const basic = `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization === basic) return true;
    return form.get('client_id') === credentials.clientId && form.get('client_secret') === credentials.clientSecret;
  }

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const form = new URLSearchParams(body);
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, contentType: req.headers['content-type'], form });
      const respond = (answer: Answer) => (delayMs > 0 ? setTimeout(() => send(req, res, answer), delayMs) : send(req, res, answer));
      if (fault !== null) return respond(fault);
      if (path === '/introspect') {
        if (!authenticated(req, form)) return respond({ kind: 'json', status: 401, body: { error: 'invalid_client' } });
        return respond(introspection.get(form.get('token') ?? '') ?? { kind: 'json', body: { active: false } });
      }
      if (path === '/userinfo') {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        return respond(userinfo.get(token) ?? { kind: 'json', status: 401, body: { error: 'invalid_token' } });
      }
      respond({ kind: 'json', status: 404, body: { error: 'not_found' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    introspectionEndpoint: `${url}/introspect`,
    userinfoEndpoint: `${url}/userinfo`,
    requests,
    answer: (token, answer) => void introspection.set(token, answer),
    answerUserinfo: (token, answer) => void userinfo.set(token, answer),
    fault: (answer) => void (fault = answer),
    delay: (ms) => void (delayMs = ms),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
