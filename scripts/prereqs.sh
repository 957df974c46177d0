# Sourced by test-prereqs.sh and test-container-prereqs.sh (from the repository's root): what both
# do to set up what their tests need. Nothing here makes a test skip: what cannot be set up is
# named, and the tests that need it fail.

missing=''
need() { # need COMMAND PACKAGE: PACKAGE is installed unless COMMAND is there
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2"
}

install_missing() { # install_missing WHAT CONSEQUENCE: apt-get install of what need() found missing
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$1: installing$missing"
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "$1 missing:$missing (install them with apt-get as root); $2" >&2
  fi
}

# The tests install the packed tarball offline, and npm resolves its dependencies (package.json's
# ranges) from the registry's metadata, which an install from package-lock.json never fetches (it
# has the versions). `npm cache add RANGE` caches the metadata and the tarball of the version the
# range resolves to, the one the offline install then picks.
cache_dependencies() { # cache_dependencies WHAT CONSEQUENCE
  for spec in $(node -p "Object.entries(require('./package.json').dependencies ?? {}).map(([name, range]) => name + '@' + range).join(' ')"); do
    npm cache add --offline "$spec" >/dev/null 2>&1 || npm cache add --loglevel=error "$spec" ||
      echo "$1: npm cannot cache $spec; $2" >&2
  done
}
