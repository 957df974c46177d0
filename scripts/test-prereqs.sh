#!/bin/sh
# What the tests need from outside the repository, fetched when missing: `npm test` and .ci/run
# both call this first. Tests never skip: one whose tool is missing fails and names it.
#
# npm's cache holds the package's dependencies, for test/package/install.test.ts's offline
# install of the packed tarball.
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
. scripts/prereqs.sh
cache_dependencies 'test prerequisites' 'test/package/install.test.ts will fail'
need haproxy haproxy
need script bsdutils
need unshare util-linux
need dash dash
need busybox busybox
need systemd-notify systemd
need foreman ruby-foreman
install_missing 'test prerequisites' 'the tests that need them will fail'
