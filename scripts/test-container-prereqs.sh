#!/bin/sh
# What `npm run test:container` needs, set up when missing (as root: apt-get); the container tests
# themselves never reach a network.
#   podman runc  the runtime (runc named: podman's default, crun, fails on these machines)
#   tmux         the terminal of the `podman run -it` test
#   python3      the python image's interpreter (its files are copied from the host)
# Then npm's cache is filled with the package's runtime dependencies, so that the tests'
# `npm install -g --offline` of the packed tarball finds them (a no-op when they are cached).
set -eu
cd "$(dirname "$0")/.."
missing=''
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2"
}
need podman podman
need runc runc
need tmux tmux
[ -x /usr/bin/python3 ] || missing="$missing python3-minimal"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "container test prerequisites: installing$missing"
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "container test prerequisites missing:$missing (install them with apt-get as root); the container tests will fail" >&2
  fi
fi
deps=$(node -e "const d = require('./package.json').dependencies || {}; console.log(Object.entries(d).map(([n, r]) => n + '@' + r).join(' '))")
if [ -n "$deps" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  set -- --prefix "$tmp" --no-save --no-package-lock --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=silent
  # shellcheck disable=SC2086 # one word per dependency
  npm install --offline "$@" $deps >/dev/null 2>&1 || npm install --prefer-offline "$@" $deps >/dev/null
fi
