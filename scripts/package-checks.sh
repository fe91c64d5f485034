#!/usr/bin/env bash
# The package as users install it, for CI: run after `npm test` (which builds dist/).
#   publint        package.json fields and files, every exports entry
#   attw           types resolve for each entry point under node16, from ESM and CJS
#                  (the node10 column does not apply: the package needs Node >= 20)
#   consumer test  the tarball installed in a scratch app outside the repo: the README's
#                  "Testing your routes" example, CJS/ESM smoke tests, node16 type-check,
#                  and `npm pack` holding only what users need
# Extra arguments go to the consumer test, e.g. `--jest` or `--keep`.
set -euo pipefail
cd "$(dirname "$0")/.."

npx --no-install publint --strict
npx --no-install attw --pack . --profile node16
node scripts/consumer-test.mjs --no-build "$@"
