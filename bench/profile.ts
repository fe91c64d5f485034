/**
 * Where the time of one verification goes: runs bench/profile-child.mjs (the built package, a
 * bounded loop) under `node --cpu-prof`, then reads the profile and prints the top self-time
 * functions, the share of each party, and what is spent inside `jsonwebtoken.verify` vs ours.
 *
 *   tsx bench/profile.ts [--case miss|hit] [--seconds 8] [--top 25] [--keep]
 *   tsx bench/profile.ts --http bearer-guard [--express 4|5] [--seconds 8]
 *   tsx bench/profile.ts --file some.cpuprofile    (summarise a profile written elsewhere)
 *
 * `miss`: `createVerifier({ tokenCache: false }).verify()` over distinct tokens (the miss path);
 * `hit`: one reused token with the cache on. `--http NAME`: that contender's bench server under
 * autocannon (20 connections, one reused token). Not part of `npm run bench`; a tool for causes.
 */
import { fork, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startIdpServer } from '../test/helpers/idp-server.js';
import { AUDIENCE, ISSUER, makeSigningKey, mintToken, mintTokens } from './fixture.js';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'miss' },
    seconds: { type: 'string', default: '8' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
    http: { type: 'string' },
    file: { type: 'string' },
    express: { type: 'string', default: '5' },
  },
});

function party(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return 'other (V8, idle)';
  if (/node_modules\/(jsonwebtoken|jws|jwa|ecdsa-sig-formatter|safe-buffer|semver|lodash\.[a-z]+|ms|buffer-equal-constant-time)\//.test(url)) return 'jsonwebtoken (+ jws, jwa, lodash.*, semver)';
  if (!url.includes('/node_modules/') && /\/dist\/(internal\/)?[^/]+\.m?js$/.test(url)) return 'bearer-guard (dist/)';
  if (url.startsWith('node:internal/crypto')) return 'node:crypto (RSA, hashing)';
  if (url.startsWith('node:')) return 'Node.js internals';
  if (url.includes('/bench/') || url.includes('/test/helpers/')) return 'bench harness';
  if (/node_modules\/(express4?|router|body-parser|finalhandler|send|serve-static|on-finished|parseurl|qs|debug|depd|http-errors|type-is|mime-types|content-type|accepts|negotiator|etag|fresh|vary|cookie|statuses|encodeurl|escape-html|path-to-regexp|setprototypeof|utils-merge|merge-descriptors|methods|proxy-addr|forwarded|range-parser|safe-buffer|content-disposition|ee-first|unpipe|array-flatten|is-promise)\//.test(url)) return 'Express and its dependencies';
  if (url === '') return 'V8 builtins / natives';
  return 'other';
}

function summarize(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const childId of node.children ?? []) parent.set(childId, node.id);
  const self = new Map<number, number>();
  const stackShare = new Map<string, number>();
  /** Leaf functions of the samples spent in bearer-guard outside jsonwebtoken.verify. */
  const oursByLeaf = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
    // Attribute the sample by what is on its stack: inside jsonwebtoken.verify, or ours, or neither.
    let inJsonwebtoken = false;
    let inOurs = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const p = party(byId.get(at)!.callFrame);
      if (p.startsWith('jsonwebtoken')) inJsonwebtoken = true;
      if (p.startsWith('bearer-guard')) inOurs = true;
    }
    const leaf = party(byId.get(id)!.callFrame);
    const bucket = inJsonwebtoken
      ? leaf.startsWith('node:crypto') ? 'inside jsonwebtoken.verify: RSA/hash in node:crypto' : 'inside jsonwebtoken.verify: its own JS and Buffer work'
      : inOurs ? 'bearer-guard, outside jsonwebtoken.verify' : leaf === 'GC' ? 'GC' : `elsewhere (${leaf})`;
    stackShare.set(bucket, (stackShare.get(bucket) ?? 0) + dt);
    if (bucket.startsWith('bearer-guard')) {
      const frame = byId.get(id)!.callFrame;
      const name = `${frame.functionName || '(anonymous)'}  ${shortFile(frame)}`;
      oursByLeaf.set(name, (oursByLeaf.get(name) ?? 0) + dt);
    }
  });
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const lines: string[] = [`total sampled: ${(total / 1000).toFixed(0)} ms`, '', 'top self time:'];
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    const name = `${callFrame.functionName || '(anonymous)'}  ${shortFile(callFrame)}  [${party(callFrame)}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('', 'self time by party:');
  const byParty = new Map<string, number>();
  for (const [id, us] of self) {
    const p = party(byId.get(id)!.callFrame);
    byParty.set(p, (byParty.get(p) ?? 0) + us);
  }
  for (const [name, us] of [...byParty].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('', 'by stack (inclusive):');
  for (const [name, us] of [...stackShare].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('', 'bearer-guard outside jsonwebtoken.verify, by leaf function:');
  for (const [name, us] of [...oursByLeaf].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${name}`);
  return lines.join('\n');
}

function shortFile(frame: CallFrame): string {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist|bench|test)\//, '$1/');
  return file === '' ? '' : `${file}:${frame.lineNumber + 1}`;
}

/** `--http NAME`: the bench server of one contender under `--cpu-prof`, loaded by autocannon. */
async function profileHttp(dir: string, contender: string): Promise<void> {
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  try {
    const spec = { contender, express: Number(values.express), issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri, cooldownMs: undefined };
    const server = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100', '--import', 'tsx', join(__dirname, 'server.ts'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => {
        const match = /listening on (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      server.once('exit', (code) => reject(new Error(`profile: server exited with ${code}`)));
    });
    const headers = { authorization: `Bearer ${mintToken(key)}` };
    await autocannon({ url: `${url}/me`, connections: 20, duration: 2, headers }); // warm-up, sampled too (small share)
    const result = await autocannon({ url: `${url}/me`, connections: 20, duration: Number(values.seconds), headers });
    process.stderr.write(`profile: http ${contender}: ${Math.round(result.requests.total / result.duration)} req/s, non-2xx ${result.non2xx}\n`);
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  } finally {
    await idp.close();
  }
}

async function parent(): Promise<void> {
  if (values.file !== undefined) {
    process.stdout.write(`${summarize(JSON.parse(readFileSync(values.file, 'utf8')) as CpuProfile, Number(values.top))}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bearer-guard-profile-'));
  if (values.http !== undefined) {
    await profileHttp(dir, values.http);
    return report(dir);
  }
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  const input = join(dir, 'input.json');
  const hit = values.case === 'hit';
  const tokens = hit ? [mintToken(key)] : mintTokens(key, 2000);
  writeFileSync(input, JSON.stringify({ jwksUri: idp.jwksUri, tokens, issuer: ISSUER, audience: AUDIENCE, hit, seconds: Number(values.seconds) }));
  try {
    await new Promise<void>((resolve, reject) => {
      const proc = fork(join(__dirname, 'profile-child.mjs'), [], {
        execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'],
        env: { ...process.env, BENCH_PROFILE_INPUT: input },
      });
      proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`profile child exited with ${code}`))));
    });
  } finally {
    await idp.close();
  }
  report(dir);
}

function report(dir: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('profile: no .cpuprofile written');
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  process.stdout.write(`${summarize(profile, Number(values.top))}\n`);
  if (values.keep) process.stdout.write(`\nprofile kept at ${join(dir, file)} (open it in Chrome DevTools)\n`);
  else rmSync(dir, { recursive: true, force: true });
}

parent().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
