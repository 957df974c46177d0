// Rewrites the option tables in README.md from src/config/options.ts (`npm run docs`);
// test/unit/readme.test.ts fails when they differ.
import { buildSync } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

const { outputFiles } = buildSync({ entryPoints: ['src/config/options-doc.ts'], bundle: true, format: 'esm', platform: 'node', write: false });
const { withOptionsTables } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
writeFileSync('README.md', withOptionsTables(readFileSync('README.md', 'utf8')));
console.log('README.md option tables updated');
