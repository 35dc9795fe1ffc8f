import { describe, expect, it } from 'vitest';
import { checkHeap } from '../../src/core/pymalloc/check';
import type { PymallocHeap } from '../../src/core/pymalloc/heap';
import { mulberry32 } from '../../src/core/raw/address-space';
import type { GlibcMalloc } from '../../src/core/raw/glibc-malloc';
import { createReplayHeap, formatSummary, type ReplayHeapOptions } from '../../src/core/trace/replay';
import { copyHeapInto, restoreHeap, snapshotHeap } from '../../src/core/trace/snapshot';

/** Random allocator calls on a heap, reproducible from a seed; returns every result. */
class Driver {
  /** The heap the calls go to (a test may move the driver to a copy of it). */
  heap: PymallocHeap;
  private readonly rnd: () => number;
  private readonly live: number[] = [];
  private readonly raw: number[] = [];

  constructor(heap: PymallocHeap, seed: number) {
    this.heap = heap;
    this.rnd = mulberry32(seed);
  }

  run(n: number): number[] {
    const out: number[] = [];
    const { heap, rnd, live, raw } = this;
    for (let i = 0; i < n; i++) {
      const r = rnd();
      const size = 1 + Math.floor(rnd() * 600);
      let h = 0;
      if (live.length === 0 || r < 0.45) {
        h = heap.malloc(size);
        if (h !== 0) live.push(h);
      } else if (r < 0.5) {
        h = heap.calloc(1 + Math.floor(rnd() * 4), size >> 2);
        if (h !== 0) live.push(h);
      } else if (r < 0.58) {
        const j = Math.floor(rnd() * live.length);
        h = heap.realloc(live[j]!, size);
        if (h !== 0) live[j] = h;
      } else if (r < 0.6) {
        // Raw domain, now and then big enough to be mmapped by glibc.
        h = heap.raw.malloc(rnd() < 0.1 ? 200_000 + size * 1000 : size * 4);
        if (h !== 0) raw.push(h);
      } else if (r < 0.62 && raw.length > 0) {
        const j = Math.floor(rnd() * raw.length);
        heap.raw.free(raw[j]!);
        raw[j] = raw[raw.length - 1]!;
        raw.pop();
      } else {
        const j = Math.floor(rnd() * live.length);
        heap.free(live[j]!);
        live[j] = live[live.length - 1]!;
        live.pop();
      }
      out.push(h);
    }
    return out;
  }
}

const CONFIGS: [string, ReplayHeapOptions][] = [
  ['3.7, offsets 0', { python: '3.7' }],
  ['3.13, offsets 0,4096', { python: '3.13', arenaOffsets: [0, 4096] }],
  ['3.8, aslr', { python: '3.8', aslrSeed: 7 }],
  ['3.13, aslr', { python: '3.13', aslrSeed: 11 }],
];

function rawOf(heap: PymallocHeap): GlibcMalloc {
  return heap.raw as GlibcMalloc;
}

function sumTypedArrayBytes(root: object): number {
  const seen = new Set<object>();
  let bytes = 0;
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v) || Object.isFrozen(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      bytes += v.byteLength;
      return;
    }
    if (v instanceof Map) for (const [k, x] of v) (walk(k), walk(x));
    else if (v instanceof Set) for (const k of v) walk(k);
    else for (const x of Object.values(v)) walk(x);
  };
  walk(root);
  return bytes;
}

describe('heap snapshots', () => {
  for (const [name, options] of CONFIGS) {
    it(`a restored heap continues exactly like the original (${name})`, () => {
      const heap = createReplayHeap(options);
      const drive = new Driver(heap, 1);
      drive.run(30_000);
      const atSnap = formatSummary(heap, true);
      const snap = snapshotHeap(heap);
      // Restore into a heap that has seen other work (its arrays are of other lengths).
      const other = createReplayHeap(options);
      new Driver(other, 99).run(5000);
      const copy = restoreHeap(snap, other);
      expect(copy).toBe(other);
      expect(formatSummary(copy, true)).toBe(atSnap);
      // The shared address space stays shared, and is the target's own, not the snapshot's.
      const space = rawOf(copy).space;
      expect((copy.arenaSource as unknown as { space: unknown }).space).toBe(space);
      expect(space).not.toBe(rawOf(heap).space);

      // A second driver with the same seed, run as far on a scratch heap, then moved to the copy.
      const twin = new Driver(createReplayHeap(options), 1);
      twin.run(30_000);
      twin.heap = copy;
      const a = drive.run(20_000);
      const c = twin.run(20_000);
      expect(c.length).toBe(20_000);
      expect(c).toEqual(a);
      expect(formatSummary(copy, true)).toBe(formatSummary(heap, true));
      expect(rawOf(copy).stats()).toEqual(rawOf(heap).stats());
      expect(checkHeap(copy)).toEqual([]);
      rawOf(copy).checkInvariants();
      // One more call of each kind returns the same handle or address.
      expect(copy.malloc(40)).toBe(heap.malloc(40));
      expect(copy.malloc(5000)).toBe(heap.malloc(5000));
      expect(copy.raw.malloc(300_000)).toBe(heap.raw.malloc(300_000));
    });
  }

  it('a snapshot shares nothing mutable with the heap it came from or the heaps restored from it', () => {
    const options: ReplayHeapOptions = { python: '3.11', aslrSeed: 3 };
    const heap = createReplayHeap(options);
    new Driver(heap, 5).run(20_000);
    const before = formatSummary(heap, true);
    const snap = snapshotHeap(heap);
    // Mutating the original does not change the snapshot.
    new Driver(heap, 6).run(20_000);
    const after = formatSummary(heap, true);
    expect(after).not.toBe(before);
    const r1 = restoreHeap(snap, createReplayHeap(options));
    expect(formatSummary(r1, true)).toBe(before);
    // Mutating a restored heap changes neither the snapshot, nor the original, nor another restore.
    const r2 = restoreHeap(snap, createReplayHeap(options));
    new Driver(r1, 8).run(20_000);
    expect(formatSummary(heap, true)).toBe(after);
    expect(formatSummary(r2, true)).toBe(before);
    expect(formatSummary(restoreHeap(snap, createReplayHeap(options)), true)).toBe(before);
    // Restoring into the same target again (the reuse path) gives the snapshot state back.
    expect(formatSummary(restoreHeap(snap, r1), true)).toBe(before);
    expect(r1.links).not.toBe(heap.links);
    expect(r1.ref).not.toBe(r2.ref);
  });

  it('copyHeapInto keeps the target objects (raw allocator, address space) and their identity', () => {
    const options: ReplayHeapOptions = { python: '3.12' };
    const heap = createReplayHeap(options);
    new Driver(heap, 9).run(10_000);
    const live = createReplayHeap(options);
    const raw = live.raw;
    const space = rawOf(live).space;
    copyHeapInto(heap, live);
    expect(live.raw).toBe(raw);
    expect(rawOf(live).space).toBe(space);
    expect(formatSummary(live, true)).toBe(formatSummary(heap, true));
    expect(live.malloc(100)).toBe(heap.malloc(100));
  });

  it('counts the bytes it holds: every typed array, plus the objects, in one estimate', () => {
    const heap = createReplayHeap({ python: '3.7' });
    const fresh = snapshotHeap(heap).bytes;
    const arrays = sumTypedArrayBytes(heap);
    expect(fresh).toBeGreaterThanOrEqual(arrays);
    expect(fresh).toBeLessThan(arrays + 64 * 1024);
    const live: number[] = [];
    for (let i = 0; i < 100_000; i++) live.push(heap.malloc(8 + (i % 64) * 8));
    const big = snapshotHeap(heap).bytes;
    const arrays2 = sumTypedArrayBytes(heap);
    // 100k blocks of 3.7 fill ~440 pools of 4 KiB: the pool and link arrays dominate.
    expect(arrays2).toBeGreaterThan(300_000);
    expect(big).toBeGreaterThanOrEqual(arrays2);
    // poolByPage (page -> pool id for every pool of a live arena) is packed: 16 bytes an entry.
    const pages = 64 * heap.narenasCurrentlyAllocated;
    expect(big).toBeLessThan(arrays2 + pages * 16 + 64 * 1024);
  });

  it('refuses state it cannot copy faithfully', () => {
    const heap = createReplayHeap({ python: '3.13' });
    (heap as unknown as { extra: unknown }).extra = new Int32Array(new ArrayBuffer(64), 16, 4);
    expect(() => snapshotHeap(heap)).toThrow(/view of a larger buffer/);
  });
});
