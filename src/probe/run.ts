/** The probe and status commands: argv and environment in, output and exit code out. */
import { writeSync } from 'node:fs';
import { noUsherLine, probeLine, readState } from '../state/reader.js';
import { PROBE_CODES } from '../state/schema.js';
import { findStateDir } from '../state/state-dir.js';
import { parseProbeArgs, PROBE_USAGE, UsageError, wantsDocker, type ProbeArgs } from './args.js';
import { renderStatus } from './status.js';

export interface ProbeIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly now: () => number;
}

/** Lines of a probe are short: written straight to the descriptor, no stream set up. */
const defaultIo: ProbeIo = {
  out: (text) => writeAll(1, text),
  err: (text) => writeAll(2, text),
  now: Date.now,
};

/** argv from the subcommand on (`probe ready --json`); returns the exit code. */
export function runProbeCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: ProbeIo = defaultIo): number {
  let args: ProbeArgs;
  try {
    args = parseProbeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const docker = wantsDocker(argv);
    (docker ? io.out : io.err)(`usher: ${error.message}\n${PROBE_USAGE}`);
    return docker ? DOCKER_UNHEALTHY : PROBE_CODES.usage;
  }
  if (args.command === 'help') {
    io.out(args.text);
    return 0;
  }
  const { dir } = findStateDir(args.stateDir, env);
  const now = io.now();
  const read = readState(dir, now);

  if (args.command === 'status') {
    if (args.json) {
      if (read.ok || read.state) io.out(`${JSON.stringify(read.state, null, 2)}\n`);
      if (!read.ok) io.err(`no usher running (${read.reason})\n`);
    } else {
      const fill = /utf-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '') ? '\u2588' : '#';
      io.out(renderStatus(read, { dir, now, fill }));
    }
    return read.ok ? 0 : PROBE_CODES.noUsher;
  }

  const { code, line } = read.ok ? probeLine(args.kind, read.state, now) : { code: read.code, line: noUsherLine(args.kind, read.reason) };
  if (args.json) io.out(`${JSON.stringify({ probe: args.kind, code, reason: line })}\n`);
  if (!args.docker) {
    if (code !== PROBE_CODES.ok) io.err(`${line}\n`);
    return code;
  }
  // Docker keeps a HEALTHCHECK's output in `docker inspect` (.State.Health.Log); --json already holds the line.
  if (code !== PROBE_CODES.ok && !args.json) io.out(`${line}\n`);
  return code === PROBE_CODES.ok ? 0 : DOCKER_UNHEALTHY;
}

/**
 * Docker's HEALTHCHECK knows 0 (healthy) and 1 (unhealthy), and reserves 2: under --docker every
 * code but 0 is 1, and the line (on stdout) says which it was.
 */
const DOCKER_UNHEALTHY = 1;

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  try {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  } catch {
    // a closed pipe (`usher status | head`): the exit code still tells
  }
}
