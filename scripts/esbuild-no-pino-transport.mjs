// pino's transport support runs transports in worker threads (thread-stream): usher never uses
// one, and loading it costs worker_threads and assert at every start. This esbuild plugin
// replaces pino/lib/transport.js with a function that says so if it is ever called.
export const noPinoTransport = {
  name: 'no-pino-transport',
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\/transport$/ }, (args) => (args.importer.includes(`node_modules/pino/`) ? { path: 'pino-transport', namespace: 'usher-stub' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'usher-stub' }, () => ({
      contents: "module.exports = function transport () { throw new Error('pino transports are not bundled in usher') }",
      loader: 'js',
    }));
  },
};
