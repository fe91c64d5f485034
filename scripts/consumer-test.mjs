// Proves the package the way users get it: builds, `npm pack`s, installs the tarball into a
// scratch app outside the repo (with express, vitest, supertest from the registry) and runs there
// the README's "Testing your routes" example, a CommonJS and an ESM smoke test, and a node16
// type-check of both entry points. Exits non-zero on the first failure.
//
//   node scripts/consumer-test.mjs [--no-build] [--keep] [--jest]
//
// --no-build  use the dist/ already built (CI builds once before the package checks)
// --keep      leave the scratch directory in place and print its path
// --jest      also install Jest in the scratch app and run kit.jest.cjs with --detectOpenHandles
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const template = join(root, 'test/consumer');
const args = new Set(process.argv.slice(2));
const startedMs = Date.now();
/** Where the README example lives; each file that has the marker must hold it verbatim. */
const EXAMPLE_DOCS = ['README.md'];
const EXAMPLE_MARKER = '<!-- consumer-test: routes.spec.ts -->';
/** What users need from the tarball: built code, its types, README, CHANGELOG, LICENSE. */
const SHIPPED = /^(?:dist\/.+\.(?:js|mjs|d\.ts|d\.mts)|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/;

class StepFailed extends Error {}

function fail(message) {
  throw new StepFailed(message);
}

/** Runs a step; `capture: true` returns its stdout instead of showing it. */
function run(command, commandArgs, { capture = false, ...options } = {}) {
  const label = [command, ...commandArgs].join(' ');
  const stepMs = Date.now();
  const result = spawnSync(command, commandArgs, { stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', timeout: 300_000, ...options });
  if (result.error) fail(`${label}: ${result.error.message}`);
  if (result.stderr) process.stderr.write(result.stderr);
  if (result.status !== 0) fail(`${label} exited with ${result.status ?? result.signal}`);
  console.log(`consumer-test: ${label} (${((Date.now() - stepMs) / 1000).toFixed(1)} s)`);
  return result;
}

function checkDocExample() {
  const example = readFileSync(join(template, 'routes.spec.ts'), 'utf8');
  let found = 0;
  for (const doc of EXAMPLE_DOCS) {
    let text;
    try {
      text = readFileSync(join(root, doc), 'utf8');
    } catch {
      continue;
    }
    const at = text.indexOf(EXAMPLE_MARKER);
    if (at === -1) continue;
    const block = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
    if (block === null || block[1] !== example) fail(`the example after ${EXAMPLE_MARKER} in ${doc} differs from test/consumer/routes.spec.ts`);
    found += 1;
  }
  if (found === 0) fail(`no file of ${EXAMPLE_DOCS.join(', ')} holds the example marked ${EXAMPLE_MARKER}`);
}

function checkPackContents(pack) {
  const files = pack.files.map((file) => file.path);
  const extra = files.filter((path) => !SHIPPED.test(path));
  if (extra.length > 0) fail(`the tarball holds files users do not need:\n  ${extra.join('\n  ')}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const targets = Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [target] : [target.import.types, target.import.default, target.require.types, target.require.default]));
  for (const target of targets) {
    if (!files.includes(target.replace(/^\.\//, ''))) fail(`the tarball lacks ${target}, named in package.json exports`);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'bearer-guard-consumer-'));
try {
  checkDocExample();
  if (!args.has('--no-build')) run('npm', ['run', 'build', '--silent'], { cwd: root });

  const packDir = join(scratch, 'pack');
  mkdirSync(packDir);
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--silent', '--pack-destination', packDir], { cwd: root, capture: true }).stdout);
  checkPackContents(pack);

  const app = join(scratch, 'app');
  cpSync(template, app, { recursive: true });
  const appPackage = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  appPackage.dependencies = { 'bearer-guard': `file:${join(packDir, pack.filename)}` };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(appPackage, null, 2)}\n`);

  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app });
  run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.declarations.json'], { cwd: app });
  run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: app });
  // The smoke tests must exit by themselves: a handle left open by close() would hit the timeout.
  run('node', ['smoke.cjs'], { cwd: app, timeout: 30_000 });
  run('node', ['smoke.mjs'], { cwd: app, timeout: 30_000 });
  run('npx', ['--no-install', 'vitest', 'run'], { cwd: app, timeout: 120_000 });
  if (args.has('--jest')) {
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--no-save', 'jest@30'], { cwd: app });
    const output = run('npx', ['--no-install', 'jest', '--ci', '--detectOpenHandles', '--testMatch', '**/*.jest.cjs'], { cwd: app, timeout: 120_000, stdio: ['ignore', 'inherit', 'pipe'] });
    // Jest reports open handles on stderr but still exits 0.
    if (/open handle/i.test(output.stderr)) fail('Jest detected an open handle after the tests');
  }
  console.log(`consumer-test: passed in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`consumer-test: ${err instanceof StepFailed ? err.message : err.stack}`);
  process.exitCode = 1;
} finally {
  if (args.has('--keep')) console.log(`consumer-test: scratch app kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
