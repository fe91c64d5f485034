import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Schedule } from './test-faults.js';

/** A request as a test endpoint sees it: the body already read (at most 64 KiB). */
export interface TestRequest {
  readonly method: string;
  /** The request target as received: path and query. */
  readonly target: string;
  /** The path without the query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; `schedule` runs later work on timers that `close()` clears. */
export type TestRequestHandler = (request: TestRequest, res: ServerResponse, schedule: Schedule) => void;

/** A loopback HTTP server that owns every socket and timer it creates. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /**
   * Stops listening, clears pending timers and destroys every connection, hanging ones included.
   * Resolves once the server is closed; later calls resolve at once.
   */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * libuv releases a closed handle in the "close callbacks" phase of the event loop, after the
 * `close` events fired: two `setImmediate` hops pass one such phase whatever phase we are in,
 * so that `process.getActiveResourcesInfo()` and Jest's `--detectOpenHandles` see nothing left.
 */
function afterCloseCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Starts an HTTP server on 127.0.0.1, on a free port. Nothing is `unref()`ed: the server keeps
 * the process alive until `close()`, which leaves no socket, server or timer behind.
 */
export async function startTestServer(handle: TestRequestHandler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing: Promise<void> | undefined;

  const schedule: Schedule = (ms, fn, repeat = false) => {
    const timer: NodeJS.Timeout = repeat
      ? setInterval(fn, ms)
      : setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
    timers.add(timer);
    return () => {
      clearTimeout(timer);
      timers.delete(timer);
    };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request' }));
        return;
      }
      const target = req.url ?? '/';
      const path = new URL(target, 'http://127.0.0.1').pathname;
      handle({ method: req.method ?? 'GET', target, path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, res, schedule);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return Object.freeze({
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        // Resolve only once the listening handle and every socket have really closed.
        const socketsClosed = [...sockets].map((socket) => new Promise((done) => socket.once('close', done)));
        const serverClosed = new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        Promise.all([serverClosed, ...socketsClosed]).then(afterCloseCallbacks).then(resolve, reject);
      });
      return closing;
    },
  });
}
