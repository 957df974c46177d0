/**
 * `usher probe` and `usher status`, bundled alone as dist/usher-probe.cjs and loaded by
 * dist/usher.cjs before anything else of usher: no commander, pino, koffi or main bundle, so a
 * probe costs about what `node -e 0` costs.
 */
import { runProbeCli } from './run.js';

process.exitCode = runProbeCli(process.argv.slice(2), process.env);
