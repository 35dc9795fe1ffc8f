/**
 * A 10-million-line text trace through `pyheap replay` (target: under 5 seconds), and the
 * peak memory of a replay that keeps 5 million blocks live (target: under 1 GiB). Both run
 * the built CLI in a child process, as a user would. Prints medians:
 *
 *     cli_replay lines=10000000 median_s=S
 *     cli_live5m blocks=5000000 median_s=S median_peak_rss_mib=M
 *
 *     npm run bench:cli [-- --lines 10000000 --reps 3 --live 5000000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { churnTrace, growTrace, median } from './workload';

const { values } = parseArgs({ options: { lines: { type: 'string' }, reps: { type: 'string' }, live: { type: 'string' }, python: { type: 'string' } } });
const lines = Number(values.lines ?? 10_000_000);
const reps = Number(values.reps ?? 3);
const live = Number(values.live ?? 5_000_000);
const python = values.python ?? '3.11';
const cli = resolve(process.cwd(), 'out/cli/pyheap.mjs');
const dir = mkdtempSync(join(tmpdir(), 'pyheap-bench-'));

/** Runs the CLI; returns wall seconds and the child's peak RSS in MiB. */
function runCli(args: string[]): { seconds: number; rssMiB: number } {
  const code =
    "process.on('exit',()=>process.stderr.write('maxrss_kib='+process.resourceUsage().maxRSS+'\\n'));" +
    `await import(${JSON.stringify('file://' + cli)});`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, 'pyheap', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = /maxrss_kib=(\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`pyheap ${args.join(' ')} failed: ${r.stderr}`);
  return { seconds, rssMiB: Number(m[1]) / 1024 };
}

try {
  const churnFile = join(dir, 'churn.trace');
  writeFileSync(churnFile, churnTrace(lines, 300_000, 7));
  const mb = (statSync(churnFile).size / 2 ** 20).toFixed(0);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) times.push(runCli(['replay', '--python', python, churnFile]).seconds);
  console.log(`cli_replay python=${python} lines=${lines} file_mib=${mb} median_s=${median(times).toFixed(2)}`);
  rmSync(churnFile);

  const growFile = join(dir, 'live.trace');
  writeFileSync(growFile, growTrace(live, 3));
  const t2: number[] = [];
  const rss: number[] = [];
  for (let r = 0; r < reps; r++) {
    const x = runCli(['replay', '--python', python, growFile]);
    t2.push(x.seconds);
    rss.push(x.rssMiB);
  }
  console.log(`cli_live python=${python} blocks=${live} median_s=${median(t2).toFixed(2)} median_peak_rss_mib=${median(rss).toFixed(0)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
