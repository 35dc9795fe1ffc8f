import { describe, expect, it } from 'vitest';
import type { PymallocHeap } from '../../src/core/pymalloc/heap';
import { mulberry32 } from '../../src/core/raw/address-space';
import { OpLog, RecordingAllocator, replayLog } from '../../src/core/trace/oplog';
import { createReplayHeap, formatSummary, type ReplayHeapOptions } from '../../src/core/trace/replay';
import { copyHeapInto, snapshotHeap } from '../../src/core/trace/snapshot';
import { Timeline } from '../../src/core/trace/timeline';

/** Appends `n` random calls (sizes 1..600, calloc, realloc, raw, some mmapped) to `rec`'s log. */
function record(rec: RecordingAllocator, n: number, seed: number, live: number[] = [], raw: number[] = []): void {
  const rnd = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const size = 1 + Math.floor(rnd() * 600);
    // The live set swings between ~0 and ~24000 blocks (up to 28 arenas on 3.7, 7 on 3.13), so
    // arenas are released and reused.
    const target = 12_000 * (1 + Math.sin(i / 12_000));
    const grow = live.length < target ? 0.7 : 0.3;
    if (live.length === 0 || r < grow - 0.1) {
      const h = rec.malloc(size);
      if (h !== 0) live.push(h);
    } else if (r < grow - 0.05) {
      const h = rec.calloc(1 + Math.floor(rnd() * 4), size >> 2);
      if (h !== 0) live.push(h);
    } else if (r < grow) {
      const j = Math.floor(rnd() * live.length);
      const h = rec.realloc(live[j]!, size);
      if (h !== 0) live[j] = h;
    } else if (r < grow + 0.02) {
      // Now and then above 32 MiB: always an mmapped chunk (the threshold never goes that high).
      const a = rec.rawMalloc(rnd() < 0.05 ? 33_554_432 + size * 4096 : size * 3);
      if (a !== 0) raw.push(a);
    } else if (r < grow + 0.04 && raw.length > 0) {
      const j = Math.floor(rnd() * raw.length);
      rec.rawFree(raw[j]!);
      raw[j] = raw[raw.length - 1]!;
      raw.pop();
    } else {
      // Half the frees take the newest block, which empties whole pools and arenas.
      const j = rnd() < 0.5 ? live.length - 1 : Math.floor(rnd() * live.length);
      rec.free(live[j]!);
      live[j] = live[live.length - 1]!;
      live.pop();
    }
  }
}

function makeLog(options: ReplayHeapOptions, n: number, seed: number): OpLog {
  const log = new OpLog();
  record(new RecordingAllocator(createReplayHeap(options), log), n, seed);
  return log;
}

function freshAt(options: ReplayHeapOptions, log: OpLog, p: number): PymallocHeap {
  const heap = createReplayHeap(options);
  replayLog(heap, log, 0, p);
  return heap;
}

/** The whole state: the dump with pymalloc's lists, and the full copied graph (raw allocator included). */
function expectSame(actual: PymallocHeap, expected: PymallocHeap, where: string): void {
  expect(formatSummary(actual, true), where).toBe(formatSummary(expected, true));
  expect(snapshotHeap(actual).root, where).toEqual(snapshotHeap(expected).root);
}

const CONFIGS: [string, ReplayHeapOptions][] = [
  ['3.7, offsets 0', { python: '3.7' }],
  ['3.13, offsets 0', { python: '3.13' }],
  ['3.7, aslr', { python: '3.7', aslrSeed: 21 }],
  ['3.13, aslr', { python: '3.13', aslrSeed: 22 }],
];

const N = 200_000;

describe('timeline', () => {
  for (const [name, options] of CONFIGS) {
    it(`seeks to random positions, forwards and backwards, to the heap a fresh replay gives (${name})`, () => {
      const log = makeLog(options, N, 1);
      expect(log.length).toBe(N);
      const tl = new Timeline(log, () => createReplayHeap(options), { interval: 8192 });
      expect(tl.sync()).toBe(0);
      expect(tl.synced).toBe(N);
      expect(tl.coarsePositions()).toEqual(Array.from({ length: Math.floor(N / 8192) + 1 }, (_, i) => i * 8192));
      const rnd = mulberry32(2);
      // Random jumps, small steps forward (from the view) and back, the ends.
      const targets = [N, 0, 8192, 8191, 8193];
      let p = 0;
      for (let i = 0; i < 24; i++) {
        const r = rnd();
        p = r < 0.5 ? Math.floor(rnd() * (N + 1)) : Math.max(0, Math.min(N, p + Math.floor((rnd() - 0.5) * 6000)));
        targets.push(p);
      }
      for (const t of targets) {
        const heap = tl.seek(t);
        expect(tl.position).toBe(t);
        expectSame(heap, freshAt(options, log, t), `${name} at ${t}`);
      }
    });
  }

  it('steps back and forward one operation at a time through fine checkpoints', () => {
    const options: ReplayHeapOptions = { python: '3.11', aslrSeed: 5 };
    const log = makeLog(options, N, 3);
    const tl = new Timeline(log, () => createReplayHeap(options), { interval: 16384, fineInterval: 256, fineSpan: 2048 });
    tl.sync();
    const start = 150_003;
    tl.seek(start);
    // A reference heap for every position from start - 3000 to start, one snapshot each 100.
    const ref = createReplayHeap(options);
    replayLog(ref, log, 0, start - 3000);
    const expected = new Map<number, string>();
    for (let q = start - 3000; q <= start; q++) {
      if (q % 100 === 0 || q >= start - 5) expected.set(q, formatSummary(ref, true));
      if (q < start) replayLog(ref, log, q, q + 1);
    }
    for (let q = start - 1; q >= start - 3000; q--) {
      const heap = tl.step(-1);
      expect(tl.position).toBe(q);
      const want = expected.get(q);
      if (want !== undefined) expect(formatSummary(heap, true), `at ${q}`).toBe(want);
    }
    // The fine checkpoints lie on multiples of 256 within the span before where stepping began.
    const fine = tl.finePositions();
    expect(fine.length).toBeGreaterThan(0);
    for (const f of fine) {
      expect(f % 256).toBe(0);
      expect(f).toBeGreaterThan(147_003 - 2048 - 256);
      expect(f).toBeLessThanOrEqual(start);
    }
    // The first step back, to 150002, made fine checkpoints at 147968 .. 149760 (the 2048 before).
    expect(fine).toContain(147_968);
    expect(fine).toContain(149_760);
    for (let q = start - 2999; q <= start; q++) {
      const heap = tl.step(+1);
      expect(tl.position).toBe(q);
      const want = expected.get(q);
      if (want !== undefined) expect(formatSummary(heap, true), `forward at ${q}`).toBe(want);
    }
    // Stepping at the ends stays there.
    expect(tl.seek(0) && tl.step(-1) && tl.position).toBe(0);
    tl.seek(N);
    tl.step(+1);
    expect(tl.position).toBe(N);
  });

  it('keeps the checkpoints within the budget by thinning them, and still seeks exactly', () => {
    const options: ReplayHeapOptions = { python: '3.7' };
    const log = makeLog(options, N, 4);
    const budget = 3 * 1024 * 1024;
    const tl = new Timeline(log, () => createReplayHeap(options), { budgetBytes: budget, interval: 1024 });
    tl.sync();
    const s = tl.stats();
    expect(s.thinnings).toBeGreaterThan(0);
    expect(s.interval).toBe(1024 * 2 ** s.thinnings);
    expect(s.coarseBytes).toBeLessThanOrEqual(budget * 0.75);
    expect(tl.checkpointBytes).toBeLessThanOrEqual(budget);
    // Evenly spaced: every multiple of the interval up to the end, no other position.
    expect(tl.coarsePositions()).toEqual(Array.from({ length: Math.floor(N / s.interval) + 1 }, (_, i) => i * s.interval));
    // Stepping back builds fine checkpoints, within their share.
    tl.seek(123_457);
    for (let i = 0; i < 2000; i++) tl.step(-1);
    expect(tl.stats().fineCount).toBeGreaterThan(0);
    expect(tl.stats().fineBytes).toBeLessThanOrEqual(budget * 0.25);
    expect(tl.checkpointBytes).toBeLessThanOrEqual(budget);
    expectSame(tl.seek(121_457), freshAt(options, log, 121_457), 'after stepping');
    for (const p of [199_999, 5, 77_777]) expectSame(tl.seek(p), freshAt(options, log, p), `at ${p}`);
  });

  it('catches up with a growing log in slices, and seeks past what it has synced', () => {
    const options: ReplayHeapOptions = { python: '3.9', arenaOffsets: [0, 8192, 4096] };
    const log = new OpLog();
    const rec = new RecordingAllocator(createReplayHeap(options), log);
    const live: number[] = [];
    const raw: number[] = [];
    const tl = new Timeline(log, () => createReplayHeap(options), { interval: 5000 });
    record(rec, 12_000, 5, live, raw);
    expect(tl.sync(7000)).toBe(5000);
    expect(tl.synced).toBe(7000);
    expect(tl.coarsePositions()).toEqual([0, 5000]);
    // Seeking beyond the synced part replays from the last checkpoint.
    expectSame(tl.seek(11_000), freshAt(options, log, 11_000), 'unsynced');
    expect(tl.sync()).toBe(0);
    record(rec, 9_000, 6, live, raw);
    expect(tl.sync()).toBe(0);
    expect(tl.coarsePositions()).toEqual([0, 5000, 10_000, 15_000, 20_000]);
    expectSame(tl.seek(21_000), rec.heap, 'end of a grown log');
    expectSame(tl.seek(14_999), freshAt(options, log, 14_999), 'middle');
  });

  it('truncates: a rolled-back log grows again with other operations', () => {
    const options: ReplayHeapOptions = { python: '3.12', aslrSeed: 9 };
    const log = new OpLog();
    const rec = new RecordingAllocator(createReplayHeap(options), log);
    record(rec, 60_000, 7);
    const tl = new Timeline(log, () => createReplayHeap(options), { interval: 4096 });
    tl.sync();
    tl.seek(55_000);
    const before41 = formatSummary(tl.seek(41_000), true);
    tl.seek(50_000);
    // A run failed after 41000 operations: the live heap goes back, the log and timeline too.
    const n = 41_000;
    copyHeapInto(tl.seek(n), rec.heap);
    log.truncate(n);
    tl.truncate(n);
    expect(tl.position).toBe(n);
    expect(tl.synced).toBe(40_960);
    expect(Math.max(...tl.coarsePositions())).toBe(40_960);
    expect(tl.finePositions().every((f) => f <= n)).toBe(true);
    tl.truncate(40_000);
    expect(tl.position).toBe(-1);
    expect(tl.synced).toBe(36_864);
    // Other operations after the truncation point.
    record(rec, 30_000, 8);
    expect(log.length).toBe(71_000);
    tl.sync();
    expect(tl.synced).toBe(71_000);
    expect(formatSummary(tl.seek(n), true)).toBe(before41);
    for (const p of [70_999, 41_001, 45_000, 71_000, 40_999, 60_123]) {
      expectSame(tl.seek(p), freshAt(options, log, p), `after truncate, at ${p}`);
    }
    expectSame(tl.seek(71_000), rec.heap, 'the live heap');
    // A log truncated behind the timeline's back is noticed by sync.
    log.truncate(50_000);
    expect(tl.sync()).toBe(0);
    expect(tl.synced).toBe(50_000);
    expect(tl.position).toBe(-1);
    expect(Math.max(...tl.coarsePositions())).toBe(49_152);
    expectSame(tl.seek(50_000), freshAt(options, log, 50_000), 'after a silent truncate');
  });

  it('rejects positions outside the log', () => {
    const log = makeLog({ python: '3.10' }, 100, 1);
    const tl = new Timeline(log, () => createReplayHeap({ python: '3.10' }));
    expect(() => tl.seek(101)).toThrow(RangeError);
    expect(() => tl.seek(-1)).toThrow(RangeError);
    expect(() => tl.seek(1.5)).toThrow(RangeError);
    expect(tl.position).toBe(-1);
    expect(formatSummary(tl.seek(100), true)).toBe(formatSummary(freshAt({ python: '3.10' }, log, 100), true));
  });
});
