/**
 * One contender behind Express, in its own process (started by server-pool.ts with IPC, or by
 * hand: `node --import tsx bench/server.ts '{"contender":"bearer-guard","express":5,…}'`).
 * It measures its own CPU time with process.cpuUsage() between `cpu-start` and `cpu-stop`:
 * on a shared machine that is steadier than any figure seen from the client.
 */
import type { AddressInfo } from 'node:net';
import type { ErrorRequestHandler, Express } from 'express';
import express5 from 'express';
import express4 from 'express4';
import { createContender, type Contender, type ContenderConfig } from './contenders.js';

export interface ServerSpec extends ContenderConfig {
  readonly contender: Contender;
  readonly express: 4 | 5;
  /** Fixed port (started by hand); 0 or absent: any free port. */
  readonly port?: number;
}

export type ParentMessage = { type: 'cpu-start' } | { type: 'cpu-stop' } | { type: 'close' };
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'cpu-started' }
  | { type: 'cpu-stopped'; cpuUs: number; requests: number }
  | { type: 'failed'; message: string };

/** Same answer for every contender: status and `WWW-Authenticate` from the error, a short JSON body. */
const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
  if (err?.headers !== undefined && typeof err.headers === 'object') res.set(err.headers as Record<string, string>);
  res.status(status).json({ error: typeof err?.code === 'string' ? err.code : 'error' });
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
  const makeApp = (spec.express === 4 ? express4 : express5) as unknown as () => Express;
  const app = makeApp();
  app.set('env', 'test'); // no stack traces on stderr for the 401s of the edge scenarios
  const { guards, subject } = await createContender(spec.contender, spec);
  app.get('/me', ...guards, (req, res) => {
    res.json({ sub: subject(req) });
  });
  app.use(errorHandler);

  let requests = 0;
  let cpuAtStart = process.cpuUsage();
  const server = app.listen({ host: '127.0.0.1', port: spec.port ?? 0, backlog: 4096 }, () => {
    const { port } = server.address() as AddressInfo;
    if (process.send) send({ type: 'ready', port });
    else process.stdout.write(`listening on http://127.0.0.1:${port}\n`); // started by hand, e.g. under --cpu-prof
  });
  server.keepAliveTimeout = 60_000;
  server.on('request', () => {
    requests += 1;
  });

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'cpu-start') {
      requests = 0;
      cpuAtStart = process.cpuUsage();
      send({ type: 'cpu-started' });
    } else if (message.type === 'cpu-stop') {
      const { user, system } = process.cpuUsage(cpuAtStart);
      send({ type: 'cpu-stopped', cpuUs: user + system, requests });
    } else if (message.type === 'close') {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
  // The parent going away ends this process too: nothing outlives the bench.
  process.on('disconnect', () => process.exit(0));
  // A normal exit on a signal, so that `--cpu-prof` writes its profile.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
