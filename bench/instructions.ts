/**
 * Server instructions per request, counted by valgrind's callgrind: the steady counterpart of the
 * HTTP stage's `process.cpuUsage()` figures. An instruction count does not depend on what else the
 * machine runs: repeated counts of one server agreed within 3 % over five runs here (0.5 % within a run), where
 * its CPU time per request moved by up to 20 % within one run.
 *
 * Each contender's bench/server.ts runs under callgrind in a process of its own, with V8's
 * `--single-threaded` (compiler and GC work on the main thread, whatever valgrind's scheduling).
 * It serves `warmupRequests` with instrumentation off (in runs of 1 000 on new connections, so the
 * connection code warms up too), then `measuredRequests` are counted. The count is split by
 * function name into V8's garbage collector, its optimizing compiler, and the rest ("work"): the
 * request path itself, which the ratios compare. Garbage collection is left out of them because a
 * mark-compact comes every few thousand requests here (Express promotes most of what a request
 * allocates), so whether one falls inside a window of 1 000 decides a quarter of that window's
 * count; the compiler is left out because what it still does is warm-up. Both are shown.
 *
 * Run by run.ts, or by hand: `npx tsx bench/instructions.ts [--contenders a,b] [--measured 1000]`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { HttpContender } from './contenders.js';
import type { ServerSpec } from './server.js';
import type { Target } from './http.js';

export interface InstructionPlan {
  readonly contenders: readonly HttpContender[];
  /** Requests served before counting, instrumentation off (V8 compiles the request path meanwhile). */
  readonly warmupRequests: number;
  readonly measuredRequests: number;
  readonly connections: number;
  /** Servers counted at once (the counts do not depend on it; the wall time does). */
  readonly parallel: number;
}

export interface InstructionCount {
  readonly contender: HttpContender;
  /** Every instruction of the server process during the measured requests, per request. */
  readonly total: number;
  /** Of which V8's garbage collector (scavenges, marking, sweeping, allocation slow paths). */
  readonly gc: number;
  /** Of which V8's optimizing compilers (TurboFan, Maglev): warm-up left over. */
  readonly compiler: number;
  /** The rest: the request path (Node's HTTP, Express, the contender, crypto). What ratios compare. */
  readonly work: number;
  readonly non2xx: number;
}

export type InstructionResult =
  | { readonly counts: readonly InstructionCount[]; readonly plan: InstructionPlan; readonly skipped?: undefined }
  | { readonly skipped: string; readonly plan: InstructionPlan };

const STARTUP_TIMEOUT_MS = 120_000;
/** Requests with instrumentation on before the count is zeroed: valgrind re-translates the hot code. */
const RETRANSLATE_REQUESTS = 300;
const WARMUP_RUN = 1000;
/** V8's optimizing compilers, by callgrind's function names. */
const COMPILER_SYMBOL = /v8::internal::(compiler|maglev)::/;
/** V8's garbage collector, by callgrind's function names (its visitors, spaces and collectors). */
const GC_SYMBOL = /v8::internal::(Heap::|\w*(Scaveng|Marking|MarkCompact|Sweep|Evacuat|FreeList|MemoryChunk|RememberedSet|SlotSet|GCTracer|Unmapper)|\w*Space(Base)?::)|Visitor|heap::base::|cppgc::/;

/** Counts every contender of `plan`, `plan.parallel` at a time; skipped (never guessed) without valgrind. */
export async function runInstructionCounts(plan: InstructionPlan, target: Target, token: string, log: (line: string) => void): Promise<InstructionResult> {
  const missing = missingTool();
  if (missing !== undefined) return { skipped: missing, plan };
  const counts: InstructionCount[] = [];
  const queue = [...plan.contenders];
  async function worker(): Promise<void> {
    for (let contender = queue.shift(); contender !== undefined; contender = queue.shift()) {
      const count = await countOne(contender, plan, target, token);
      log(`  ${contender}: ${Math.round(count.total).toLocaleString('en-US')} instructions per request (${Math.round(count.work).toLocaleString('en-US')} outside GC and compiler)`);
      counts.push(count);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, plan.parallel) }, worker));
  // The order of the plan, whatever finished first.
  counts.sort((a, b) => plan.contenders.indexOf(a.contender) - plan.contenders.indexOf(b.contender));
  return { counts, plan };
}

function missingTool(): string | undefined {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) {
    // Only whether it runs at all: callgrind_annotate --version exits with 255.
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined) return `${tool} is not installed (Debian package valgrind)`;
  }
  return undefined;
}

async function countOne(contender: HttpContender, plan: InstructionPlan, target: Target, token: string): Promise<InstructionCount> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  const outFile = join(dir, 'callgrind.out');
  const spec: ServerSpec = { contender, express: 5, cooldownMs: undefined, ...target };
  const child = spawn('valgrind', [
    '--tool=callgrind', '--smc-check=all', '--instr-atstart=no', `--callgrind-out-file=${outFile}`,
    process.execPath, '--single-threaded', '--import', 'tsx', join(__dirname, 'server.ts'), JSON.stringify(spec),
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'bench' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    const url = await listeningUrl(child, () => stderr);
    const control = (command: string): void => {
      execFileSync('callgrind_control', [command, String(child.pid)], { stdio: 'ignore' });
    };
    const load = (amount: number) => autocannon({ url: `${url}/me`, connections: plan.connections, amount, headers: { authorization: `Bearer ${token}` } });
    // In runs of 1 000 requests, each on new connections: the connection set-up and tear-down code
    // gets as warm as the request path (one long run compiled them only while counting).
    for (let served = 0; served < plan.warmupRequests; served += WARMUP_RUN) await load(Math.min(WARMUP_RUN, plan.warmupRequests - served));
    control('--instr=on');
    await load(RETRANSLATE_REQUESTS);
    control('--zero');
    const measured = await load(plan.measuredRequests);
    control('--dump');
    const dumped = readdirSync(dir).find((name) => name.startsWith('callgrind.out.'));
    if (dumped === undefined) throw new Error(`${contender}: callgrind wrote no dump`);
    const parts = readDump(join(dir, dumped));
    const per = (instructions: number): number => instructions / plan.measuredRequests;
    return {
      contender,
      total: per(parts.total),
      gc: per(parts.gc),
      compiler: per(parts.compiler),
      work: per(parts.total - parts.gc - parts.compiler),
      non2xx: measured.non2xx + measured.errors,
    };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function listeningUrl(child: ReturnType<typeof spawn>, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server under valgrind did not listen within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`)), STARTUP_TIMEOUT_MS);
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (\S+)/.exec(seen);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server under valgrind exited (${code}): ${stderr()}`));
    });
  });
}

/** The dump's total instructions, and those of V8's collector and compilers (by function, from callgrind_annotate). */
function readDump(file: string): { total: number; gc: number; compiler: number } {
  const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (summary === null) throw new Error(`no instruction total in ${file}`);
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', file], { maxBuffer: 64 * 1024 * 1024 }).toString();
  return { total: Number(summary[1]), ...splitAnnotated(annotated) };
}

/** Whose instructions a function's are: V8's garbage collector, its optimizing compilers, or the program's work. */
export function instructionKind(symbol: string): 'gc' | 'compiler' | 'work' {
  if (COMPILER_SYMBOL.test(symbol)) return 'compiler';
  return GC_SYMBOL.test(symbol) ? 'gc' : 'work';
}

/** The collector's and the compilers' instructions in callgrind_annotate's per-function listing. */
export function splitAnnotated(annotated: string): { gc: number; compiler: number } {
  const sums = { gc: 0, compiler: 0, work: 0 };
  for (const line of annotated.split('\n')) {
    const row = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (row === null || row[2]!.includes('PROGRAM TOTALS')) continue;
    sums[instructionKind(row[2]!)] += Number(row[1]!.replaceAll(',', ''));
  }
  return { gc: sums.gc, compiler: sums.compiler };
}

/** Ratios of the instruction counts, in the terms of the HTTP targets. */
export interface InstructionSummary {
  /** `work` above the unprotected server's: what the auth layer costs per request. */
  added(contender: HttpContender): number;
  /** a's added work ÷ b's. */
  addedRatio(a: HttpContender, b: HttpContender): number;
  /** b's work ÷ a's: the req/s ratio a CPU-bound server would show at equal instructions per cycle. */
  throughputRatio(a: HttpContender, b: HttpContender): number;
}

export function summarizeInstructions(counts: readonly InstructionCount[]): InstructionSummary {
  const work = (contender: HttpContender): number => counts.find((count) => count.contender === contender)?.work ?? Number.NaN;
  const added = (contender: HttpContender): number => work(contender) - work('unprotected');
  return {
    added,
    addedRatio: (a, b) => added(a) / added(b),
    throughputRatio: (a, b) => work(b) / work(a),
  };
}

async function main(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { startIdpServer } = await import('../test/helpers/idp-server.js');
  const { AUDIENCE, ISSUER, makeSigningKey, mintToken } = await import('./fixture.js');
  const { values } = parseArgs({
    options: {
      contenders: { type: 'string', default: 'unprotected,jsonwebtoken-floor,bearer-guard-nocache' },
      measured: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '7000' },
      connections: { type: 'string', default: '20' },
    },
  });
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  try {
    const plan: InstructionPlan = {
      contenders: values.contenders.split(',') as HttpContender[],
      warmupRequests: Number(values.warmup),
      measuredRequests: Number(values.measured),
      connections: Number(values.connections),
      parallel: 2,
    };
    const result = await runInstructionCounts(plan, { issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri }, mintToken(key), (line) => process.stderr.write(`${line}\n`));
    if (result.skipped !== undefined) throw new Error(result.skipped);
    for (const count of result.counts) {
      process.stdout.write(`${count.contender}\ttotal ${Math.round(count.total)}\twork ${Math.round(count.work)}\tgc ${Math.round(count.gc)}\tcompiler ${Math.round(count.compiler)}\tnon-2xx ${count.non2xx}\n`);
    }
  } finally {
    await idp.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
