import type { BaseName } from './bases.js';
import type { UsherImage } from './images.js';
import type { Packed } from './package.js';

/** What the global set-up hands every test file (vitest's provide/inject). */
export interface ContainerContext {
  /** Set when USHER_SKIP_CONTAINER_TESTS=1: why the tests are skipped. */
  readonly skip?: string;
  /** The run's podman directory (see podman-env.ts). */
  readonly dir: string;
  readonly packed: Packed;
  readonly images: Readonly<Record<BaseName, UsherImage>>;
  /** Bytes of the one layer with node and the installed package, as du counts them. */
  readonly layerBytes: { readonly node: number; readonly usher: number };
}

declare module 'vitest' {
  export interface ProvidedContext {
    containers: ContainerContext;
  }
}
