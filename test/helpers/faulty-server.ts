import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createGzip } from 'node:zlib';

/**
 * A loopback server whose endpoints misbehave on demand, for fault-injection tests of every
 * network dependency (JWKS, discovery; introspection and userinfo register their own endpoints
 * the same way). It goes further than `idp-server.ts`: it can refuse connections on its own port
 * and then heal on that same port, reset mid-body, drip its *headers*, flood 1xx responses,
 * send 64 MiB or a gzip bomb while counting what it wrote, and serve a different document on
 * every fetch (keys flapping).
 */

/** How an endpoint misbehaves. Every faulty answer carries `Connection: close`. */
export type ServerFault =
  /** Nothing listens on the port any more (connection refused); `heal()` listens again on the same port. */
  | { kind: 'refused' }
  /** Headers promise the whole document, half of it is sent, then the socket is reset. */
  | { kind: 'reset-mid-body' }
  /** The request is read and never answered. */
  | { kind: 'hang' }
  /** Status and headers at once, then the body at `bytesPerSecond` (default 1). */
  | { kind: 'drip-body'; bytesPerSecond?: number }
  /** The raw status line and headers themselves at `bytesPerSecond` (default 1). */
  | { kind: 'drip-headers'; bytesPerSecond?: number }
  /** `102 Processing` every 20 ms, forever, and never a final response. */
  | { kind: 'informational-flood' }
  /** 200 with `bytes` of response headers. */
  | { kind: 'huge-headers'; bytes: number }
  /** 200 with a valid JSON document padded to `bytes`, with or without a Content-Length. */
  | { kind: 'huge-body'; bytes: number; contentLength: boolean }
  /** 200, `Content-Encoding: gzip`, a small body that inflates to `bytes` of valid JSON, and the response left open. */
  | { kind: 'gzip-bomb'; bytes: number }
  /** 200 `application/json` with a body that is not JSON. */
  | { kind: 'invalid-json'; body?: string }
  /** 200 with another content type: the healthy document, or an HTML page. */
  | { kind: 'content-type'; contentType: string; body: 'document' | 'html' }
  /** A redirect to `location`. */
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  /** An error status, optionally with `Retry-After`. */
  | { kind: 'status'; status: number; retryAfter?: string };

/** One endpoint: where it lives and what it answers when healthy. */
export interface EndpointSpec {
  /** Path, e.g. `/jwks`. */
  readonly path: string;
  /** The healthy JSON document; `fetch` counts this endpoint's requests from 1 (for flapping). */
  document(fetch: number, server: FaultyServer): unknown;
}

/** A running faulty server: its endpoints by name. */
export interface FaultyServer<Name extends string = string> {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `url` + the endpoint's path. */
  urlOf(endpoint: Name): string;
  /** Requests received per endpoint, and `total` over every path (faulty answers included). */
  readonly hits: Record<Name | 'total', number>;
  /** Bytes of response body written per endpoint by `huge-body` and `gzip-bomb` (what the client made us send). */
  readonly bodyBytesSent: Record<Name, number>;
  /**
   * Connections that carried a request and that the client has not hung up yet (we close our
   * side as soon as it does). Idle connections an HTTP client opens ahead of need are not counted.
   */
  readonly openConnections: number;
  /** Makes one endpoint misbehave (`refused` affects the whole server). */
  setFault(endpoint: Name, fault: ServerFault): Promise<void>;
  /** Ends every fault: healthy answers again, listening again on the same port after `refused`. */
  heal(): Promise<void>;
  /** Replaces an endpoint's healthy document. */
  setDocument(endpoint: Name, document: EndpointSpec['document']): void;
  /** Waits until `openConnections` is 0, or `timeoutMs` passes; resolves to the count left. */
  settled(timeoutMs?: number): Promise<number>;
  /** Closes the server, every socket and every timer. */
  close(): Promise<void>;
}

/** Starts a faulty server on 127.0.0.1, port 0. Close it in `afterEach`. */
export async function startFaultyServer<Name extends string>(endpoints: Record<Name, EndpointSpec>): Promise<FaultyServer<Name>> {
  const names = Object.keys(endpoints) as Name[];
  const documents = new Map<Name, EndpointSpec['document']>(names.map((name) => [name, endpoints[name].document]));
  const byPath = new Map<string, Name>(names.map((name) => [endpoints[name].path, name]));
  const faults = new Map<Name, ServerFault>();
  const fetches = new Map<Name, number>(names.map((name) => [name, 0]));
  const hits = Object.fromEntries([...names, 'total'].map((name) => [name, 0])) as Record<Name | 'total', number>;
  const bodyBytesSent = Object.fromEntries(names.map((name) => [name, 0])) as Record<Name, number>;
  const sockets = new Set<Socket>();
  const requestSockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let listening = false;

  const server: Server = createServer((req, res) => {
    hits.total += 1;
    requestSockets.add(req.socket);
    const name = byPath.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (name === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    hits[name] += 1;
    // Read (and discard) a request body, e.g. an introspection POST, before answering.
    req.resume();
    req.on('end', () => respond(name, req, res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    // A client that hangs up mid-answer must never crash the test process with EPIPE/ECONNRESET.
    socket.on('error', () => undefined);
    // A client that hangs up is gone: close our side too, so `openConnections` counts only
    // connections the client still holds (Node's server would keep a half-open socket).
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      requestSockets.delete(socket);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  function every(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    timers.add(timer);
    return timer;
  }

  function stop(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    timers.delete(timer);
  }

  function healthyBody(name: Name): Buffer {
    const count = (fetches.get(name) ?? 0) + 1;
    fetches.set(name, count);
    return Buffer.from(JSON.stringify(documents.get(name)!(count, api)));
  }

  function respond(name: Name, req: IncomingMessage, res: ServerResponse): void {
    const fault = faults.get(name);
    if (fault === undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(healthyBody(name));
      return;
    }
    const close = { connection: 'close' };
    switch (fault.kind) {
      case 'refused': // not reached: nothing listens
      case 'hang':
        return;
      case 'reset-mid-body': {
        const body = healthyBody(name);
        res.writeHead(200, { ...close, 'content-type': 'application/json', 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.resetAndDestroy());
        return;
      }
      case 'drip-body': {
        const body = healthyBody(name);
        res.writeHead(200, { ...close, 'content-type': 'application/json', 'content-length': body.length });
        let sent = 0;
        const timer = every(1000 / (fault.bytesPerSecond ?? 1), () => {
          if (res.destroyed || sent >= body.length) return void (stop(timer), res.destroyed || res.end());
          res.write(body.subarray(sent, (sent += 1)));
        });
        return;
      }
      case 'drip-headers': {
        // Bypass ServerResponse: the socket gets the raw HTTP head one byte at a time.
        const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nX-Pad: ${'p'.repeat(64)}\r\n\r\n`);
        const socket = req.socket;
        let sent = 0;
        const timer = every(1000 / (fault.bytesPerSecond ?? 1), () => {
          if (socket.destroyed || sent >= head.length) return void (stop(timer), socket.destroyed || socket.end());
          socket.write(head.subarray(sent, (sent += 1)));
        });
        return;
      }
      case 'informational-flood': {
        const timer = every(20, () => (res.destroyed ? stop(timer) : res.writeProcessing()));
        return;
      }
      case 'huge-headers':
        res.writeHead(200, { ...close, 'content-type': 'application/json', 'x-pad': 'h'.repeat(fault.bytes) }).end(healthyBody(name));
        return;
      case 'huge-body':
        return sendHuge(name, res, fault.bytes, fault.contentLength);
      case 'gzip-bomb':
        return sendGzipBomb(name, res, fault.bytes);
      case 'invalid-json':
        res.writeHead(200, { ...close, 'content-type': 'application/json' }).end(fault.body ?? '{"keys": [');
        return;
      case 'content-type':
        res.writeHead(200, { ...close, 'content-type': fault.contentType })
          .end(fault.body === 'document' ? healthyBody(name) : '<!doctype html><title>Sign in</title><p>Maintenance</p>');
        return;
      case 'redirect':
        res.writeHead(fault.status, { ...close, location: fault.location, 'content-type': 'application/json' }).end('{}');
        return;
      case 'status':
        res.writeHead(fault.status, { ...close, 'content-type': 'application/json', ...(fault.retryAfter !== undefined && { 'retry-after': fault.retryAfter }) })
          .end('{"error":"fault"}');
        return;
    }
  }

  /** Streams `{"pad":"xxx…"}` of exactly `bytes`, honouring backpressure, counting what was written. */
  function sendHuge(name: Name, res: ServerResponse, bytes: number, contentLength: boolean): void {
    const head = Buffer.from('{"keys":[],"pad":"');
    const tail = Buffer.from('"}');
    let padLeft = bytes - head.length - tail.length;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    res.writeHead(200, { connection: 'close', 'content-type': 'application/json', ...(contentLength && { 'content-length': bytes }) });
    const write = (piece: Buffer): boolean => {
      bodyBytesSent[name] += piece.length;
      return res.write(piece);
    };
    write(head);
    const pump = (): void => {
      while (padLeft > 0 && !res.destroyed) {
        const piece = padLeft >= chunk.length ? chunk : chunk.subarray(0, padLeft);
        padLeft -= piece.length;
        if (!write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) {
        bodyBytesSent[name] += tail.length;
        res.end(tail);
      }
    };
    pump();
  }

  /**
   * Like `sendHuge`, but gzip-compressed on the fly: a few dozen KiB on the wire, `bytes` once
   * inflated, and then no end of the response.
   */
  function sendGzipBomb(name: Name, res: ServerResponse, bytes: number): void {
    res.writeHead(200, { connection: 'close', 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const gzip = createGzip({ level: 1 });
    gzip.on('data', (compressed: Buffer) => {
      bodyBytesSent[name] += compressed.length;
      if (!res.write(compressed)) {
        gzip.pause();
        res.once('drain', () => gzip.resume());
      }
    });
    // No `res.end()` after the last byte: like a huge body, only the client hanging up (once the
    // inflated body passes its byte cap) closes the connection.
    gzip.on('error', () => res.destroy());
    res.on('close', () => gzip.destroy());
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let padLeft = bytes - 20;
    gzip.write('{"keys":[],"pad":"');
    const pump = (): void => {
      while (padLeft > 0 && !res.destroyed && !gzip.destroyed) {
        const piece = padLeft >= chunk.length ? chunk : chunk.subarray(0, padLeft);
        padLeft -= piece.length;
        if (!gzip.write(piece)) return void gzip.once('drain', pump);
      }
      if (!res.destroyed && !gzip.destroyed) gzip.end('"}');
    };
    pump();
  }

  function listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  }

  function stopListening(): Promise<void> {
    if (!listening) return Promise.resolve();
    listening = false;
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const api: FaultyServer<Name> = {
    url,
    urlOf: (endpoint) => url + endpoints[endpoint].path,
    hits,
    bodyBytesSent,
    get openConnections() {
      return requestSockets.size;
    },
    async setFault(endpoint, fault) {
      faults.set(endpoint, fault);
      if (fault.kind === 'refused') await stopListening();
    },
    async heal() {
      faults.clear();
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      if (!listening) await listen(port);
    },
    setDocument(endpoint, document) {
      documents.set(endpoint, document);
    },
    async settled(timeoutMs = 1_000) {
      // performance.now(), not Date: fault tests freeze Date to step through retry windows.
      const deadline = performance.now() + timeoutMs;
      while (requestSockets.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      return requestSockets.size;
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      await stopListening();
    },
  };
  return api;
}
