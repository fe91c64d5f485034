import { describe, expect, it } from 'vitest';
import type { HttpContender } from '../bench/contenders.js';
import type { EdgeResults } from '../bench/edges.js';
import { summarizeInstructions, type InstructionCount, type InstructionResult } from '../bench/instructions.js';
import { MICRO_CASES, type MicroResult } from '../bench/micro.js';
import { evaluateTargets, tallyTargets, type HttpSummary } from '../bench/report.js';

// How the bench judges its targets: the steady (instruction-count) figure sits beside the wall-clock
// one only where the two measure alike, and the tally says which figure met what.

function count(contender: HttpContender, work: number): InstructionCount {
  return { contender, total: work + 100_000, gc: 90_000, compiler: 10_000, work, non2xx: 0 };
}

/** Work per request: hit path 5 % above unprotected, miss path 3 % above the floor's added work. */
const COUNTS: InstructionCount[] = [
  count('unprotected', 500_000),
  count('bearer-guard', 525_000),
  count('fast-jwt-cached', 550_000),
  count('bearer-guard-nocache', 912_000),
  count('jsonwebtoken-floor', 900_000),
];

/** An Express 5 summary whose every wall-clock ratio is `ratio` (0.998 just misses ≥ 1, say). */
function http5(ratio: number): HttpSummary {
  const row = { reqPerSec: 1, reqPerSecRatio: ratio, p50Ms: 1, p50Ratio: 1, p99Ms: 1, p99Ratio: 1, cpuUsPerReq: 1, cpuRatio: 1, cpuAddedUs: 1, processSpread: 0, non2xx: 0 };
  return { express: 5, rows: new Proxy({}, { get: () => row }) as HttpSummary['rows'], ratio: () => ratio, addedCpuRatio: () => ratio };
}

/** A cache hit 10× `crypto.verify` with one token cached, but no faster than it with a full cache. */
const MICRO: MicroResult = {
  opsPerSec: Object.fromEntries(MICRO_CASES.map((name) => [name, [name === 'verify() cache hit' ? 1000 : 100]])) as MicroResult['opsPerSec'],
  plan: { rounds: 1, samples: 1, distinctTokens: 1, fullCacheEntries: 10_000 },
};
const EDGES: EdgeResults = { cooldownMs: 30_000, pollMs: 200, floods: [], stampedes: [], opaque: { status: 'pending', why: 'not run' } };

describe('bench instruction counts', () => {
  it('compares work: added above unprotected, and the inverse ratio as a throughput ratio', () => {
    const summary = summarizeInstructions(COUNTS);
    expect(summary.added('bearer-guard')).toBe(25_000);
    expect(summary.addedRatio('bearer-guard-nocache', 'jsonwebtoken-floor')).toBeCloseTo(412 / 400, 10);
    expect(summary.throughputRatio('bearer-guard', 'unprotected')).toBeCloseTo(500 / 525, 10);
    expect(summary.throughputRatio('bearer-guard', 'fast-jwt-cached')).toBeCloseTo(550 / 525, 10);
  });
});

describe('bench targets', () => {
  const withCounts: InstructionResult = { counts: COUNTS, plan: { contenders: [], warmupRequests: 1, measuredRequests: 1, connections: 1, parallel: 1 } };

  it('gives the four like-for-like HTTP rows a steady figure, and the express-jwt rows none', () => {
    const rows = evaluateTargets(http5(0.998), MICRO, EDGES, [], withCounts);
    const steady = rows.filter((row) => row.steady !== undefined).map((row) => row.target);
    expect(steady).toEqual([
      'Reused token, defaults: req/s vs unprotected',
      'Reused token, defaults: req/s vs fast-jwt with its cache',
      'Fresh token (`tokenCache: false`): req/s vs jsonwebtoken floor',
      'Fresh token: server CPU added per request vs the floor\'s',
    ]);
    expect(rows.find((row) => row.target.includes('vs fast-jwt'))?.steady).toEqual({ measured: '1.048×', met: true });
    expect(rows.find((row) => row.target.includes('CPU added'))?.steady).toEqual({ measured: '1.030×', met: true });
    expect(rows.some((row) => row.target.includes('express-jwt') && row.steady !== undefined)).toBe(false);
  });

  it('prints a wall-clock ratio that misses its bound with three decimals, not as the bound itself', () => {
    const row = evaluateTargets(http5(0.998), MICRO, EDGES, [], withCounts).find((r) => r.target.includes('vs fast-jwt'))!;
    expect(row.measured.startsWith('0.998×')).toBe(true);
    expect(row.met).toBe(false);
  });

  it('tallies the wall clock and the steady figures apart', () => {
    // Wall clock 0.998 everywhere: ≥ 0.8 and ≤ 1.1 rows pass, ≥ 0.95 passes, ≥ 1, ≥ 2.6 and ≥ 1.7 fail.
    const rows = evaluateTargets(http5(0.998), MICRO, EDGES, [], withCounts);
    const tally = tallyTargets(rows);
    expect(tally.hasSteady).toBe(true);
    // No flood or stampede results here, so 10 rows, the opaque one pending; the fast-jwt row is met
    // only by its steady figure.
    expect(rows).toHaveLength(10);
    expect(tally.judged).toBe(rows.length - 1);
    expect(tally.steadyMet - tally.met).toBe(1);
  });

  it('judges the cache hit with a full cache on its own: fast with one token cached is not enough', () => {
    const rows = evaluateTargets(http5(0.998), MICRO, EDGES, [], withCounts);
    expect(rows.find((row) => row.target === 'Micro: cache hit vs raw `crypto.verify`')?.met).toBe(true);
    const full = rows.find((row) => row.target === 'Micro: cache hit with 10,000 tokens cached vs raw `crypto.verify`');
    expect(full).toMatchObject({ wanted: '≥ 6', measured: '1.00×', met: false });
  });

  it('judges on the wall clock alone when the counts were skipped', () => {
    const skipped: InstructionResult = { skipped: 'valgrind is not installed', plan: withCounts.plan };
    const rows = evaluateTargets(http5(0.998), MICRO, EDGES, [], skipped);
    expect(rows.every((row) => row.steady === undefined)).toBe(true);
    const tally = tallyTargets(rows);
    expect(tally.steadyMet).toBe(tally.met);
    expect(tally.hasSteady).toBe(false);
  });
});
