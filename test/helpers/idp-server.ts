import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestKey } from './keys.js';

/** A way for an endpoint to misbehave; `setFault(null)` restores normal answers. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string } // e.g. 500, 503, 429 with Retry-After
  | { kind: 'reset' } // destroy the socket without answering
  | { kind: 'hang' } // accept, never answer
  | { kind: 'delay'; ms: number } // answer normally after ms
  | { kind: 'drip'; bytesPerSecond?: number } // send the body a byte at a time (default 10 B/s)
  | { kind: 'garbage' } // 200 with a non-JSON body
  | { kind: 'huge'; bytes: number } // 200 with a valid JWKS padded to that many bytes, chunked
  | { kind: 'redirect'; location: string }; // 302 to location

/** The endpoints a fault can target; introspection and userinfo join this list when they exist. */
export type Endpoint = 'jwks' | 'discovery';

/**
 * A loopback identity provider for tests: JWKS and issuer metadata, hit counters, faults on demand.
 * The metadata is served at both `{issuer}/.well-known/openid-configuration` (OIDC Discovery) and
 * `/.well-known/oauth-authorization-server{issuerPath}` (RFC 8414 §3); both count as `discovery`.
 */
export interface IdpServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `url`, plus `issuerPath` when one was given. */
  readonly issuer: string;
  /** `url` + `jwksPath` (default `/jwks`). */
  readonly jwksUri: string;
  /** Requests received since start or `resetHits()`, faulted ones included; `total` counts every path. */
  readonly hits: { jwks: number; discovery: number; total: number };
  /** `METHOD /path?query` of every request since start or `resetHits()`, in order. */
  readonly requests: readonly string[];
  /**
   * Overrides members of the metadata document (default `{ issuer, jwks_uri }`); a member set to
   * `undefined` is left out. Each call replaces the previous overrides.
   */
  setMetadata(overrides: Record<string, unknown>): void;
  /** Publishes these keys' public JWKs. */
  setKeys(...keys: TestKey[]): void;
  /** Publishes an arbitrary JSON body as the JWKS. */
  setJWKS(document: unknown): void;
  /** Makes an endpoint (default `'all'`) misbehave until `setFault(null, …)`. */
  setFault(fault: Fault | null, endpoint?: Endpoint | 'all'): void;
  resetHits(): void;
  /** Closes the server and every open socket, hanging ones included. */
  close(): Promise<void>;
}

const ENDPOINTS: readonly Endpoint[] = ['jwks', 'discovery'];

/** Starts an `IdpServer` on 127.0.0.1, port 0. Close it in `afterEach`/`afterAll`. */
export async function startIdpServer(options: { keys?: TestKey[]; jwksPath?: string; issuerPath?: string } = {}): Promise<IdpServer> {
  let jwks: unknown = { keys: (options.keys ?? []).map((key) => key.jwk) };
  const faults = new Map<Endpoint, Fault>();
  const hits = { jwks: 0, discovery: 0, total: 0 };
  const requests: string[] = [];
  let metadataOverrides: Record<string, unknown> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const jwksPath = options.jwksPath ?? '/jwks';
  const issuerPath = options.issuerPath ?? '';
  let url = '';

  const documents: Record<Endpoint, () => unknown> = {
    jwks: () => jwks,
    discovery: () => withoutUndefined({ issuer: url + issuerPath, jwks_uri: url + jwksPath, ...metadataOverrides }),
  };
  const routes = new Map<string, Endpoint>([
    [jwksPath, 'jwks'],
    [`${issuerPath}/.well-known/openid-configuration`, 'discovery'],
    [`/.well-known/oauth-authorization-server${issuerPath}`, 'discovery'],
  ]);

  const server: Server = createServer((req, res) => {
    hits.total += 1;
    requests.push(`${req.method} ${req.url}`);
    const endpoint = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (endpoint === undefined) return sendJSON(res, 404, { error: 'not_found' });
    hits[endpoint] += 1;
    if (req.method !== 'GET') return sendJSON(res, 405, { error: 'method_not_allowed' });
    respond(req, res, faults.get(endpoint), documents[endpoint]());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function later(ms: number, fn: () => void, repeat = false): NodeJS.Timeout {
    const timer = repeat ? setInterval(fn, ms) : setTimeout(() => (timers.delete(timer), fn()), ms);
    timers.add(timer);
    return timer;
  }

  function respond(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined, document: unknown): void {
    switch (fault?.kind) {
      case undefined:
        return sendJSON(res, 200, document);
      case 'status':
        res.setHeader('content-type', 'application/json');
        if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
        res.writeHead(fault.status).end(JSON.stringify({ error: 'fault' }));
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'delay':
        later(fault.ms, () => sendJSON(res, 200, document));
        return;
      case 'drip':
        return drip(res, Buffer.from(JSON.stringify(document)), fault.bytesPerSecond ?? 10);
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json</html>');
        return;
      case 'huge':
        return sendHuge(res, document, fault.bytes);
      case 'redirect':
        res.writeHead(302, { location: fault.location }).end();
        return;
    }
  }

  function drip(res: ServerResponse, body: Buffer, bytesPerSecond: number): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const timer = later(1000 / bytesPerSecond, () => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(timer);
        timers.delete(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.subarray(sent, sent + 1));
      sent += 1;
    }, true);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    issuer: url + issuerPath,
    jwksUri: url + jwksPath,
    hits,
    requests,
    setMetadata: (overrides) => {
      metadataOverrides = { ...overrides };
    },
    setKeys: (...keys) => {
      jwks = { keys: keys.map((key) => key.jwk) };
    },
    setJWKS: (document) => {
      jwks = document;
    },
    setFault: (fault, endpoint = 'all') => {
      for (const name of endpoint === 'all' ? ENDPOINTS : [endpoint]) {
        if (fault === null) faults.delete(name);
        else faults.set(name, fault);
      }
    },
    resetHits: () => {
      hits.jwks = 0;
      hits.discovery = 0;
      hits.total = 0;
      requests.length = 0;
    },
    close: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** A loopback URL on which nothing listens (connection refused). */
export async function refusedUrl(path = '/jwks'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function sendJSON(res: ServerResponse, status: number, document: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(document));
}

/**
 * A valid JSON document of exactly `bytes` bytes (the document's own members plus a `pad`),
 * streamed in chunks without Content-Length: a client that does not cap while reading would
 * accept it.
 */
function sendHuge(res: ServerResponse, document: unknown, bytes: number): void {
  const members = JSON.stringify(document).replace(/^\{|\}$/g, '');
  const head = Buffer.from(`{${members}${members === '' ? '' : ','}"pad":"`);
  const tail = Buffer.from('"}');
  let padLeft = Math.max(0, bytes - head.length - tail.length);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(head);
  const pump = (): void => {
    while (padLeft > 0 && !res.destroyed) {
      const piece = padLeft >= chunk.length ? chunk : chunk.subarray(0, padLeft);
      padLeft -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end(tail);
  };
  pump();
}
