/**
 * Session files of a 10-million-operation trace (targets, issue 4: save under 2 s, load to the
 * saved position under 2 s, at most 4 bytes per operation on disk). Prints the medians of
 * several runs:
 *
 *     session ops=N file_bytes=B bytes_per_op=X
 *     session_save ops=N reps=R median_ms=M            encodeSession + saveFileAtomic (fsync)
 *     session_load ops=N reps=R median_ms=M            loadSession: read + decodeSession
 *     session_load_to_position ops=N reps=R median_ms=M   load + LiveSession.fromDoc (the app's open)
 *
 *     npm run bench:session [-- --ops 10000000 --reps 5 --python 3.11]
 *
 * The trace is the churn mix of bench/workload.ts (CPython-like sizes, frees of random live
 * blocks), generated in chunks so the text is never held whole.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeSession } from '../src/core/session/format';
import { emptyUiState, type SessionDoc } from '../src/core/session/model';
import { StoredTraceBuilder } from '../src/core/session/stored-trace';
import { TraceReader } from '../src/core/trace/reader';
import { LiveSession } from '../src/core/session/live';
import { loadSession, saveFileAtomic } from '../src/main/files';
import { churnChunks, median } from './workload';

const { values } = parseArgs({ options: { ops: { type: 'string' }, reps: { type: 'string' }, python: { type: 'string' } } });
const ops = Number(values.ops ?? 10_000_000);
const reps = Number(values.reps ?? 5);
const python = (values.python ?? '3.11') as '3.11';

/** bench/workload.ts's churn trace, fed to `reader` in chunks. */
function churnInto(reader: TraceReader, n: number, live: number, seed: number): void {
  churnChunks(n, live, seed, (text) => reader.push(text));
  reader.end();
}

const builder = new StoredTraceBuilder();
churnInto(new TraceReader(builder), ops, 200_000, 42);
const trace = builder.finish();
const doc: SessionDoc = {
  settings: { python, pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [0] }, memoryLimit: null },
  inputs: [{ kind: 'trace', name: 'churn.trace', trace }],
  position: trace.length,
  ui: emptyUiState(),
};

const dir = mkdtempSync(join(tmpdir(), 'pyheap-bench-session-'));
const path = join(dir, 'bench.pyheap');
try {
  const save: number[] = [];
  const load: number[] = [];
  const toPosition: number[] = [];
  for (let r = -1; r < reps; r++) {
    // Repetition -1 warms up the JIT.
    let t0 = performance.now();
    await saveFileAtomic(path, encodeSession(doc));
    const dSave = performance.now() - t0;

    t0 = performance.now();
    const f = await loadSession(path);
    const dLoad = performance.now() - t0;

    // To the saved position, as the app opens a file: the session is rebuilt from its inputs
    // (the trace replayed on the live heap and logged) and shown at its position.
    const live = LiveSession.fromDoc(f.doc);
    live.viewHeap();
    const dTo = performance.now() - t0;
    if (live.total !== trace.length) throw new Error(`rebuilt ${live.total} operations, expected ${trace.length}`);
    if (r >= 0) {
      save.push(dSave);
      load.push(dLoad);
      toPosition.push(dTo);
    }
  }
  const size = statSync(path).size;
  console.log(`session ops=${trace.length} file_bytes=${size} bytes_per_op=${(size / trace.length).toFixed(3)}`);
  console.log(`session_save ops=${trace.length} reps=${reps} median_ms=${median(save).toFixed(0)}`);
  console.log(`session_load ops=${trace.length} reps=${reps} median_ms=${median(load).toFixed(0)}`);
  console.log(`session_load_to_position ops=${trace.length} reps=${reps} median_ms=${median(toPosition).toFixed(0)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
