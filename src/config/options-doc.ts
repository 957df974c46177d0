import { OPTIONS, type OptionSpec } from './options.js';

function flags(option: OptionSpec): string {
  const long = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
  return `\`${option.short ? `-${option.short}, ` : ''}${long}\``;
}

/** A README option table, made from the same table as --help and the environment mapping. */
export function optionsMarkdown(options: readonly OptionSpec[] = OPTIONS): string {
  const rows = options.map((option) => {
    const env = option.env ? `\`${option.env}\`` : option.compat ? `(${option.compat})` : '';
    return `| ${flags(option)} | ${env} | ${option.default} | ${option.help.replace(/\|/g, '\\|')} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Every generated table of the README: the whole list, and each section's own. */
const TABLES: readonly { readonly id: string; readonly options: readonly OptionSpec[] }[] = [
  { id: 'options', options: OPTIONS },
  { id: 'options:checks', options: OPTIONS.filter((option) => option.section === 'checks') },
];

export const markers = (id: string): { begin: string; end: string } => ({
  begin: `<!-- ${id}:begin (generated from src/config/options.ts by \`npm run docs\`) -->`,
  end: `<!-- ${id}:end -->`,
});

/** README text with every generated table replaced by the current one; throws if a table's markers are missing. */
export function withOptionsTables(readme: string): string {
  let text = readme;
  for (const table of TABLES) {
    const { begin, end } = markers(table.id);
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${table.id} markers`);
    text = `${text.slice(0, from + begin.length)}\n${optionsMarkdown(table.options)}\n${text.slice(to)}`;
  }
  return text;
}
