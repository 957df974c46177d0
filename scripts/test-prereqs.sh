#!/bin/sh
# What the tests need from outside the repository, fetched when missing: `npm test` and .ci/run
# both call this first. Tests never skip: one whose tool is missing fails and names it.
#
# npm's cache: test/package/install.test.ts installs the packed tarball offline, and npm resolves
# its dependencies (package.json's ranges) from the registry's metadata, which an install from
# package-lock.json never fetches (it has the versions). `npm cache add RANGE` caches the metadata
# and the tarball of the version the range resolves to, the one the offline install then picks.
#
# From Debian, installed when missing (as root, with apt-get):
#   haproxy      the rolling-restart test's load balancer
#   bsdutils     `script`, the pseudo-terminal of the TTY test
#   util-linux   `unshare` (PID and mount namespaces), `setsid`
#   dash busybox the shells bin/usher-probe must run under (Debian's and Alpine's)
#   systemd      `systemd-notify`, a real sd_notify client; `systemctl`, asked for a unit's TimeoutStopSec
#   ruby-foreman `foreman`, the Procfile runner whose stop budget the foreman test holds usher to
set -eu
cd "$(dirname "$0")/.."
for spec in $(node -p "Object.entries(require('./package.json').dependencies ?? {}).map(([name, range]) => name + '@' + range).join(' ')"); do
  npm cache add --offline "$spec" >/dev/null 2>&1 || npm cache add --loglevel=error "$spec" ||
    echo "test prerequisites: npm cannot cache $spec; test/package/install.test.ts will fail" >&2
done

missing=''
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2"
}
need haproxy haproxy
need script bsdutils
need unshare util-linux
need dash dash
need busybox busybox
need systemd-notify systemd
need foreman ruby-foreman
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test prerequisites: installing$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "test prerequisites missing:$missing (install them with apt-get as root); the tests that need them will fail" >&2
fi
