import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withOptionsTable } from '../../src/config/options-doc.js';
import { OPTIONS } from '../../src/config/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the option table of src/config/options.ts (run `npm run docs` after changing options)', () => {
    expect(readme).toBe(withOptionsTable(readme));
  });

  it('names every USHER_* variable', () => {
    for (const option of OPTIONS) if (option.env) expect(readme).toContain(option.env);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
