import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage, ServerSpec } from './server.js';

/** A contender's server process, seen from the bench. */
export interface ServerProcess {
  readonly spec: ServerSpec;
  /** Which of the identical processes of this contender (0, 1, …). */
  readonly instance: number;
  readonly url: string;
  readonly pid: number;
  /** Starts counting CPU time and requests inside the server. */
  cpuStart(): Promise<void>;
  /** CPU µs (user + system) and requests served since `cpuStart`. */
  cpuStop(): Promise<{ cpuUs: number; requests: number }>;
  close(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 10_000;
const live = new Set<ChildProcess>();

/** Starts `bench/server.ts` for one contender; resolves once it listens on 127.0.0.1. */
export async function startServer(spec: ServerSpec, instance = 0): Promise<ServerProcess> {
  const child = fork(join(__dirname, 'server.ts'), [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'bench' },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));

  function next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${spec.contender}: no "${type}" from the server within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (message: ChildMessage): void => {
        if (message.type === type) done(undefined, message as Extract<ChildMessage, { type: T }>);
        else if (message.type === 'failed') done(new Error(`${spec.contender}: server failed: ${message.message}`));
      };
      const onExit = (code: number | null): void => done(new Error(`${spec.contender}: server exited (${code}) before "${type}"`));
      function done(err: Error | undefined, message?: Extract<ChildMessage, { type: T }>): void {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(message!);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  const tell = (message: ParentMessage): void => {
    child.send(message);
  };

  const { port } = await next('ready', STARTUP_TIMEOUT_MS).catch((err: unknown) => {
    child.kill();
    throw err;
  });
  return {
    spec,
    instance,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async cpuStart() {
      const reply = next('cpu-started', REPLY_TIMEOUT_MS);
      tell({ type: 'cpu-start' });
      await reply;
    },
    async cpuStop() {
      const reply = next('cpu-stopped', REPLY_TIMEOUT_MS);
      tell({ type: 'cpu-stop' });
      const { cpuUs, requests } = await reply;
      return { cpuUs, requests };
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        tell({ type: 'close' });
      });
    },
  };
}

/** Kills every server process this bench started and has not closed (on error or interrupt). */
export function killAllServers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
