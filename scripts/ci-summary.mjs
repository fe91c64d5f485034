// Prints vitest's JSON results as one plain line, "N passed, N failed", for CI.
// Further arguments `name=exitcode` (e.g. `demo=0`) count as one check each.
// Exits non-zero when a test or check failed, a suite failed to load, or nothing ran at all.
import { existsSync, readFileSync } from 'node:fs';

const [file = '.vitest-results.json', ...checks] = process.argv.slice(2);
const failedChecks = checks.filter((check) => !check.endsWith('=0'));
for (const check of failedChecks) console.error(`ci-summary: ${check.split('=')[0]} failed`);
if (!existsSync(file)) {
  console.error(`ci-summary: ${file} was not written (the build or vitest failed before reporting)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = (report.numPassedTests ?? 0) + checks.length - failedChecks.length;
// A suite that fails to import contributes no test but must still fail the run.
const brokenSuites = (report.testResults ?? []).filter((suite) => suite.status === 'failed' && suite.assertionResults.length === 0).length;
const failed = (report.numFailedTests ?? 0) + brokenSuites + failedChecks.length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
