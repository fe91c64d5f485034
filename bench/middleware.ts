/**
 * The auth middleware alone, in one process, as Express calls it: a request object as Node and
 * Express build it, `next()` awaited. Cases alternate sample by sample (like micro.ts), so this
 * is what each contender adds per request, free of the HTTP stack and of most machine noise.
 * Run by run.ts over IPC, or by hand: `node --import tsx --expose-gc bench/middleware.ts '{"rounds":20,"samples":300}'`.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import express, { type RequestHandler } from 'express';
import { startIdpServer } from '../test/helpers/idp-server.js';
import { CONTENDERS, createContender, type HttpContender } from './contenders.js';
import { AUDIENCE, ISSUER, makeSigningKey, mintToken } from './fixture.js';
import { median } from './stats.js';

export interface MiddlewarePlan {
  readonly rounds: number;
  readonly samples: number;
  /** A subset of the contenders (for investigations); all of them by default. */
  readonly contenders?: readonly HttpContender[];
}

export interface MiddlewareResult {
  /** Median µs per call per round, by contender (those whose middleware runs outside Express). */
  readonly usPerCall: Partial<Record<HttpContender, number[]>>;
  /** Bytes allocated on the JavaScript heap per call, by contender (what drives garbage collection). */
  readonly bytesPerCall: Partial<Record<HttpContender, number>>;
  /** Contenders left out, with why. */
  readonly skipped: Partial<Record<HttpContender, string>>;
  readonly plan: MiddlewarePlan;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '{}') as MiddlewarePlan;
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  try {
    const token = mintToken(key);
    const config = { issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri, cooldownMs: undefined };
    const handlers = new Map<HttpContender, RequestHandler[]>();
    const skipped: MiddlewareResult['skipped'] = {};
    for (const contender of plan.contenders ?? CONTENDERS) {
      const { guards } = await createContender(contender, config);
      try {
        await call(guards, token); // also loads the key set
        handlers.set(contender, guards);
      } catch (err) {
        skipped[contender] = err instanceof Error ? err.message : String(err);
      }
    }
    const names = [...handlers.keys()];
    for (const name of names) for (let i = 0; i < 3000; i += 1) await call(handlers.get(name)!, token);
    const usPerCall: MiddlewareResult['usPerCall'] = Object.fromEntries(names.map((name) => [name, [] as number[]]));
    for (let round = 0; round < plan.rounds; round += 1) {
      (globalThis as { gc?: () => void }).gc?.();
      const times = new Map(names.map((name) => [name, [] as number[]]));
      for (let s = 0; s < plan.samples; s += 1) {
        for (const name of s % 2 === 0 ? names : [...names].reverse()) {
          const start = performance.now();
          await call(handlers.get(name)!, token);
          times.get(name)!.push((performance.now() - start) * 1000);
        }
      }
      for (const name of names) usPerCall[name]!.push(median(times.get(name)!));
    }
    const bytesPerCall: MiddlewareResult['bytesPerCall'] = {};
    for (const name of names) bytesPerCall[name] = await allocatedPerCall(handlers.get(name)!, token);
    const result: MiddlewareResult = { usPerCall, bytesPerCall, skipped, plan };
    if (process.send) process.send(result);
    else process.stdout.write(`${JSON.stringify({ us: Object.fromEntries(names.map((n) => [n, median(usPerCall[n]!)])), bytesPerCall, skipped }, null, 1)}\n`);
  } finally {
    await idp.close();
  }
}

/**
 * One request through a middleware chain: a real `IncomingMessage` with the headers Node would
 * parse (a fresh header string each time, as off the wire) and what Express adds; resolves at `next()`.
 */
const app = express();
const socket = new Socket();

function call(guards: readonly RequestHandler[], token: string): Promise<void> {
  const req = new IncomingMessage(socket);
  Object.setPrototypeOf(req, app.request); // req.get, req.is, … as Express 5 gives them
  const authorization = `Bearer ${token}`.slice(0); // a new string, so no hash is cached on it
  req.method = 'GET';
  req.url = '/me';
  req.headers = { host: '127.0.0.1', authorization };
  req.rawHeaders = ['Host', '127.0.0.1', 'Authorization', authorization];
  Object.assign(req, { originalUrl: '/me' }); // `req.query` is Express 5's getter over the URL
  return new Promise((resolve, reject) => {
    let index = 0;
    const next = (err?: unknown): void => {
      if (err !== undefined && err !== null) return reject(err instanceof Error ? err : new Error(String(err)));
      const guard = guards[index++];
      if (guard === undefined) return resolve();
      guard(req as never, {} as never, next);
    };
    next();
  });
}

/**
 * Heap bytes allocated per call: the median growth of the heap over short batches of warm calls.
 * Few batches see a scavenge (it would shrink the growth) or a compilation (it would add to it), so
 * the median is the allocation of the calls themselves. (No gc() first: it drops optimized code,
 * and unoptimized code allocates more.)
 */
async function allocatedPerCall(guards: readonly RequestHandler[], token: string): Promise<number> {
  const batch = 40;
  const grown: number[] = [];
  for (let attempt = 0; attempt < 21; attempt += 1) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < batch; i += 1) await call(guards, token);
    grown.push((process.memoryUsage().heapUsed - before) / batch);
  }
  return median(grown);
}

/** Per contender: the median over rounds of µs per call; and ratios of the per-round values. */
export function summarizeMiddleware(result: MiddlewareResult): { us: Partial<Record<HttpContender, number>>; ratio(a: HttpContender, b: HttpContender): number } {
  const us = Object.fromEntries(Object.entries(result.usPerCall).map(([name, values]) => [name, median(values)])) as Partial<Record<HttpContender, number>>;
  return {
    us,
    ratio: (a, b) => {
      const top = result.usPerCall[a];
      const bottom = result.usPerCall[b];
      return top === undefined || bottom === undefined ? Number.NaN : median(top.map((value, i) => value / bottom[i]!));
    },
  };
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
