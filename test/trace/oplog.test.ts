import { describe, expect, it } from 'vitest';
import { PythonSession } from '../../src/core/python/session';
import { OpLog, LOG_RAW_MALLOC, LOG_MALLOC, LOG_FREE, replayLog, RecordingAllocator } from '../../src/core/trace/oplog';
import { createReplayHeap, formatSummary } from '../../src/core/trace/replay';
import { checkHeap } from '../../src/core/pymalloc/check';
import type { PythonMallocMode } from '../../src/core/objects/space';

const SCRIPT = `
xs = [i * 1000 for i in range(3000)]
d = {str(i): [i] for i in range(500)}
ys = xs[::2]
del xs[100:2000]
s = set(range(100, 900))
b = bytearray(b'x' * 5000)
b.extend(b'y' * 70000)
del d
t = tuple(xs)
`;

describe('operation log', () => {
  for (const mode of ['pymalloc', 'malloc', 'debug'] as PythonMallocMode[]) {
    it(`replays a Python session to the identical heap (PYTHONMALLOC=${mode})`, () => {
      const log = new OpLog();
      const session = new PythonSession({ python: '3.11', pythonMalloc: mode, log });
      session.run(SCRIPT);
      const fresh = createReplayHeap({ python: '3.11' });
      replayLog(fresh, log, 0, log.length);
      expect(formatSummary(fresh, true)).toBe(formatSummary(session.heap, true));
      expect(fresh.raw.malloc(100)).toBe(session.heap.raw.malloc(100));
      expect(checkHeap(fresh)).toEqual([]);
      // Every domain call was logged: raw calls only appear where libc is used directly.
      const kinds = new Set(Array.from(log.kind.subarray(0, log.length)));
      expect(kinds.has(LOG_RAW_MALLOC)).toBe(mode === 'malloc');
      expect(kinds.has(LOG_MALLOC)).toBe(mode !== 'malloc');
    });
  }

  it('replays a prefix to the heap as it was then, and truncates', () => {
    const log = new OpLog();
    const rec = new RecordingAllocator(createReplayHeap({ python: '3.8' }), log);
    const hs: number[] = [];
    for (let i = 0; i < 1000; i++) hs.push(rec.malloc(16 + (i % 40) * 8));
    const mid = formatSummary(rec.heap, true);
    for (const h of hs) rec.free(h);
    expect(log.length).toBe(2000);
    expect(log.kind[1999]).toBe(LOG_FREE);
    const fresh = createReplayHeap({ python: '3.8' });
    replayLog(fresh, log, 0, 1000);
    expect(formatSummary(fresh, true)).toBe(mid);
    log.truncate(1000);
    expect(log.length).toBe(1000);
  });

  it('keeps sizes beyond 32 bits and bigint calloc counts', () => {
    const log = new OpLog();
    const rec = new RecordingAllocator(createReplayHeap({ python: '3.11' }), log);
    expect(rec.malloc(2n ** 63n)).toBe(0);
    expect(rec.calloc(2n ** 62n, 4)).toBe(0);
    expect(rec.malloc(5_000_000_000)).toBeLessThan(0); // a raw mmap: no limit was set
    expect(log.sizeAt(0)).toBe(2n ** 63n);
    expect(log.countAt(1)).toBe(2n ** 62n);
    expect(log.sizeAt(2)).toBe(5_000_000_000);
  });
});
