/**
 * argv of `usher probe` and `usher status`, parsed by hand: commander would cost start-up time
 * that a probe, run every few seconds in every pod, should not pay.
 */
import { PROBE_KINDS, type ProbeKind } from '../state/schema.js';

export type ProbeArgs =
  | { readonly command: 'probe'; readonly kind: ProbeKind; readonly json: boolean; readonly docker: boolean; readonly stateDir: string | undefined }
  | { readonly command: 'status'; readonly json: boolean; readonly stateDir: string | undefined }
  | { readonly command: 'help'; readonly text: string };

/** A bad argument; the CLI prints the message and the usage, and exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const PROBE_USAGE = `usage: usher probe startup|ready|live [--docker] [--json] [--state-dir DIR]
       usher status [--json] [--state-dir DIR]
State dir: --state-dir, else $USHER_STATE_DIR, else /run/usher if it holds state.json,
else \${TMPDIR:-/tmp}/usher-UID.
probe exit codes: 0 ok, 1 not yet, 2 an init script failed, 3 a check is failing (or a port lost),
4 draining or stopping, 5 the app has exited, 6 no live usher, 64 usage; the line on stderr.
--docker (Docker HEALTHCHECK, which reserves 2): 0 ok, 1 anything else; the line on stdout.
`;

/** A usage error is answered the --docker way (1, on stdout) when --docker is among the arguments. */
export function wantsDocker(argv: readonly string[]): boolean {
  return argv[0] === 'probe' && argv.includes('--docker');
}


/** argv from the subcommand on: `['probe', 'ready', '--json']`. */
export function parseProbeArgs(argv: readonly string[]): ProbeArgs {
  const [command, ...rest] = argv;
  if (command !== 'probe' && command !== 'status') throw new UsageError(`unknown subcommand ${JSON.stringify(command ?? '')}`);
  let json = false;
  let docker = false;
  let stateDir: string | undefined;
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '-h' || arg === '--help') return { command: 'help', text: PROBE_USAGE };
    if (arg === '--json') json = true;
    else if (arg === '--docker' && command === 'probe') docker = true;
    else if (arg === '--state-dir' || arg.startsWith('--state-dir=')) {
      const value = arg === '--state-dir' ? rest[++i] : arg.slice('--state-dir='.length);
      if (value === undefined) throw new UsageError('--state-dir needs a directory');
      if (value === '') throw new UsageError('--state-dir is empty: give a directory');
      stateDir = value;
    } else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${JSON.stringify(arg)} for usher ${command}`);
    else positionals.push(arg);
  }
  if (command === 'status') {
    if (positionals.length > 0) throw new UsageError(`usher status takes no argument, got ${JSON.stringify(positionals[0])}`);
    return { command, json, stateDir };
  }
  const [kind, extra] = positionals;
  if (kind === undefined) throw new UsageError('usher probe needs a kind: startup, ready or live');
  if (!(PROBE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown probe kind ${JSON.stringify(kind)} (expected startup, ready or live)`);
  if (extra !== undefined) throw new UsageError(`usher probe takes one kind, got another argument ${JSON.stringify(extra)}`);
  return { command, kind: kind as ProbeKind, json, docker, stateDir };
}
