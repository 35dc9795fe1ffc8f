/**
 * Timeline speed on a long session (issue 4, section 2: seeking anywhere in a 10-million
 * operation session takes under 150 ms, median; stepping back is as fast as stepping forward).
 *
 * The log: 1M blocks of 8..512 bytes allocated, then steady churn around that live set (a free
 * of a random block and a malloc, some reallocs and callocs, a few raw blocks of 1..64 KiB and
 * now and then a raw mmapped one) up to `--ops` operations in all. Prints, per version:
 *
 *   timeline python=X ops=N build_ms=.. checkpoints=.. interval=.. checkpoint_mib=.. budget_mib=..
 *            seek_median_ms=.. seek_max_ms=.. step_back_median_ms=.. step_back_first_ms=..
 *            step_forward_median_ms=.. pool_states_ms=.. pool_slots=.. rss_peak_mib=..
 *
 * rss_peak_mib is the process's peak so far (it includes the versions run before; pass one
 * `--python` for the figure of one version).
 *
 *     npm run bench:timeline [-- --ops 10000000 --live 1000000 --python 3.13,3.7 --budget-mib 256 --aslr]
 *     npm run bench:timeline -- --raw --steps 20    (every block in glibc: PYTHONMALLOC=malloc)
 */
import { parseArgs } from 'node:util';
import { encodePoolStates } from '../src/core/pymalloc/pool-state';
import { mulberry32 } from '../src/core/raw/address-space';
import { OpLog, RecordingAllocator } from '../src/core/trace/oplog';
import { createReplayHeap, type ReplayHeapOptions } from '../src/core/trace/replay';
import { DEFAULT_BUDGET_BYTES, Timeline } from '../src/core/trace/timeline';
import { median } from './workload';

const { values } = parseArgs({
  options: {
    ops: { type: 'string' },
    live: { type: 'string' },
    python: { type: 'string' },
    'budget-mib': { type: 'string' },
    seeks: { type: 'string' },
    aslr: { type: 'boolean' },
    steps: { type: 'string' },
    raw: { type: 'boolean' },
  },
});
const OPS = Number(values.ops ?? 10_000_000);
const LIVE = Number(values.live ?? 1_000_000);
const BUDGET = values['budget-mib'] === undefined ? DEFAULT_BUDGET_BYTES : Number(values['budget-mib']) * 1024 * 1024;
const SEEKS = Number(values.seeks ?? 50);
const STEPS = Number(values.steps ?? 200);
/** --raw: every block goes to glibc (as under PYTHONMALLOC=malloc): the worst case for snapshots. */
const RAW = values.raw ?? false;
const versions = (values.python ?? '3.13,3.7').split(',');

let rssPeak = 0;
function sampleRss(): void {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}

/** Records the workload through a live heap (the session's), as the app does. */
function recordLog(options: ReplayHeapOptions): OpLog {
  const log = new OpLog();
  const rec = new RecordingAllocator(createReplayHeap(options), log);
  if (RAW) {
    rec.malloc = (n) => -rec.rawMalloc(Number(n));
    rec.calloc = (k, n) => -rec.rawMalloc(Number(k) * Number(n));
    rec.realloc = (h, n) => -rec.rawRealloc(-h, Number(n));
    rec.free = (h) => rec.rawFree(-h);
  }
  const rnd = mulberry32(12345);
  const size = (): number => 8 + Math.floor(rnd() * rnd() * 505); // skewed towards small
  const live = new Float64Array(LIVE);
  let n = 0;
  const raw: number[] = [];
  while (n < LIVE && log.length < OPS) {
    const h = rec.malloc(size());
    if (h !== 0) live[n++] = h;
  }
  while (log.length < OPS) {
    const r = rnd();
    if (r < 0.001) {
      // A few raw blocks: mostly 1..64 KiB from the brk heap, now and then an mmapped one.
      if (raw.length < 64 || rnd() < 0.5) raw.push(rec.rawMalloc(rnd() < 0.05 ? 40_000_000 : 1024 + Math.floor(rnd() * 65536)));
      else {
        const j = Math.floor(rnd() * raw.length);
        rec.rawFree(raw[j]!);
        raw[j] = raw[raw.length - 1]!;
        raw.pop();
      }
      continue;
    }
    const j = Math.floor(rnd() * n);
    if (r < 0.05) {
      const h = rec.realloc(live[j]!, size());
      if (h !== 0) live[j] = h;
    } else if (r < 0.525) {
      rec.free(live[j]!);
      live[j] = live[--n]!;
    } else if (n < LIVE) {
      const h = r < 0.55 ? rec.calloc(1 + Math.floor(rnd() * 4), size() >> 2) : rec.malloc(size());
      if (h !== 0) live[n++] = h;
    }
  }
  sampleRss();
  return log;
}

for (const python of versions) {
  const options: ReplayHeapOptions = values.aslr ? { python, aslrSeed: 1 } : { python };
  let t0 = performance.now();
  const log = recordLog(options);
  const recordMs = performance.now() - t0;

  // Build the checkpoints as a live session would: sync in slices as the log grows.
  const tl = new Timeline(log, () => createReplayHeap(options), { budgetBytes: BUDGET });
  t0 = performance.now();
  while (tl.sync(1_000_000) > 0) sampleRss();
  const buildMs = performance.now() - t0;
  sampleRss();

  // Random seeks anywhere (forwards and backwards as they come).
  const rnd = mulberry32(7);
  const seekMs: number[] = [];
  for (let i = 0; i < SEEKS; i++) {
    const p = Math.floor(rnd() * (log.length + 1));
    t0 = performance.now();
    tl.seek(p);
    seekMs.push(performance.now() - t0);
    sampleRss();
  }

  // Stepping: from a few random places, 200 steps back then 200 forward.
  const backMs: number[] = [];
  const firstBackMs: number[] = [];
  const fwdMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    tl.seek(1_000_000 + Math.floor(rnd() * (log.length - 1_000_000)));
    for (let i = 0; i < STEPS; i++) {
      t0 = performance.now();
      tl.step(-1);
      const dt = performance.now() - t0;
      (i === 0 ? firstBackMs : backMs).push(dt);
    }
    for (let i = 0; i < STEPS; i++) {
      t0 = performance.now();
      tl.step(+1);
      fwdMs.push(performance.now() - t0);
    }
    sampleRss();
  }

  // What the heap map then needs per step: the per-pool state array of the view.
  const encodeMs: number[] = [];
  let states = encodePoolStates(tl.seek(log.length));
  for (let i = 0; i < 20; i++) {
    const heap = tl.step(-1);
    t0 = performance.now();
    states = encodePoolStates(heap, states);
    encodeMs.push(performance.now() - t0);
  }

  const s = tl.stats();
  const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
  const ms = (x: number): string => x.toFixed(x < 0.1 ? 4 : 2);
  console.log(
    [
      `timeline python=${python}${values.aslr ? ' aslr' : ''}${RAW ? ' raw' : ''} ops=${log.length} live=${LIVE}`,
      `record_ms=${Math.round(recordMs)} build_ms=${Math.round(buildMs)}`,
      `checkpoints=${s.coarseCount} interval=${s.interval} fine=${s.fineCount}`,
      `checkpoint_mib=${mib(s.coarseBytes + s.fineBytes)} budget_mib=${mib(s.budgetBytes)}`,
      `seek_median_ms=${ms(median(seekMs))} seek_max_ms=${ms(Math.max(...seekMs))}`,
      `step_back_median_ms=${ms(median(backMs))} step_back_first_median_ms=${ms(median(firstBackMs))}`,
      `step_forward_median_ms=${ms(median(fwdMs))}`,
      `pool_states_ms=${ms(median(encodeMs))} pool_slots=${states.length}`,
      `rss_peak_mib=${mib(rssPeak)}`,
    ].join(' '),
  );
}
