import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { ROOT, USHER } from '../helpers/usher.js';

// When usher cannot write its current state, the file probes must not answer from an older,
// better one. The old usher left state.json as it was: during a drain (/readyz 4) usher probe and
// usher-probe still said ready (0) from it. Now a failed write withdraws state.json and the
// markers, and where even that fails (a read-only remount) usher names itself usher-stale,
// which both probes read: a probe that cannot know says 6. Each case runs in a mount namespace
// of its own, on a real tmpfs.

const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');

/** Runs `script` in a private mount namespace with $DIR a fresh tmpfs (OPTIONS) and usher in the background as $U. */
function inMountNamespace(options: string, script: string): string {
  const [unshare, ...flags] = unshareArgs('--mount', '--propagation', 'private');
  const setup = [
    'set -u',
    'DIR=$(mktemp -d)',
    `mount -t tmpfs -o ${options} tmpfs "$DIR"`,
    'probes() { for kind in ready live; do "$USHER_PROBE" $kind "$DIR" 2>/dev/null; a=$?; "$USHER" probe $kind --state-dir "$DIR" 2>/dev/null; b=$?; printf "%s=%s,%s " $kind $a $b; done; echo; }',
    'wait_code() { n=0; while [ $n -lt 400 ]; do "$USHER_PROBE" ready "$DIR" 2>/dev/null; [ $? = "$1" ] && return 0; n=$((n+1)); sleep 0.025; done; echo "never $1"; return 1; }',
    'LOG=$(mktemp)',
    '"$USHER" --state-dir "$DIR" --drain 20s -- sleep 60 2>"$LOG" & U=$!',
    // The drain's first publish comes right after its log line: probe then, before any heartbeat ages.
    'wait_drain() { n=0; while [ $n -lt 400 ] && ! grep -q "draining for" "$LOG"; do n=$((n+1)); sleep 0.01; done; }',
    'wait_code 0 || exit 1',
    script,
    // Usher's children (the app leads a group of its own) first, then usher, by pid; then wait for it.
    'for c in $(cat /proc/$U/task/*/children 2>/dev/null); do kill -s KILL -- -$c 2>/dev/null; kill -s KILL $c 2>/dev/null; done; kill -s KILL $U 2>/dev/null; wait',
  ].join('\n');
  const run = spawnSync(unshare!, [...flags, 'sh', '-c', setup], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, USHER, USHER_PROBE } });
  if (run.status !== 0) throw new Error(`scenario failed (${run.status}): ${run.stdout}${run.stderr}`);
  return run.stdout;
}

describe('a state file usher cannot bring up to date', () => {
  it('after a read-only remount, during the drain, both probes answer 6, not the old ready', () => {
    const out = inMountNamespace('size=1m', [
      'mount -t tmpfs -o remount,ro tmpfs "$DIR"',
      'kill -TERM $U',
      // The drain's first publish fails (EROFS) and cannot remove the old file: usher marks itself.
      'wait_drain',
      'probes',
      'echo "comm=$(cat /proc/$U/comm)"',
      'echo "file=$(grep -c readyCode "$DIR/state.json")"',
    ].join('\n'));
    expect(out).toContain('comm=usher-stale');
    expect(out).toContain('file=1'); // the old file is still there, and still says 0
    expect(out).toContain('ready=6,6 live=6,6');
  });

  it('on a full file system, the old file is withdrawn and both probes answer 6', () => {
    const out = inMountNamespace('size=64k', [
      // Fill the rest of the file system, then make usher write (the drain starts).
      'dd if=/dev/zero of="$DIR/filler" bs=4k 2>/dev/null',
      'kill -TERM $U',
      'wait_drain',
      'probes',
      'echo "file=$([ -e "$DIR/state.json" ] && echo there || echo gone)"',
    ].join('\n'));
    expect(out).toContain('file=gone');
    expect(out).toContain('ready=6,6 live=6,6');
  });
});
