/**
 * `npm run bench` / `npm run bench:quick`: micro, HTTP (Express 5 and 4) and edge scenarios
 * against the built package, everything on 127.0.0.1, bounded in time, then the report.
 *
 *   tsx bench/run.ts [--quick] [--out FILE] [--no-write]
 *
 * The full run writes bench/RESULTS.md; `--quick` only prints unless `--out` is given.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startIdpServer } from '../test/helpers/idp-server.js';
import { JWKS_CONTENDERS } from './contenders.js';
import { runEdges, type EdgePlan } from './edges.js';
import { AUDIENCE, ISSUER, makeSigningKey, mintToken } from './fixture.js';
import { runHttp, type HttpPlan, type HttpSample } from './http.js';
import { runInstructionCounts, type InstructionPlan, type InstructionResult } from './instructions.js';
import type { MicroPlan, MicroResult } from './micro.js';
import type { MiddlewarePlan, MiddlewareResult } from './middleware.js';
import type { HttpContender } from './contenders.js';
import { evaluateTargets, renderReport, summarizeHttp, tallyTargets, type RunInfo } from './report.js';
import { killAllServers } from './server-pool.js';

const ROOT = join(__dirname, '..');

interface Plan {
  readonly micro: MicroPlan;
  /** In-process middleware groups, each in a process of its own (supplementary figures). */
  readonly middleware: readonly MiddlewarePlan[];
  readonly http: readonly HttpPlan[];
  /** Server instructions per request under callgrind (the steady figures); left out of the quick run. */
  readonly instructions: InstructionPlan | undefined;
  readonly edges: EdgePlan;
  /** Revocation propagation trials of the fleet figures (bench/fleet.ts). */
  readonly fleetTrials: number;
}

/** The in-process groups: the hit path against fast-jwt's, the miss path against the floor and ceiling. */
const HIT_GROUP: readonly HttpContender[] = ['unprotected', 'bearer-guard', 'fast-jwt-cached'];
const MISS_GROUP: readonly HttpContender[] = ['unprotected', 'bearer-guard-nocache', 'jsonwebtoken-floor', 'crypto-verify-ceiling'];

const PLANS: Record<'full' | 'quick', Plan> = {
  full: {
    micro: { rounds: 100, samples: 500, distinctTokens: 2000, fullCacheEntries: 10_000 },
    middleware: [
      { rounds: 30, samples: 300, contenders: HIT_GROUP },
      { rounds: 30, samples: 300, contenders: MISS_GROUP },
    ],
    // Many short rounds rather than a few long ones: this machine's load changes within seconds,
    // and compared neighbours measured closer together share more of it (8 × 1.5 s runs gave
    // per-round ratios from 0.69 to 1.11 for one pair; their median moved with it).
    http: [
      { express: 5, rounds: 16, durationSec: 0.75, warmupSec: 1, processes: 2, connections: 20 },
      // Express 4 is shown, not judged: fewer rounds keep the full run under 10 minutes.
      { express: 4, rounds: 4, durationSec: 0.75, warmupSec: 1, processes: 1, connections: 20 },
    ],
    // The contenders of the HTTP targets that compare like with like (see evaluateTargets in
    // report.ts); ~50 s each under valgrind, two at a time.
    instructions: {
      contenders: ['unprotected', 'bearer-guard', 'fast-jwt-cached', 'bearer-guard-nocache', 'jsonwebtoken-floor'],
      warmupRequests: 5000,
      measuredRequests: 1000,
      connections: 20,
      parallel: 2,
    },
    edges: { contenders: JWKS_CONTENDERS, cooldownMs: undefined, floodRequests: 1000, stampedeRequests: 500, opaqueRequests: 1000, pollMs: 200, pollGraceMs: 10_000 },
    fleetTrials: 200,
  },
  quick: {
    micro: { rounds: 12, samples: 250, distinctTokens: 300, fullCacheEntries: 10_000 },
    middleware: [
      { rounds: 6, samples: 150, contenders: HIT_GROUP },
      { rounds: 6, samples: 150, contenders: MISS_GROUP },
    ],
    http: [
      { express: 5, rounds: 2, durationSec: 1, warmupSec: 0.5, processes: 1, connections: 20 },
      { express: 4, rounds: 1, durationSec: 1, warmupSec: 0.5, processes: 1, connections: 20 },
    ],
    instructions: undefined,
    edges: { contenders: ['bearer-guard'], cooldownMs: 5_000, floodRequests: 1000, stampedeRequests: 500, opaqueRequests: 1000, pollMs: 200, pollGraceMs: 3_000 },
    fleetTrials: 50,
  },
};

const benchStart = performance.now();

/** Progress on stderr, with the seconds since the bench began (the full run must stay under 10 min). */
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - benchStart) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, 'no-write': { type: 'boolean', default: false } } });
  const mode = values.quick ? 'quick' : 'full';
  const plan = PLANS[mode];
  const startedAt = new Date();
  const t0 = performance.now();
  checkBuilt();

  log(`bench (${mode}): micro`);
  const micro = await runChild<MicroResult>('micro.ts', plan.micro);
  log(`bench (${mode}): middleware in-process`);
  const middleware: MiddlewareResult[] = [];
  for (const group of plan.middleware) middleware.push(await runChild<MiddlewareResult>('middleware.ts', group));

  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  const samples: HttpSample[] = [];
  let instructions: InstructionResult | undefined;
  try {
    const token = mintToken(key);
    const target = { jwksUri: idp.jwksUri, issuer: ISSUER, audience: AUDIENCE };
    for (const httpPlan of plan.http) {
      log(`bench (${mode}): HTTP, Express ${httpPlan.express}`);
      samples.push(...(await runHttp(httpPlan, target, token, log)));
    }
    if (plan.instructions !== undefined) {
      log(`bench (${mode}): server instructions per request (callgrind)`);
      instructions = await runInstructionCounts(plan.instructions, target, token, log);
      if (instructions.skipped !== undefined) log(`  skipped: ${instructions.skipped}`);
    }
  } finally {
    await idp.close();
  }

  log(`bench (${mode}): edges`);
  const edges = await runEdges(plan.edges, log);
  log(`bench (${mode}): fleet (redis-server)`);
  const fleet = runFleet(plan.fleetTrials);

  const info: RunInfo = {
    startedAt,
    elapsedSec: (performance.now() - t0) / 1000,
    command: mode === 'quick' ? 'npm run bench:quick' : 'npm run bench',
    mode,
    machine: machine(),
    versions: versions(),
    micro: plan.micro,
    middleware: plan.middleware,
    http: plan.http,
    instructions: plan.instructions,
  };
  const report = `${renderReport(info, samples, micro, middleware, edges, instructions).trimEnd()}\n\n${fleet}\n`;
  const out = values.out ?? (mode === 'full' && !values['no-write'] ? join(ROOT, 'bench', 'RESULTS.md') : undefined);
  if (out !== undefined) {
    writeFileSync(out, report);
    log(`bench: wrote ${relative(process.cwd(), out)}`);
  }
  process.stdout.write(`${report}\n`);
  const targets = evaluateTargets(summarizeHttp(5, samples), micro, edges, middleware, instructions);
  const { met, steadyMet, judged } = tallyTargets(targets);
  log(`bench (${mode}): ${met}/${judged} targets met (wall clock), ${steadyMet}/${judged} with instruction counts, in ${info.elapsedSec.toFixed(0)} s`);
}

/**
 * The fleet figures (bench/fleet.ts: 3 instances sharing a real redis-server) as a report section.
 * Without redis-server on this machine the section says how to get it instead of a figure.
 */
function runFleet(trials: number): string {
  const heading = '## Fleet (Redis)\n\nThree API instances that share nothing but a redis-server on 127.0.0.1, each with its own client, store, revocation list and HTTP server, against a counting introspection endpoint (`bench/fleet.ts`).\n';
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return `${heading}\nNot measured: \`redis-server\` is not installed (\`bash scripts/ensure-redis-server.sh\` installs it).`;
  }
  const rows = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fleet.ts'), '--requests', '1000', '--trials', String(trials)], { cwd: ROOT, encoding: 'utf8' });
  return `${heading}\n| figure | value |\n|---|---|\n${rows.trim()}`;
}

/** The bench measures the package as users get it: dist/ must be built (npm run bench builds first). */
function checkBuilt(): void {
  try {
    readFileSync(join(ROOT, 'dist', 'index.mjs'));
  } catch {
    throw new Error('bench: dist/ is missing; run `npm run build` first (npm run bench does)');
  }
}

/** Runs a single-threaded part (micro.ts, middleware.ts) in a process of its own; its result comes over IPC. */
function runChild<Result>(file: string, childPlan: unknown): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, file), [JSON.stringify(childPlan)], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Result | undefined;
    child.on('message', (message: Result) => {
      result = message;
    });
    child.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`bench: ${file} exited with ${code} and no result`))));
  });
}

function machine(): [string, string][] {
  const cpu = cpus();
  return [
    ['CPU', `${cpu[0]?.model ?? 'unknown'} × ${cpu.length} (shared)`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(0)} GiB`],
    ['OS', `${type()} ${release()}`],
    ['load average at the end (1/5/15 min)', loadavg().map((value) => value.toFixed(2)).join(' / ')],
    ['Node.js', process.version],
  ];
}

function versions(): [string, string][] {
  const version = (dir: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', dir, 'package.json'), 'utf8')) as { version: string }).version;
  const own = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return [
    ['bearer-guard', `${own} (dist/ built from ${gitRevision()})`],
    ['express (5) / express4', `${version('express')} / ${version('express4')}`],
    ['jsonwebtoken', version('jsonwebtoken')],
    ['jwks-rsa', version('jwks-rsa')],
    ['express-jwt', version('express-jwt')],
    ['express-oauth2-jwt-bearer (its jose)', `${version('express-oauth2-jwt-bearer')} (${version('express-oauth2-jwt-bearer/node_modules/jose')})`],
    ['fast-jwt', version('fast-jwt')],
    ['autocannon', version('autocannon')],
  ];
}

/** Read-only git: the commit, and whether the work tree differed from it. */
function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted lib/ changes` : head;
  } catch {
    return 'no git checkout';
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllServers();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    killAllServers();
    console.error(err);
    process.exit(1);
  },
);
