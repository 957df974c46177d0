import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface InitScript {
  readonly name: string;
  readonly path: string;
}

/**
 * The init scripts of the --init paths, in order: a file is itself; a directory gives its
 * executable files in byte order of their names (like run-parts), dotfiles left out. A missing
 * path or a file that cannot be executed is a configuration error; a non-executable file in a
 * directory is skipped with a warning.
 */
export function listInitScripts(paths: readonly string[], warn: (message: string) => void): InitScript[] {
  const scripts: InitScript[] = [];
  for (const given of paths) {
    let stats;
    try {
      stats = statSync(given);
    } catch {
      throw new Error(`no such file or directory: ${JSON.stringify(given)}`);
    }
    if (!stats.isDirectory()) {
      if (!isExecutable(given)) throw new Error(`${JSON.stringify(given)} is not executable`);
      scripts.push({ name: path.basename(given), path: given });
      continue;
    }
    const names = readdirSync(given).filter((name) => !name.startsWith('.')).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
    for (const name of names) {
      const file = path.join(given, name);
      if (!statSync(file).isFile()) continue;
      if (isExecutable(file)) scripts.push({ name, path: file });
      else warn(`init script ${file} is not executable: skipped`);
    }
  }
  return scripts;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
