#!/bin/sh
# scripts/test-on-node.sh LINE: the whole vitest suite again, on Node LINE (20, 22 or 24, from
# scripts/node-from-npm.sh), once `npm test` has installed what the tests need. That node goes
# first on PATH, so it is the one everything runs on: vitest, the build, the `node` the tests
# spawn and the one bin/usher execs. The build is redone on it because the build depends on the
# Node that runs it (the V8 code cache in dist/ is made by a warm-up run); dist/ is left so, and
# the next `npm test` or `npm run build` makes it again with the machine's node.
set -eu
cd "$(dirname "$0")/.."
bin=$(sh scripts/node-from-npm.sh "${1-}")
PATH=$bin:$PATH
export PATH
echo "tests on node $(node -v) ($bin/node)"
npm run build
npx vitest run
