/**
 * Micro benchmarks, single thread, in a process of their own (started by run.ts with IPC, or by
 * hand: `node --import tsx --expose-gc bench/micro.ts '{"rounds":60,"samples":500,"distinctTokens":2000,"fullCacheEntries":10000}'`).
 *
 * Interleaved at the finest grain: within a round the two cases of a judged pair alternate sample
 * by sample (A B, then B A, …), so a neighbour taking the shared core slows both alike. A sample
 * is one call (or a batch of calls, for the sub-microsecond cases), timed with the wall clock; a
 * round's figure for a case is its median sample, so preemptions and GC pauses do not count.
 * The judged figure is the median over rounds of the per-round ratio.
 */
import { verify as cryptoVerify } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startIdpServer, type IdpServer } from '../test/helpers/idp-server.js';
import { makeKey, type TestKey } from '../test/helpers/keys.js';
import { AUDIENCE, ISSUER, makeSigningKey, mintToken, mintTokens } from './fixture.js';
import { median } from './stats.js';

export interface MicroPlan {
  readonly rounds: number;
  /** Samples per case per round. */
  readonly samples: number;
  /** Distinct tokens cycled through by the cases that must not repeat a token. */
  readonly distinctTokens: number;
  /** Tokens the full-cache verifier holds (its `tokenCacheEntries`, filled by verifying them all). */
  readonly fullCacheEntries: number;
}

export const MICRO_CASES = ['crypto.verify', 'jsonwebtoken.verify', 'verify() cache off', 'verify() cache hit', 'verify() cache hit, full cache', 'decodeJWT'] as const;
export type MicroCase = (typeof MICRO_CASES)[number];

export interface MicroResult {
  /** ops/s per case (from the round's median sample), one value per round. */
  readonly opsPerSec: Record<MicroCase, number[]>;
  readonly plan: MicroPlan;
}

type BearerGuard = typeof import('../lib/index.js');

interface Case {
  /** Calls per sample: 1 for the RSA cases, more for the cheap ones, so a sample outweighs the clock read. */
  readonly batch: number;
  /** Runs `batch` calls from index `i`; a promise for the async cases (each call awaited, as a caller would). */
  run(i: number): unknown;
}

/** The judged ratios: [baseline, bearer-guard]. */
const PAIRS: readonly (readonly [MicroCase, MicroCase])[] = [
  ['jsonwebtoken.verify', 'verify() cache off'],
  ['crypto.verify', 'verify() cache hit'],
];

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '{}') as MicroPlan;
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  try {
    const { createVerifier, decodeJWT } = (await import('bearer-guard')) as unknown as BearerGuard;
    const common = { issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true };
    const uncached = createVerifier({ ...common, tokenCache: false });
    const cached = createVerifier(common);
    await Promise.all([uncached.ready(), cached.ready()]);
    const tokens = mintTokens(key, plan.distinctTokens);
    const reused = mintToken(key);
    await cached.verify(reused);
    const full = await fullCacheVerifier(createVerifier, common, idp, key, plan.fullCacheEntries, reused);
    const pick = (i: number): string => tokens[i % tokens.length]!;
    const jwtOptions: jwt.VerifyOptions & { complete?: false } = { algorithms: ['RS256'] };
    const HIT_BATCH = 32;
    const DECODE_BATCH = 16;

    const cases: Record<MicroCase, Case> = {
      'crypto.verify': {
        batch: 1,
        run(i) {
          const token = pick(i);
          const dot = token.lastIndexOf('.');
          if (!cryptoVerify('sha256', Buffer.from(token.slice(0, dot)), key.publicKey, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
        },
      },
      'jsonwebtoken.verify': { batch: 1, run: (i) => jwt.verify(pick(i), key.publicKey, jwtOptions) },
      'verify() cache off': { batch: 1, run: (i) => uncached.verify(pick(i)) },
      'verify() cache hit': {
        batch: HIT_BATCH,
        async run() {
          for (let n = 0; n < HIT_BATCH; n += 1) await cached.verify(reused);
        },
      },
      // A server's real cache is full of other clients' tokens while one client reuses its own.
      'verify() cache hit, full cache': {
        batch: HIT_BATCH,
        async run() {
          for (let n = 0; n < HIT_BATCH; n += 1) await full.verify(reused);
        },
      },
      decodeJWT: {
        batch: DECODE_BATCH,
        run(i) {
          for (let n = 0; n < DECODE_BATCH; n += 1) decodeJWT(pick(i + n));
        },
      },
    };
    // Warm-up: every case, long enough for the optimising compiler.
    for (const entry of Object.values(cases)) for (let i = 0; i < 2000 / entry.batch; i += 1) await entry.run(i * entry.batch);

    const opsPerSec = Object.fromEntries(MICRO_CASES.map((name) => [name, [] as number[]])) as Record<MicroCase, number[]>;
    const record = (name: MicroCase, samplesUs: Float64Array): void => {
      opsPerSec[name].push((1e6 * cases[name].batch) / median([...samplesUs]));
    };
    for (let round = 0; round < plan.rounds; round += 1) {
      (globalThis as { gc?: () => void }).gc?.(); // each round starts from a clean heap
      for (const [a, b] of round % 2 === 0 ? PAIRS : [...PAIRS].reverse()) {
        const [samplesA, samplesB] = await alternate(cases[a], cases[b], plan.samples, round * plan.samples);
        record(a, samplesA);
        record(b, samplesB);
      }
      for (const name of ['verify() cache hit, full cache', 'decodeJWT'] as const) {
        const samples = new Float64Array(plan.samples);
        for (let s = 0; s < plan.samples; s += 1) samples[s] = await timeOne(cases[name], s * cases[name].batch);
        record(name, samples);
      }
    }
    const result: MicroResult = { opsPerSec, plan };
    // Forked by run.ts: the result goes back over IPC; run by hand: a summary on stdout.
    if (process.send) process.send(result);
    else process.stdout.write(`${JSON.stringify({ ...summarizeMicro(result), perRound: opsPerSec }, null, 1)}\n`);
  } finally {
    await idp.close();
  }
}

/**
 * A verifier whose token cache is full: `entries - 1` other tokens, then `reused` last (its JWKS
 * gains the filler key). The other
 * tokens are ES256 (signed in ~30 µs each, where 2048-bit RSA takes ~1 ms: 10 000 of them would
 * cost the bench 10 s); which algorithm they are does not matter to a hit on `reused`.
 */
async function fullCacheVerifier(
  createVerifier: BearerGuard['createVerifier'],
  common: { issuer: string; audience: string; jwksUri: string; allowHttpLoopback: boolean },
  idp: IdpServer,
  key: TestKey,
  entries: number,
  reused: string,
): Promise<ReturnType<BearerGuard['createVerifier']>> {
  const fillerKey = makeKey(`filler-${entries}`, 'ES256');
  idp.setKeys(key, fillerKey);
  const verifier = createVerifier({ ...common, algorithms: ['RS256', 'ES256'], tokenCache: { maxEntries: entries } });
  for (let i = 1; i < entries; i += 1) await verifier.verify(mintToken(fillerKey));
  await verifier.verify(reused);
  return verifier;
}

/** `samples` samples of each case, alternating A B / B A; returns the sample times in µs. */
async function alternate(a: Case, b: Case, samples: number, offset: number): Promise<[Float64Array, Float64Array]> {
  const timesA = new Float64Array(samples);
  const timesB = new Float64Array(samples);
  for (let s = 0; s < samples; s += 1) {
    const i = offset + s;
    if (s % 2 === 0) {
      timesA[s] = await timeOne(a, i * a.batch);
      timesB[s] = await timeOne(b, i * b.batch);
    } else {
      timesB[s] = await timeOne(b, i * b.batch);
      timesA[s] = await timeOne(a, i * a.batch);
    }
  }
  return [timesA, timesB];
}

/** One sample: the wall time of `batch` calls from index `i`, in µs. */
async function timeOne(entry: Case, i: number): Promise<number> {
  const start = performance.now();
  const pending = entry.run(i);
  if (pending instanceof Promise) await pending;
  return (performance.now() - start) * 1000;
}

/** Summary of a micro run: median ops/s per case and the two judged ratios. */
export function summarizeMicro(result: MicroResult): { medians: Record<MicroCase, number>; uncachedVsJsonwebtoken: number; hitVsCrypto: number; fullHitVsCrypto: number } {
  const perRound = (a: MicroCase, b: MicroCase): number => median(result.opsPerSec[a].map((value, round) => value / result.opsPerSec[b][round]!));
  return {
    medians: Object.fromEntries(MICRO_CASES.map((name) => [name, median(result.opsPerSec[name])])) as Record<MicroCase, number>,
    uncachedVsJsonwebtoken: perRound('verify() cache off', 'jsonwebtoken.verify'),
    hitVsCrypto: perRound('verify() cache hit', 'crypto.verify'),
    fullHitVsCrypto: perRound('verify() cache hit, full cache', 'crypto.verify'),
  };
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
