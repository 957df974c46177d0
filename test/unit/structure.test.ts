import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
    // A section of a document kept outside the repository (the section sign written as \u00a7, so
    // that this line is not one), a sibling folder, absolute paths of a particular machine.
    const outside = /design \u00a7|design\.md|shared\/design|\.\.\/shared\/|\/work\/main|\/farm\//;
    const offenders = files.filter((file) => outside.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('ARCHITECTURE.md lists the machine\'s events and effects as src/lifecycle/types.ts declares them, and only files that exist', () => {
    const page = readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const types = ts.createSourceFile('types.ts', readFileSync(path.join(SRC, 'lifecycle/types.ts'), 'utf8'), ts.ScriptTarget.Latest, true);
    const members = (name: string): string[] => {
      const found: string[] = [];
      const visit = (node: ts.Node): void => {
        if (ts.isPropertySignature(node) && node.name.getText(types) === 'type' && node.type && ts.isLiteralTypeNode(node.type)) found.push(node.type.literal.getText(types).slice(1, -1));
        ts.forEachChild(node, visit);
      };
      const alias = types.statements.find((node): node is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(node) && node.name.text === name)!;
      visit(alias.type);
      // ChecksChanged is declared apart and joined into Event by name
      if (name === 'Event') found.push('checksChanged');
      return [...new Set(found)].sort();
    };
    const listed = (heading: string): string[] => {
      const line = new RegExp(`^${heading}: ([^]*?)\\.\\n`, 'm').exec(page)?.[1] ?? '';
      return [...line.matchAll(/`(\w+)`/g)].map((match) => match[1]!).sort();
    };
    expect(listed('Events')).toEqual(members('Event'));
    expect(listed('Effects')).toEqual(members('Effect'));
    const files = [...page.matchAll(/`((?:[a-z-]+\/)+[a-z-]+\.ts)`/g)].map((match) => match[1]!);
    // Paths are written from the repository's root (src/main.ts, test/helpers/teardown.ts) or from src/ (ports/listeners.ts).
    const fromRoot = (file: string): boolean => file.startsWith('src/') || file.startsWith('test/');
    const missing = files.filter((file) => !existsSync(fromRoot(file) ? path.join(ROOT, file) : path.join(SRC, file)));
    expect(files.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
