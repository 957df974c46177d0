import { existsSync } from 'node:fs';

export type Koffi = typeof import('koffi');
/** A loaded library: here always the running process itself, so glibc or musl alike. */
export type Library = ReturnType<Koffi['load']>;
/** A bound C function; koffi checks the argument types, TypeScript cannot. */
export type CFunction = (...args: unknown[]) => number;

const ARCH: Readonly<Record<string, string>> = { x64: 'x64', arm64: 'arm64', ia32: 'ia32', arm: 'armhf' };
const MUSL_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i386', arm: 'armhf' };

let loaded: { readonly koffi: Koffi; readonly self: Library } | undefined;

/**
 * koffi and the running process's own C library, loaded once. koffi's index.js loads https,
 * zlib and crypto for its installer (about 12 ms); usher needs only the prebuilt native module,
 * so it loads that straight away (musl's build first where musl's loader exists, so a glibc
 * build never loads through a shim such as gcompat) and falls back to the package entry when
 * the layout is not the expected one. Binding to the process itself (dlopen(NULL)) finds glibc
 * on Debian and musl on Alpine with the same code. Throws when koffi cannot load.
 */
export function native(): { readonly koffi: Koffi; readonly self: Library } {
  if (loaded) return loaded;
  const koffi = requireKoffi();
  loaded = { koffi, self: koffi.load(null as unknown as string) };
  return loaded;
}

function requireKoffi(): Koffi {
  // koffi is native: kept out of the bundle and required from node_modules at run time.
  const root = require.resolve('koffi/package.json').slice(0, -'package.json'.length);
  const arch = ARCH[process.arch];
  if (process.platform === 'linux' && arch) {
    const musl = existsSync(`/lib/ld-musl-${MUSL_ARCH[process.arch] ?? process.arch}.so.1`);
    for (const libc of musl ? ['musl', 'linux'] : ['linux', 'musl']) {
      try {
        return require(`${root}build/koffi/${libc}_${arch}/koffi.node`) as Koffi;
      } catch {
        // not this libc's build (or not there): try the next
      }
    }
  }
  return require('koffi') as Koffi;
}

/** A function of the C library, bound on first call: what only some runs need costs the others nothing. */
export function lazy(signature: string): () => CFunction {
  let fn: CFunction | undefined;
  return () => (fn ??= native().self.func(signature) as CFunction);
}

/** A function bound now, so that a missing symbol shows at start, where usher may still bail. */
export function eager(signature: string): () => CFunction {
  const fn = native().self.func(signature) as CFunction;
  return () => fn;
}

/** A koffi type, declared on first use and then reused: koffi never frees a type it declared. */
export function declared<T>(declare: (koffi: Koffi) => T): () => T {
  let type: T | undefined;
  return () => (type ??= declare(native().koffi));
}

/** errno of the last C call made through koffi on this thread. */
export function lastErrno(): number {
  return native().koffi.errno();
}
