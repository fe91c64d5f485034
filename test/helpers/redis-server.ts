import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { createRedisStore, type RedisStoreOptions } from '../../lib/redis/index.js';
import type { SharedStore, StoreLogger } from '../../lib/store.js';

/** A node-redis client as the tests make it (quick reconnects, errors swallowed). */
export type TestRedisClient = ReturnType<typeof newClient>;

function newClient(url: string) {
  // Quick reconnects so that tests of a restart do not wait for node-redis's default backoff.
  return createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 1_000 } });
}

/**
 * A real `redis-server` on a free loopback port, persistence off, for one test file.
 * `stop()` kills it (a crash, as far as clients can tell); `start()` brings it back on the same
 * port, empty (a restart of a server without persistence: the data is gone too).
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Makes the server answer nothing for `ms` (SIGSTOP … SIGCONT): a slow or hung Redis. */
  pause(ms: number): Promise<void>;
  /** Connected clients made by `client()`/`store()`, closed by `close()`. */
  client(): Promise<TestRedisClient>;
  /** A store over a new client, with a recording logger unless one is given. */
  store(options?: Partial<Omit<RedisStoreOptions, 'client'>>): Promise<{ store: SharedStore; logger: RecordingLogger; client: TestRedisClient }>;
  close(): Promise<void>;
}

/** A logger that keeps its lines, for assertions. */
export interface RecordingLogger extends StoreLogger {
  readonly warnings: string[];
  readonly infos: string[];
}

export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m) => void warnings.push(m), info: (m) => void infos.push(m) };
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const clients = new Set<TestRedisClient>();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    const spawned = child;
    spawned.once('error', () => undefined);
    // Never outlive the test worker, even when a file dies before its afterAll.
    const reap = (): void => void spawned.kill('SIGKILL');
    process.once('exit', reap);
    spawned.once('exit', () => process.off('exit', reap));
    await waitForPort(port, () => spawned.exitCode !== null);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  const url = `redis://127.0.0.1:${port}`;

  async function client(): Promise<TestRedisClient> {
    const made = newClient(url);
    made.on('error', () => undefined);
    await made.connect();
    clients.add(made);
    return made;
  }

  return {
    port,
    url,
    start,
    stop,
    async pause(ms) {
      child?.kill('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, ms));
      child?.kill('SIGCONT');
    },
    client,
    async store(options = {}) {
      const made = await client();
      const logger = recordingLogger();
      return { store: createRedisStore({ client: made, logger, ...options }), logger, client: made };
    },
    async close() {
      for (const made of clients) made.destroy();
      clients.clear();
      await stop();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (died()) throw new Error('redis-server exited at start (is it installed? run scripts/ensure-redis-server.sh)');
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server did not listen on port ${port} within 10 s`);
}
