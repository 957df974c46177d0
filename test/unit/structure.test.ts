import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/usher.js';

// The shape ARCHITECTURE.md describes, held by tests so it cannot drift: one OS layer, short
// functions, and a repository that speaks of itself only.

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(file) : entry.name.endsWith('.ts') ? [file] : [];
  });
}

const SRC = path.join(ROOT, 'src');
const FUNCTION_LINES_MAX = 80;

describe('structure', () => {
  it('calls C only through src/sys: nothing else loads koffi', () => {
    const outside = sources(SRC).filter((file) => !file.startsWith(path.join(SRC, 'sys') + path.sep))
      .filter((file) => /['"]koffi['"]|\.\/sys\/koffi\.js|\/sys\/koffi\.js/.test(readFileSync(file, 'utf8')));
    expect(outside.map((file) => path.relative(ROOT, file))).toEqual([]);
  });

  it(`has no function in src/ longer than ${FUNCTION_LINES_MAX} lines`, () => {
    const long: string[] = [];
    for (const file of sources(SRC)) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line - source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          if (lines > FUNCTION_LINES_MAX) long.push(`${path.relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} (${lines} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });

  it('has no file that points outside the repository', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean)
      .filter((file) => !file.endsWith('package-lock.json') && file !== 'test/unit/structure.test.ts');
    // A design document elsewhere, and absolute paths of a particular machine.
    const outside = /design §|shared\/design|\.\.\/shared\/|\/work\/main|\/farm\//;
    const offenders = files.filter((file) => outside.test(readFileSync(path.join(ROOT, file), 'latin1')));
    expect(offenders).toEqual([]);
  });
});
