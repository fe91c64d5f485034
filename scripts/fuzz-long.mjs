#!/usr/bin/env node
// `npm run fuzz`: the property suites of test/fuzz, scaled up (FUZZ_RUNS, default 20 000 runs per
// in-process property, a tenth of that per HTTP one: over 100 000 cases in all), then one summary:
// cases, tokens accepted (valid ones, and forged ones, which must be 0), 5xx answers (must be 0),
// unhandled rejections (must be 0), and each file's RSS at start, end and peak.
//
//   npm run fuzz                      # FUZZ_RUNS=20000
//   FUZZ_RUNS=100000 npm run fuzz     # longer
//   FUZZ_SEED=123 npm run fuzz        # replay a seed fast-check reported
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MIN_CASES = 100_000;
const runs = process.env.FUZZ_RUNS ?? '20000';
const dir = mkdtempSync(join(tmpdir(), 'bearer-guard-fuzz-'));
const reportFile = join(dir, 'report.jsonl');

const started = Date.now();
const vitest = spawnSync('npx', ['vitest', 'run', 'test/fuzz', '--testTimeout=0', '--hookTimeout=0'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_REPORT: reportFile },
});
const seconds = Math.round((Date.now() - started) / 1000);

let lines = [];
try {
  lines = readFileSync(reportFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
} catch {
  // No report: vitest failed before any file finished; its own output says why.
}
rmSync(dir, { recursive: true, force: true });

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const totals = { cases: 0, accepted: 0, acceptedForged: 0, serverErrors: 0, unhandled: 0 };
const rows = [];
for (const { file, properties, unhandledRejections, rss, heap } of lines) {
  for (const p of properties) {
    rows.push({ file, property: p.property, cases: p.cases, 'accepted (valid)': p.accepted, 'accepted (forged)': p.acceptedForged, '5xx': p.serverErrors });
    totals.cases += p.cases;
    totals.accepted += p.accepted;
    totals.acceptedForged += p.acceptedForged;
    totals.serverErrors += p.serverErrors;
    if (p.memory !== undefined) {
      const m = p.memory;
      console.log(`${file} / ${p.property} (${p.cases} tokens): RSS after GC ${mib(m.rssStart)} → ${mib(m.rssEnd)} (peak ${mib(m.rssPeak)} between GCs; after GC at each tenth: ${m.rssAtTenths.map((rss) => (rss / 1024 / 1024).toFixed(0)).join(', ')} MiB); heap + external after GC ${mib(m.usedStart)} → ${mib(m.usedEnd)}`);
    }
  }
  totals.unhandled += unhandledRejections;
  console.log(`${file}: RSS start ${mib(rss.start)}, end ${mib(rss.end)}, peak ${mib(rss.peak)}; heap after GC start ${mib(heap.start)}, end ${mib(heap.end)}`);
}
console.table(rows);
console.log(`FUZZ_RUNS=${runs}: ${totals.cases} cases in ${seconds} s; accepted ${totals.accepted} valid and ${totals.acceptedForged} forged; ${totals.serverErrors} 5xx; ${totals.unhandled} unhandled rejections`);

const problems = [];
if (vitest.status !== 0) problems.push(`vitest exited with ${vitest.status ?? vitest.signal}`);
if (lines.length === 0) problems.push('no report was written');
if (totals.acceptedForged > 0) problems.push(`${totals.acceptedForged} forged tokens accepted`);
if (totals.serverErrors > 0) problems.push(`${totals.serverErrors} 5xx answers`);
if (totals.unhandled > 0) problems.push(`${totals.unhandled} unhandled rejections`);
if (totals.cases < MIN_CASES) problems.push(`only ${totals.cases} cases (at least ${MIN_CASES} expected)`);
if (problems.length > 0) {
  console.error(`fuzz: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
}
