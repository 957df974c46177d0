import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/errors.js';
import { OPTIONS, type OptionSpec } from '../config/options.js';
import { buildConfig, type CliValues } from '../config/build-config.js';
import { LICENSE } from './license.js';

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'printed' };

function flags(option: OptionSpec): string {
  const long = `--${option.name}${option.value ? ` <${option.value}>` : ''}`;
  return option.short ? `-${option.short}, ${long}` : long;
}

function describe(option: OptionSpec): string {
  const notes = [option.env ? `env ${option.env}` : undefined, `default: ${option.default}`, option.compat && `as ${option.compat}`];
  return `${option.help} (${notes.filter(Boolean).join('; ')})`;
}

/** commander loads on first use: `usher -- app`, the usual ENTRYPOINT, never needs it. */
function commander(): typeof import('commander') {
  return require('commander') as typeof import('commander');
}

function program(version: string, write: (text: string) => void): Command {
  const command = new (commander().Command)('usher')
    .usage('[options] [--] COMMAND [ARGS...]\n       usher probe startup|ready|live [--docker] [--json] [--state-dir DIR]\n       usher status [--json] [--state-dir DIR]')
    .description('A PID 1 for containers: forwards signals, reaps zombies, stops gracefully.')
    .argument('[command...]', 'the app to run, found through PATH')
    .version(version, '-V, --version')
    .helpOption('-h, --help')
    .passThroughOptions()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: () => undefined });
  for (const option of OPTIONS) {
    // Every value given is kept, for a single-value option too: the last one wins, but each must be valid.
    if (option.kind === 'boolean') command.option(flags(option), describe(option));
    else command.option(flags(option), describe(option), (value: string, previous: string[] = []) => [...previous, value]);
  }
  return command;
}

/** argv (without node and script) + environment -> the run configuration, or help/version printed. */
export function parseRun(argv: readonly string[], env: NodeJS.ProcessEnv, version: string, write: (text: string) => void): ParseResult {
  // No flag before COMMAND (`usher -- app`, `usher app`, everything in USHER_* variables): there
  // is nothing for commander to parse, and usher skips loading it.
  const first = argv[0];
  if (first === undefined || first === '--' || !first.startsWith('-')) {
    return { kind: 'run', config: buildConfig(first === '--' ? argv.slice(1) : argv, new Map(), env) };
  }
  const cmd = program(version, write);
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof commander().CommanderError) {
      if (error.exitCode === 0) return { kind: 'printed' };
      throw new ConfigError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  const opts = cmd.opts<Record<string, string | string[] | boolean | undefined>>();
  if (opts.license === true) {
    write(LICENSE);
    return { kind: 'printed' };
  }
  const cli = new Map<string, readonly string[] | true>();
  for (const option of OPTIONS) {
    const value = opts[camel(option.name)];
    if (value === true) cli.set(option.name, true);
    else if (typeof value === 'string') cli.set(option.name, [value]);
    else if (Array.isArray(value)) cli.set(option.name, value);
  }
  return { kind: 'run', config: buildConfig(cmd.args, cli as CliValues, env) };
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
