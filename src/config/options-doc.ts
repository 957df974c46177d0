import { OPTIONS, type OptionSpec } from './options.js';

function flags(option: OptionSpec): string {
  const long = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
  return `\`${option.short ? `-${option.short}, ` : ''}${long}\``;
}

/** The README's option table, made from the same table as --help and the environment mapping. */
export function optionsMarkdown(): string {
  const rows = OPTIONS.map((option) => {
    const env = option.env ? `\`${option.env}\`` : option.compat ? `(${option.compat})` : '';
    return `| ${flags(option)} | ${env} | ${option.default} | ${option.help.replace(/\|/g, '\\|')} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export const OPTIONS_BEGIN = '<!-- options:begin (generated from src/config/options.ts by `npm run docs`) -->';
export const OPTIONS_END = '<!-- options:end -->';

/** README text with the table between the markers replaced by the current one. */
export function withOptionsTable(readme: string): string {
  const begin = readme.indexOf(OPTIONS_BEGIN);
  const end = readme.indexOf(OPTIONS_END);
  if (begin < 0 || end < begin) throw new Error('README.md has no options markers');
  return `${readme.slice(0, begin + OPTIONS_BEGIN.length)}\n${optionsMarkdown()}\n${readme.slice(end)}`;
}
