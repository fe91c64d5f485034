// Writes an ESM entry (.mjs + .d.mts) beside each CommonJS entry in dist/.
// The package ships one implementation (CommonJS) so that ESM and CJS users in one process share
// the same classes (instanceof AuthError) and the same per-URL JWKS clients; the .mjs files only
// re-export its named exports.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue; // ./package.json
  const cjsFile = join(root, target.require.default);
  const mjsFile = join(root, target.import.default);
  const dmtsFile = join(root, target.import.types);
  if (!existsSync(cjsFile)) {
    console.error(`esm-wrappers: ${subpath}: ${relative(root, cjsFile)} was not built (does its lib/ entry exist?)`);
    process.exit(1);
  }
  const names = Object.keys(require(cjsFile)).filter((name) => name !== 'default' && name !== '__esModule');
  const from = `./${relative(dirname(mjsFile), cjsFile)}`;
  writeFileSync(
    mjsFile,
    `import cjs from '${from}';\n\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = cjs;\n`,
  );
  writeFileSync(dmtsFile, `export * from '${from}';\n`);
  console.log(`esm-wrappers: ${subpath} -> ${relative(root, mjsFile)} (${names.length} exports)`);
}
