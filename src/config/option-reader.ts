import { ConfigError, parseAt } from './errors.js';
import { OPTIONS, optionFlag, type OptionSpec } from './options.js';

/** What the command line gave, by option name: the strings of value/list options, true for booleans. */
export type CliValues = ReadonlyMap<string, readonly string[] | true>;

export interface Given<T> {
  readonly value: T;
  readonly source: 'flag' | 'env';
  /** The flag or variable it came from, for messages: `--drain`, `USHER_DRAIN`. */
  readonly where: string;
}

/**
 * How each feature reads its options: the value of one option (the last given; every one given
 * must parse), or all values of a list, each error naming the flag or variable and the value.
 */
export interface OptionReader {
  one<T>(name: string, parse: (text: string) => T): Given<T> | undefined;
  list<T>(name: string, parse: (text: string) => T): T[];
  /** Both, when one requires the other: `--watchdog needs --notify-socket`. */
  fail(message: string): never;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

interface Raw {
  readonly where: string;
  readonly values: readonly string[];
  readonly source: 'flag' | 'env';
}

function spec(name: string): OptionSpec {
  const found = OPTIONS.find((option) => option.name === name);
  if (!found) throw new Error(`no option named ${name}`);
  return found;
}

/**
 * Flags win over the environment, an option's own flag over a flag that is its alias (`-v` for
 * `--log-level debug`); a list flag replaces the whole list from the environment. An empty
 * variable means unset: that is how people unset one in a Dockerfile or a manifest.
 */
function raw(name: string, cli: CliValues, env: NodeJS.ProcessEnv): Raw | undefined {
  const option = spec(name);
  const given = cli.get(name);
  if (given === true) return { where: optionFlag(option), values: ['true'], source: 'flag' };
  if (given) return { where: optionFlag(option), values: given, source: 'flag' };
  const alias = OPTIONS.find((other) => other.alias?.of === name && cli.get(other.name) === true);
  if (alias?.alias) return { where: optionFlag(alias), values: [alias.alias.value], source: 'flag' };
  const text = option.env ? env[option.env] : undefined;
  if (text === undefined || text.trim() === '') return undefined;
  const separator = option.envSeparator === 'newline' ? '\n' : ',';
  const values = option.kind === 'list' ? text.split(separator).map((part) => part.trim()).filter(Boolean) : [text];
  return { where: option.env!, values, source: 'env' };
}

export function optionReader(cli: CliValues, env: NodeJS.ProcessEnv, cwd: string): OptionReader {
  return {
    env,
    cwd,
    one(name, parse) {
      const given = raw(name, cli, env);
      if (!given) return undefined;
      // The last one given wins, but every one given must be valid: `--drain bad --drain 1s` is a slip.
      const values = given.values.map((text) => parseAt(given.where, text, parse));
      return { value: values[values.length - 1]!, source: given.source, where: given.where };
    },
    list(name, parse) {
      const given = raw(name, cli, env);
      return given ? given.values.map((text) => parseAt(given.where, text, parse)) : [];
    },
    fail(message) {
      throw new ConfigError(message);
    },
  };
}
