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
. scripts/prereqs.sh
need podman podman
need runc runc
need tmux tmux
[ -x /usr/bin/python3 ] || missing="$missing python3-minimal"
install_missing 'container test prerequisites' 'the container tests will fail'
cache_dependencies 'container test prerequisites' 'the container tests will fail'
