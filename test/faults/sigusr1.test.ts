import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyPackage, earnsFlag, FLAG, killTree, listensOn, nodeOnPath, run, versionOf } from './launcher-kit.js';

// A SIGUSR1 that lands while usher starts, 0 to 100 ms after the exec of bin/usher, many times.
// Node opens its inspector on 127.0.0.1:9229 for a SIGUSR1 that nothing else handles; on Node
// >= 22.14 bin/usher passes --disable-sigusr1 and usher unblocks SIGUSR1 once it listens, so
// the inspector never opens and the signal reaches the app. Node 20 has no such flag: there,
// as the README says, a SIGUSR1 may open the inspector until usher's first line listens to it,
// and every one after that is forwarded. Which of the two holds is read, for each signal, from
// the kernel at the moment it is sent (/proc/PID/status), not guessed from the delay.

/**
 * The app: a shell that says which signals it gets. Not a Node app: a SIGUSR1 forwarded during
 * its own bootstrap would open its inspector, and on the same stderr.
 */
const APP = ['sh', '-c', 'trap "echo SIGUSR1" USR1; trap "echo SIGUSR2" USR2; trap "exit 0" TERM; echo ready; while :; do sleep 1 & wait $!; done'];
const INSPECTOR_PORT = 9229;
const DELAYS_MS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100];
const ROUNDS = 3;
const WAIT_MS = 20_000;

/**
 * Where a process started from bin/usher is, as far as SIGUSR1 goes: `launcher` (the shell, before
 * exec), `node` (Node, SIGUSR1 not yet taken over: ignored as the launcher left it), `held` (Node
 * blocks it: pending until usher unblocks it, or Node 20's inspector takes it), `usher` (usher's
 * handlers are installed: SIGSYS, the last of them, is caught). It only moves forward, so a
 * signal sent just after the reading is at this stage or a later one.
 */
type Stage = 'launcher' | 'node' | 'held' | 'usher';
type Outcome = 'reached' | 'dropped' | 'killed' | 'inspector';

function stageOf(pid: number): Stage {
  // The executable, not the name: Node 24 names its main thread MainThread.
  if (readlinkSync(`/proc/${pid}/exe`) !== nodeFile) return 'launcher';
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const mask = (field: string): bigint => BigInt(`0x${new RegExp(`${field}:\\s*([0-9a-f]+)`).exec(status)![1]}`);
  const has = (set: bigint, signal: number): boolean => ((set >> BigInt(signal - 1)) & 1n) === 1n;
  if (has(mask('SigCgt'), constants.signals.SIGSYS)) return 'usher';
  return has(mask('SigBlk'), constants.signals.SIGUSR1) || has(mask('SigCgt'), constants.signals.SIGUSR1) ? 'held' : 'node';
}

let root: string;
let usher: string;
let env: NodeJS.ProcessEnv;
let node: string;
/** The node binary itself, as /proc/PID/exe shows it once the launcher has exec'd it. */
let nodeFile: string;
let flagNode: boolean;
const started: number[] = [];
const tally = new Map<string, number>();

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-sigusr1-'));
  ({ usher } = copyPackage(path.join(root, 'pkg')));
  // The node on PATH, reached through a directory of the test's own: its record (keyed by path
  // and by the directory's mtime) cannot go stale because something else changed /usr/bin.
  node = nodeOnPath();
  nodeFile = realpathSync(node);
  flagNode = earnsFlag(node);
  mkdirSync(path.join(root, 'node-bin'));
  symlinkSync(node, path.join(root, 'node-bin/node'));
  mkdirSync(path.join(root, 'state'));
  env = { PATH: `${path.join(root, 'node-bin')}:${process.env.PATH}`, USHER_STATE_DIR: path.join(root, 'state'), HOME: root };
  // The first start under a node writes the record that gives the flag to the next ones.
  const first = await run(usher, ['--', 'true'], env);
  expect(first.code).toBe(0);
});

afterEach(() => {
  for (const pid of started.splice(0)) killTree(pid);
});

afterAll(() => {
  console.log(`SIGUSR1 during start-up on ${versionOf(node)} (${flagNode ? 'with' : 'without'} ${FLAG}), stage -> outcome: ${JSON.stringify(Object.fromEntries(tally))}`);
  rmSync(root, { recursive: true, force: true });
});

describe('SIGUSR1 during start-up', () => {
  it(`passes ${FLAG} exactly where this node has it (Node >= 22.14), never an unknown flag`, async () => {
    const shown = await run(usher, ['--', 'sh', '-c', 'tr "\\0" "\\n" < /proc/$PPID/cmdline'], env);
    expect(shown.code).toBe(0);
    const argv = shown.stdout.trim().split('\n');
    expect(argv[0]).toBe(path.join(root, 'node-bin/node'));
    expect(argv.slice(1, argv.indexOf('--') - 1)).toEqual(flagNode ? [FLAG] : []);
  });

  it('a first check: nothing listens on the inspector port before the runs', () => {
    expect(listensOn(INSPECTOR_PORT)).toBe(false);
  });

  it.each(Array.from({ length: ROUNDS }, (_, index) => index + 1))('round %i: a SIGUSR1 0-100 ms after exec never opens the inspector where the flag is, and reaches the app once usher runs', async () => {
    for (const delayMs of DELAYS_MS) {
      const { stage, outcome } = await signalDuringStart(delayMs);
      const key = `${stage}->${outcome}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      expect(allowed(stage, outcome), `a SIGUSR1 sent ${delayMs} ms after exec, at stage ${stage}: ${outcome}`).toBe(true);
    }
  });
});

/**
 * What may happen to a SIGUSR1 sent at each stage. Killed: only before the launcher's first line
 * (outside PID 1; as PID 1 the kernel drops it). Dropped: only while it is ignored, before Node
 * takes it over. The inspector: never where the flag is; on Node 20 only before usher listens.
 * Reached: always; and where the flag is, a held one always is.
 */
function allowed(stage: Stage, outcome: Outcome): boolean {
  switch (outcome) {
    case 'reached': return true;
    case 'killed': return stage === 'launcher';
    // On Node 20 a held one is the inspector's, which may not have said so before usher ended.
    case 'dropped': return stage === 'launcher' || stage === 'node' || (!flagNode && stage === 'held');
    case 'inspector': return !flagNode && stage !== 'usher';
  }
}

/**
 * Starts usher on the app, sends SIGUSR1 `delayMs` after the exec, then (if usher still runs)
 * once the app is ready a SIGUSR2 and a second SIGUSR1, and stops it with SIGTERM. The app's
 * lines say which signals it got.
 */
async function signalDuringStart(delayMs: number): Promise<{ stage: Stage; outcome: Outcome }> {
  const child = spawn(usher, ['--', ...APP], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const pid = child.pid!;
  started.push(pid);
  const out = watch(child);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const stage = stageOf(pid);
  process.kill(pid, 'SIGUSR1');
  const first = await out.first(['ready', 'inspector', 'exit']);
  if (first === 'exit') return { stage, outcome: exitOutcome(await out.exit, out.stdout()) };
  const inspectorAllowed = !flagNode && stage !== 'usher';
  if (first === 'inspector' && !inspectorAllowed) return { stage, outcome: 'inspector' };
  if (await out.first(['ready', 'exit']) === 'exit') throw new Error(`usher ended before the app was ready: ${JSON.stringify(await out.exit)}`);
  // Up and listening: nothing listens on the inspector's port, wherever it may not open.
  if (!inspectorAllowed) expect(listensOn(INSPECTOR_PORT), `something listens on :${INSPECTOR_PORT} after a SIGUSR1 at ${delayMs} ms`).toBe(false);
  // SIGUSR2 as a barrier: had usher forwarded the first SIGUSR1, the app would have it by now,
  // and says so first (pending signals come in the order of their numbers). A second SIGUSR1
  // sent at once instead could merge with a first one still pending in the app.
  await expectLine(out, 'SIGUSR2', 1);
  const firstReached = out.count('SIGUSR1') === 1;
  // A SIGUSR1 once usher runs reaches the app, whatever became of the first.
  await expectLine(out, 'SIGUSR1', out.count('SIGUSR1') + 1);
  process.kill(pid, 'SIGTERM');
  expect(await out.exit).toEqual({ code: 0, signal: null });
  // Node 20's inspector speaks from a thread of its own, maybe after the app's lines: usher's
  // stderr is complete only now.
  const inspector = out.stderr().includes('Debugger listening');
  return { stage, outcome: inspector ? 'inspector' : firstReached ? 'reached' : 'dropped' };
}

/** Sends the signal and waits for the app's `times`-th line saying it got it. */
async function expectLine(out: Watched, signal: 'SIGUSR1' | 'SIGUSR2', times: number): Promise<void> {
  process.kill(out.pid, signal);
  if (await out.first([signal, 'exit'], times) === 'exit') throw new Error(`usher ended before the app got ${signal}: ${JSON.stringify(await out.exit)}`);
}

/** usher ended before the app was ready: the first SIGUSR1 either ended usher or reached the app. */
function exitOutcome(exit: { code: number | null; signal: NodeJS.Signals | null }, stdout: string): Outcome {
  if (exit.signal === 'SIGUSR1') return 'killed';
  // 128 + SIGUSR1: the app died of the forwarded signal before its handler was installed.
  if (exit.code === 128 + constants.signals.SIGUSR1) return 'reached';
  throw new Error(`usher ended with ${JSON.stringify(exit)} after a SIGUSR1; stdout: ${stdout}`);
}

interface Watched {
  readonly pid: number;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** How many of the app's lines on stdout are `line`. */
  count(line: string): number;
  /**
   * Resolves with the first to show of: `exit`, `inspector` (Node's line on stderr), or the
   * `times`-th line of the app's on stdout that starts with one of the texts; bounded.
   */
  first(texts: readonly string[], times?: number): Promise<string>;
}

function watch(child: ReturnType<typeof spawn>): Watched {
  let stdout = '';
  let stderr = '';
  let ended = false;
  const waiters = new Set<() => void>();
  const poke = (): void => waiters.forEach((waiter) => waiter());
  child.stdout!.setEncoding('utf8').on('data', (text: string) => { stdout += text; poke(); });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text; poke(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => {
    ended = true;
    resolve({ code, signal });
    poke();
  }));
  const count = (text: string): number => stdout.split('\n').filter((line) => line.startsWith(text)).length;
  const first = (texts: readonly string[], times = 1): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = texts.find((text) => (text === 'exit' ? ended : text === 'inspector' ? stderr.includes('Debugger listening') : count(text) >= times));
      if (found === undefined) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${texts.join(' or ')}\nstdout: ${stdout}\nstderr: ${stderr.slice(-3000)}`));
    }, WAIT_MS);
    waiters.add(check);
    check();
  });
  return { pid: child.pid!, exit, stdout: () => stdout, stderr: () => stderr, count, first };
}
