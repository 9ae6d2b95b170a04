/**
 * npm run bench:synth — time and memory to import the library and synthesize every example, in a
 * fresh process each run, beside the same work in a process that also imports the provider package
 * roots (what a barrel import costs). Prints medians of RUNS runs and the ratios.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const RUNS = Number(process.env.RUNS ?? 5);
const repo = join(__dirname, '..');

/** The child: optionally load the provider roots, then import the examples and synthesize them. */
function childScript(withRoots: boolean, outdir: string): string {
  const roots = withRoots ? `for (const p of ['kubernetes', 'helm']) require('@cdktf/provider-' + p);` : '';
  return `
    const t0 = process.hrtime.bigint();
    ${roots}
    const { buildExamples } = require(${JSON.stringify(join(repo, 'examples/main.ts'))});
    buildExamples(${JSON.stringify(outdir)}).synth();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024 }));
  `;
}

function run(withRoots: boolean): { ms: number; rssMb: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'rt-bench-'));
  try {
    const r = spawnSync(process.execPath, ['-r', join(repo, 'scripts/swc-register.js'), '-e', childScript(withRoots, outdir)], { cwd: repo, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench child failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const deep: { ms: number; rssMb: number }[] = [];
const roots: { ms: number; rssMb: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  deep.push(run(false));
  roots.push(run(true));
}
const d = { ms: median(deep.map((x) => x.ms)), rss: median(deep.map((x) => x.rssMb)) };
const r = { ms: median(roots.map((x) => x.ms)), rss: median(roots.map((x) => x.rssMb)) };
console.log(`synth of examples/ (median of ${RUNS} fresh processes each, import + synth)`);
console.log(`  deep imports (this library):      ${d.ms.toFixed(0).padStart(6)} ms  ${d.rss.toFixed(0).padStart(5)} MB max RSS`);
console.log(`  plus provider package roots:      ${r.ms.toFixed(0).padStart(6)} ms  ${r.rss.toFixed(0).padStart(5)} MB max RSS`);
console.log(`  ratio roots/deep:                 ${(r.ms / d.ms).toFixed(2).padStart(6)} x time  ${(r.rss / d.rss).toFixed(2).padStart(5)} x memory`);
