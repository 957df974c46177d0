// pino carries parts usher never uses, and each costs start-up time at every run of usher:
// transports (worker threads, thread-stream), redaction, multistream, and sonic-boom (its own
// file destination; usher gives pino a synchronous stderr writer instead). This esbuild plugin
// replaces them in the bundle with stubs that say so if they are ever called.
const STUBS = [
  { importer: '/pino/', request: /^\.\/(lib\/)?transport$/, name: 'pino transports' },
  { importer: '/pino/', request: /^\.\/(lib\/)?redaction$/, name: 'pino redaction' },
  { importer: '/pino/', request: /^\.\/lib\/multistream$/, name: 'pino multistream' },
  { importer: '/pino/', request: /^sonic-boom$/, name: 'sonic-boom' },
];

export const pinoSlim = {
  name: 'pino-slim',
  setup(build) {
    // pino asks worker_threads only whether it runs in the main thread, to flush a sonic-boom
    // on exit; usher's logger always runs there, and loading worker_threads costs ~2 ms.
    build.onResolve({ filter: /^worker_threads$/ }, (args) => (args.importer.includes('node_modules/pino/') ? { path: 'worker-threads', namespace: 'usher-main-thread' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'usher-main-thread' }, () => ({ contents: 'module.exports = { isMainThread: true }', loader: 'js' }));
    build.onResolve({ filter: /^(\.\/|sonic-boom$)/ }, (args) => {
      const stub = STUBS.find((candidate) => args.importer.includes(`node_modules${candidate.importer}`) && candidate.request.test(args.path));
      return stub ? { path: stub.name, namespace: 'usher-stub' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'usher-stub' }, (args) => ({
      // A class, so that pino's `instanceof SonicBoom` checks still work (and are false).
      contents: `module.exports = class Unbundled { constructor () { throw new Error(${JSON.stringify(`${args.path} are not bundled in usher`)}) } }`,
      loader: 'js',
    }));
  },
};
