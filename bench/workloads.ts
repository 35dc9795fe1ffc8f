/**
 * Workload speed: a churn of 10 million operations (the figure), a fragmentation
 * workload, and the Python scenarios (a list of a million ints built and every other one
 * deleted; a dict of 200000 keys grown and emptied; 200000 instances of a class). Each runs
 * on a fresh session heap through a RecordingAllocator (every call logged, as in the app);
 * Python runs with heap events off, as the app's sessions do. Prints one line per workload with
 * the median of several repetitions:
 *
 *     npm run bench:workloads [-- --reps 5 --python 3.11 --ops 10000000 --count 1000000]
 */
import { parseArgs } from 'node:util';
import { PythonSession } from '../src/core/python/session';
import { OpLog, RecordingAllocator } from '../src/core/trace/oplog';
import { createReplayHeap } from '../src/core/trace/replay';
import { runWorkload, type WorkloadResult } from '../src/core/workloads/run';
import type { WorkloadSpec } from '../src/core/workloads/spec';
import { arenaUsage } from '../src/core/workloads/usage';
import { median } from './workload';

const { values } = parseArgs({
  options: { reps: { type: 'string' }, python: { type: 'string' }, ops: { type: 'string' }, count: { type: 'string' } },
});
const reps = Number(values.reps ?? 5);
const python = values.python ?? '3.11';
const ops = Number(values.ops ?? 10_000_000);
const count = Number(values.count ?? 1_000_000);

interface Run {
  seconds: number;
  result: WorkloadResult;
  arenas: number;
  blockBytes: number;
}

function once(spec: WorkloadSpec): Run {
  let alloc: RecordingAllocator;
  let session: PythonSession | undefined;
  if (spec.kind === 'python') {
    session = new PythonSession({ python, log: new OpLog() });
    session.space.recordEvents = false;
    alloc = session.space.alloc as RecordingAllocator;
  } else {
    alloc = new RecordingAllocator(createReplayHeap({ python }), new OpLog());
  }
  const t0 = performance.now();
  const result = runWorkload(spec, session === undefined ? { alloc } : { alloc, python: session }, { progressEvery: 1 << 20, onProgress: () => {} });
  const seconds = (performance.now() - t0) / 1000;
  const u = arenaUsage(alloc.heap);
  return { seconds, result, arenas: u.arenas, blockBytes: u.blockBytes };
}

function bench(name: string, spec: WorkloadSpec, repetitions: number): void {
  const runs: Run[] = [];
  for (let r = -1; r < repetitions; r++) {
    const run = once(spec);
    if (r >= 0) runs.push(run);
  }
  const t = median(runs.map((r) => r.seconds));
  const last = runs[runs.length - 1]!;
  const logged = last.result.logEnd - last.result.logStart;
  console.log(
    `workload ${name} python=${python} steps=${last.result.steps} logged_ops=${logged} reps=${repetitions} ` +
      `median_s=${t.toFixed(3)} median_logged_ops_per_sec=${Math.round(logged / t)} arenas=${last.arenas} block_bytes=${last.blockBytes}`,
  );
}

bench('churn', { kind: 'churn', seed: 1, operations: ops, sizeMin: 1, sizeMax: 512, distribution: 'log-uniform', liveTarget: 200_000 }, reps);
bench('churn-uniform', { kind: 'churn', seed: 1, operations: ops, sizeMin: 1, sizeMax: 512, distribution: 'uniform', liveTarget: 200_000 }, reps);
bench('fragmentation', { kind: 'fragmentation', seed: 1, blocks: 2_000_000, sizeMin: 16, sizeMax: 256, distribution: 'log-uniform', releaseFraction: 0.95 }, reps);
bench('python-list-of-ints', { kind: 'python', scenario: 'list-of-ints', count }, Math.min(reps, 3));
bench('python-dict-grow-shrink', { kind: 'python', scenario: 'dict-grow-shrink', count: 200_000 }, Math.min(reps, 3));
bench('python-class-instances', { kind: 'python', scenario: 'class-instances', count: 200_000 }, Math.min(reps, 3));
