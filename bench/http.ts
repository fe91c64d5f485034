import autocannon from 'autocannon';
import { CONTENDERS, type Contender, type HttpContender } from './contenders.js';
import { startServer, type ServerProcess } from './server-pool.js';

export interface HttpPlan {
  readonly express: 4 | 5;
  readonly rounds: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  /** Identical processes per contender. */
  readonly processes: number;
  readonly connections: number;
  /** A subset of the contenders (for investigations); all of them by default. */
  readonly contenders?: readonly HttpContender[];
}

/** One autocannon run against one server process. */
export interface HttpSample {
  readonly express: 4 | 5;
  readonly contender: Contender;
  readonly instance: number;
  readonly round: number;
  readonly reqPerSec: number;
  /** Milliseconds (autocannon's histogram has 1 ms resolution). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (user + system) per request it served, in µs. */
  readonly cpuUsPerReq: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface Target {
  readonly jwksUri: string;
  readonly issuer: string;
  readonly audience: string;
}

type Log = (line: string) => void;

const STARTUP_BATCH = 4;
/** autocannon ends a run on its next sample tick (1 s by default): a short tick keeps durations exact. */
const SAMPLE_MS = 100;

/**
 * Runs every contender in `plan.processes` processes of their own, then `plan.rounds` interleaved
 * rounds (forward, backward, …) of autocannon with one reused token, 127.0.0.1 only.
 */
export async function runHttp(plan: HttpPlan, target: Target, token: string, log: Log): Promise<HttpSample[]> {
  const servers: ServerProcess[] = [];
  try {
    // Each contender's processes side by side: [a0, a1, b0, b1, …], the order of a round.
    const specs = (plan.contenders ?? CONTENDERS).flatMap((contender) =>
      Array.from({ length: plan.processes }, (_, instance) => ({ spec: { contender, express: plan.express, cooldownMs: undefined, ...target }, instance })));
    // Started a few at a time (start-up is CPU-bound), kept in that order.
    for (let i = 0; i < specs.length; i += STARTUP_BATCH) {
      const batch = specs.slice(i, i + STARTUP_BATCH);
      const started = await Promise.allSettled(batch.map(({ spec, instance }) => startServer(spec, instance)));
      for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    }
    const authorization = `Bearer ${token}`;
    for (const server of servers) {
      await checkAccepts(server, authorization);
      await autocannon({ url: `${server.url}/me`, connections: plan.connections, duration: plan.warmupSec, sampleInt: SAMPLE_MS, headers: { authorization } });
    }
    log(`  Express ${plan.express}: ${servers.length} server processes up and warm`);
    const samples: HttpSample[] = [];
    for (let round = 0; round < plan.rounds; round += 1) {
      for (const server of roundOrder(servers, round)) {
        samples.push(await measure(server, plan, round, authorization));
      }
      log(`  Express ${plan.express}: round ${round + 1}/${plan.rounds} done`);
    }
    return samples;
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

async function checkAccepts(server: ServerProcess, authorization: string): Promise<void> {
  const response = await fetch(`${server.url}/me`, { headers: { authorization } });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${server.spec.contender} refused the bench token: ${response.status} ${body}`);
}

/**
 * Contender order forward, then backward the next round: compared neighbours run back to back,
 * and over a pair of rounds a linear drift of the machine cancels out of their ratio.
 */
function roundOrder(servers: readonly ServerProcess[], round: number): ServerProcess[] {
  return round % 2 === 1 ? [...servers].reverse() : [...servers];
}

/** Run before each measured run, unmeasured: a server that sat idle while the others ran gets its caches back. */
const RERUN_WARMUP_SEC = 0.2;

async function measure(server: ServerProcess, plan: HttpPlan, round: number, authorization: string): Promise<HttpSample> {
  await autocannon({ url: `${server.url}/me`, connections: plan.connections, duration: RERUN_WARMUP_SEC, sampleInt: SAMPLE_MS, headers: { authorization } });
  await server.cpuStart();
  const result = await autocannon({ url: `${server.url}/me`, connections: plan.connections, duration: plan.durationSec, sampleInt: SAMPLE_MS, headers: { authorization } });
  const { cpuUs, requests } = await server.cpuStop();
  return {
    express: plan.express,
    contender: server.spec.contender,
    instance: server.instance,
    round,
    reqPerSec: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    cpuUsPerReq: cpuUs / Math.max(1, requests),
    requests,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
