import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withOptionsTables } from '../../src/config/options-doc.js';
import { OPTIONS } from '../../src/config/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the option tables of src/config/options.ts (run `npm run docs` after changing options)', () => {
    expect(readme).toBe(withOptionsTables(readme));
  });

  it('has no option table but the generated ones', () => {
    // Every table whose header is the option table's lies between generated markers.
    const outside = readme.replace(/<!-- (options[:a-z]*):begin[^]*?<!-- \1:end -->/g, '');
    expect(outside).not.toMatch(/^\| *(flag|option) *\|/m);
    expect(outside).not.toMatch(/^\| `--[a-z-]+`/m);
  });

  it('names every USHER_* variable', () => {
    for (const option of OPTIONS) if (option.env) expect(readme).toContain(option.env);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
