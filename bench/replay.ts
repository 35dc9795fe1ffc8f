/**
 * Replay speed from a parsed trace (target: at least 20 million operations a second, 40% of
 * the real allocator's ~50 M/s). Prints one line per version with the median of several
 * repetitions: `replay python=X ops=N reps=R median_ops_per_sec=M`.
 *
 *     npm run bench:replay [-- --ops 2000000 --reps 7 --python 3.11,3.8]
 */
import { parseArgs } from 'node:util';
import { compileTrace, replayCompiled } from '../src/core/trace/compiled';
import { createReplayHeap } from '../src/core/trace/replay';
import { churnTrace, median } from './workload';

const { values } = parseArgs({
  options: { ops: { type: 'string' }, reps: { type: 'string' }, python: { type: 'string' }, file: { type: 'string' } },
});
const ops = Number(values.ops ?? 2_000_000);
const reps = Number(values.reps ?? 7);
const versions = (values.python ?? '3.7,3.8,3.9,3.10,3.11,3.12,3.13,3.14').split(',');

const text = churnTrace(ops, 200_000, 42);
const trace = compileTrace(text);
for (const python of versions) {
  const rates: number[] = [];
  for (let r = -2; r < reps; r++) {
    const heap = createReplayHeap({ python });
    const handles = new Float64Array(trace.nslots);
    const t0 = performance.now();
    replayCompiled(heap, trace, handles);
    const dt = (performance.now() - t0) / 1000;
    if (r >= 0) rates.push(trace.length / dt);
  }
  console.log(`replay python=${python} ops=${trace.length} reps=${reps} median_ops_per_sec=${Math.round(median(rates))}`);
}
