import { describe, expect, it } from 'vitest';
import { context, image, SKIP } from './lib/harness.js';

// What usher costs an image: on a Node image, the installed package; on any other image, node
// too. Each usher image is its FROM image plus those files and the tests' few app files.
const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
// podman counts a layer as its tar: a 512-byte header per file and padding, and the app files.
const OVERHEAD = 4e6;
// The package's budget on a Node image. koffi's prebuilt binaries, for every platform it
// supports, are most of it (26 MB); a package that grows past this ships something it should not.
const PACKAGE_BUDGET = 40e6;

describe.skipIf(SKIP)('what usher adds to an image', () => {
  it(`adds the installed package to a Node image, at most ${MB(PACKAGE_BUDGET)}`, () => {
    for (const base of ['shell', 'distroless'] as const) {
      const built = image(base);
      const added = built.size - built.fromSize;
      console.log(`${built.from} ${MB(built.fromSize)} + ${context.packed.name} ${MB(added)} = ${MB(built.size)}`);
      expect(added).toBeGreaterThanOrEqual(context.layerBytes.usher);
      expect(added).toBeLessThan(Math.min(context.layerBytes.usher + OVERHEAD, PACKAGE_BUDGET));
    }
  });

  it('adds node and the package to a Python image, and nothing else', () => {
    const python = image('python');
    const added = python.size - python.fromSize;
    const files = context.layerBytes.node + context.layerBytes.usher;
    console.log(`${python.from} ${MB(python.fromSize)} + node ${MB(context.layerBytes.node)} and ${context.packed.name} ${MB(context.layerBytes.usher)}: ${MB(added)} = ${MB(python.size)}`);
    expect(added).toBeGreaterThanOrEqual(files);
    expect(added).toBeLessThan(files + OVERHEAD);
  });
});
