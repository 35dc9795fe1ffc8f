/**
 * Differential tests of the glibc malloc model: the current src/core/raw/glibc-malloc.ts (state
 * in typed arrays) against glibc-malloc-reference.ts (the Map-based implementation it replaced,
 * kept verbatim). Both run the same long random calls on address spaces of their own; every
 * returned address, every error message, the stats along the way and the final chunk list and
 * mappings must be identical. Digests of the reference's results pin the workloads themselves.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, FIXED_LAYOUT, type AddressSpaceOptions, mulberry32, randomizedLayout } from '../../src/core/raw/address-space';
import { GlibcMalloc, IntTable } from '../../src/core/raw/glibc-malloc';
import { GlibcMalloc as ReferenceMalloc } from './glibc-malloc-reference';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

type Model = GlibcMalloc | ReferenceMalloc;

/** The two models side by side; `call` runs one call on both and records any difference. */
class Pair {
  readonly refSpace: AddressSpace;
  readonly curSpace: AddressSpace;
  readonly ref: ReferenceMalloc;
  readonly cur: GlibcMalloc;
  readonly diffs: string[] = [];
  calls = 0;
  errors = 0;
  /** FNV-style digest of every result (address, or the error message's length). */
  digest = 0x811c9dc5;

  constructor(layout: AddressSpaceOptions, memoryLimit?: number) {
    this.refSpace = new AddressSpace(layout);
    this.curSpace = new AddressSpace(layout);
    const options = memoryLimit === undefined ? {} : { memoryLimit };
    this.ref = new ReferenceMalloc(this.refSpace, options);
    this.cur = new GlibcMalloc(this.curSpace, options);
  }

  call(what: string, f: (m: Model) => number | void): number {
    this.calls++;
    const run = (m: Model): [number, string | null] => {
      try {
        return [f(m) ?? 0, null];
      } catch (e) {
        return [-1, (e as Error).message];
      }
    };
    const [a, ea] = run(this.ref);
    const [b, eb] = run(this.cur);
    if (a !== b || ea !== eb) this.diffs.push(`call ${this.calls} ${what}: reference ${ea ?? a}, new ${eb ?? b}`);
    if (ea !== null) this.errors++;
    const x = ea === null ? a : -ea.length;
    this.digest = Math.imul(this.digest ^ (x % 2 ** 32 | 0), 0x01000193) >>> 0;
    this.digest = Math.imul(this.digest ^ Math.floor(x / 2 ** 32), 0x01000193) >>> 0;
    return a;
  }

  /** The stats, brk and mapped bytes of both (a difference is recorded). */
  compareStats(): void {
    const a = JSON.stringify([this.ref.stats(), this.ref.liveBlocks, this.refSpace.brk, this.refSpace.mappedBytes]);
    const b = JSON.stringify([this.cur.stats(), this.cur.liveBlocks, this.curSpace.brk, this.curSpace.mappedBytes]);
    if (a !== b) this.diffs.push(`after call ${this.calls}: stats ${a} vs ${b}`);
  }

  /**
   * chunkAt of `n` random addresses in and around the heap and the mappings (after the
   * invariant check: a walk of a corrupt heap may not end).
   */
  compareChunkAt(rnd: () => number, n: number): void {
    this.cur.checkInvariants();
    const maps = this.refSpace.mappings();
    for (let i = 0; i < n; i++) {
      let a: number;
      if (i % 2 === 0 || maps.length === 0) {
        a = this.refSpace.brkStart - 64 + Math.floor(rnd() * (this.refSpace.brk - this.refSpace.brkStart + 128));
      } else {
        const m = maps[Math.floor(rnd() * maps.length)]!;
        a = m.start + Math.floor(rnd() * m.length);
      }
      const x = JSON.stringify(this.ref.chunkAt(a));
      const y = JSON.stringify(this.cur.chunkAt(a));
      if (x !== y) this.diffs.push(`after call ${this.calls}: chunkAt(${a}) ${x} vs ${y}`);
    }
  }

  /** Everything observable at the end: every chunk, the mappings, the stats. */
  compareAll(): void {
    this.compareStats();
    expect([...this.cur.chunks()]).toEqual([...this.ref.chunks()]);
    expect(this.curSpace.mappings()).toEqual(this.refSpace.mappings());
    this.cur.checkInvariants();
  }
}

/** Request sizes 1..1,000,000 bytes: tcache, fastbin, small and large bin sizes and mmapped ones. */
function sizePicker(rnd: () => number): () => number {
  return () => {
    const k = rnd();
    if (k < 0.35) return 1 + Math.floor(rnd() * 120); // fastbin chunks
    if (k < 0.65) return 1 + Math.floor(rnd() * 1100); // tcache sizes and just above
    if (k < 0.9) return 1 + Math.floor(rnd() * 65536);
    return 1 + Math.floor(rnd() * 1_000_000);
  };
}

/**
 * `n` random calls: malloc, calloc, realloc (to NULL, to 0, to any size), free, usableSize,
 * and now and then a double free or a free of an address inside a block. The live set grows to
 * `maxLive`, then shrinks to a tenth of it, and so on, so chunks come and go in numbers (the
 * tables grow and shrink, bins fill and empty, brk is trimmed).
 */
function randomRun(pair: Pair, seed: number, n: number, maxLive: number): void {
  const rnd = mulberry32(seed);
  const size = sizePicker(rnd);
  const live: number[] = [];
  const dead: number[] = [];
  let growing = true;
  const takeLive = (): number => {
    const j = Math.floor(rnd() * live.length);
    const p = live[j]!;
    live[j] = live[live.length - 1]!;
    live.pop();
    return p;
  };
  for (let i = 0; i < n; i++) {
    if (live.length >= maxLive) growing = false;
    else if (live.length <= maxLive / 10) growing = true;
    const r = rnd();
    const pAlloc = growing ? 0.6 : 0.3;
    if (live.length === 0 || r < pAlloc * 0.8) {
      const s = size();
      const p = pair.call(`malloc(${s})`, (m) => m.malloc(s));
      if (p > 0) live.push(p);
    } else if (r < pAlloc) {
      const k = 1 + Math.floor(rnd() * 8);
      const s = Math.ceil(size() / k);
      const p = pair.call(`calloc(${k}, ${s})`, (m) => m.calloc(k, s));
      if (p > 0) live.push(p);
    } else if (r < pAlloc + 0.15) {
      const p = takeLive();
      const t = rnd();
      const s = t < 0.03 ? 0 : size();
      const q = pair.call(`realloc(${p}, ${s})`, (m) => m.realloc(p, s));
      if (q > 0) live.push(q);
      else if (s === 0) dead.push(p);
      else if (q === 0) live.push(p); // failed: the old block stays
    } else if (r < pAlloc + 0.16) {
      const s = size();
      const p = pair.call(`realloc(0, ${s})`, (m) => m.realloc(0, s));
      if (p > 0) live.push(p);
    } else if (r < pAlloc + 0.17) {
      const p = live[Math.floor(rnd() * live.length)]!;
      pair.call(`usableSize(${p})`, (m) => m.usableSize(p));
    } else if (r < pAlloc + 0.175 && dead.length > 0) {
      // A double free (or a free of what now sits there: then it is live again, skip it).
      const p = dead[Math.floor(rnd() * dead.length)]!;
      if (!live.includes(p)) pair.call(`double free(${p})`, (m) => m.free(p));
    } else if (r < pAlloc + 0.18) {
      const p = live[Math.floor(rnd() * live.length)]! + 16 * (1 + Math.floor(rnd() * 3));
      if (!live.includes(p)) pair.call(`free(${p}) inside a block`, (m) => m.free(p));
    } else {
      const p = takeLive();
      pair.call(`free(${p})`, (m) => m.free(p));
      if (dead.length < 64) dead.push(p);
      else dead[Math.floor(rnd() * 64)] = p;
    }
    if (i % 997 === 0) {
      pair.compareStats();
      pair.compareChunkAt(rnd, 8);
    }
    if (pair.diffs.length > 0) break;
  }
  // And everything freed again.
  while (live.length > 0 && pair.diffs.length === 0) {
    const p = takeLive();
    pair.call(`free(${p})`, (m) => m.free(p));
  }
}

/** Frees of many chunks of one size between live neighbours: one big heap in the bin index. */
function sameSizeRun(pair: Pair, count: number): void {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < count; i++) {
    a.push(pair.call('malloc(200)', (m) => m.malloc(200)));
    b.push(pair.call('malloc(40)', (m) => m.malloc(40)));
  }
  // Free in a scrambled order, then take them back (lowest address first, after the tcache).
  const rnd = mulberry32(5);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  for (const p of a) pair.call(`free(${p})`, (m) => m.free(p));
  pair.compareStats();
  for (let i = 0; i < count; i++) pair.call('malloc(200)', (m) => m.malloc(200));
  pair.compareStats();
  for (const p of b) pair.call(`free(${p})`, (m) => m.free(p));
}

describe('the typed-array glibc model against the Map-based reference', () => {
  it('returns the same address for every call of 300k random ones, sizes 1..1,000,000 (fixed layout)', () => {
    const pair = new Pair(FIXED_LAYOUT);
    randomRun(pair, 2024, 300_000, 20_000);
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    pair.compareAll();
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    // The workload itself, pinned (from the reference): a changed generator must be noticed.
    expect([pair.calls, pair.errors, pair.digest]).toEqual([314_107, 2_417, 2_737_923_809]);
    const st = pair.ref.stats();
    expect([st.heapBytes, st.freeChunks, st.binChunks, st.mmapThreshold]).toEqual([1_189_916_672, 878, 430, 1_003_520]);
  });

  it('does so with ASLR, a memory limit (failing sbrk and mmap) and many chunks of one size', () => {
    const pair = new Pair(randomizedLayout(77), 64 * MiB);
    sameSizeRun(pair, 12_000);
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    randomRun(pair, 99, 120_000, 6_000);
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    sameSizeRun(pair, 5_000);
    pair.compareAll();
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    expect([pair.calls, pair.errors, pair.digest]).toEqual([206_569, 984, 1_824_885_741]);
    const st = pair.ref.stats();
    expect([st.inUseChunks, st.fastbinChunks, st.binChunks, st.heapBytes]).toEqual([16_995, 5_000, 7_360, 67_031_040]);
  });

  it('does so past 32-bit table entries: a 66 GiB brk heap, an 18.7 GiB free chunk, a 16 TiB mapping', () => {
    const pair = new Pair(FIXED_LAYOUT);
    // Free a 32 MiB mmapped chunk: mmap_threshold rises to ~32 MiB, so 32 MiB blocks come from brk.
    const big = pair.call('malloc(32 MiB - 8 KiB)', (m) => m.malloc(32 * MiB - 8 * KiB));
    pair.call('free', (m) => m.free(big));
    const blocks: number[] = [];
    for (let i = 0; i < 2112; i++) blocks.push(pair.call('malloc(32 MiB - 12 KiB)', (m) => m.malloc(32 * MiB - 12 * KiB)));
    expect(pair.curSpace.brk - pair.curSpace.brkStart).toBeGreaterThan(64 * GiB);
    // 600 neighbours freed: one bin chunk of 18.7 GiB (size * 4 + state does not fit 32 bits).
    for (let i = 1000; i < 1600; i++) pair.call('free', (m) => m.free(blocks[i]!));
    // Chunks past 64 GiB (their offsets in units do not fit 32 bits) freed every other one.
    for (let i = 2060; i < 2110; i += 2) pair.call('free', (m) => m.free(blocks[i]!));
    pair.compareStats();
    // Splits of the huge chunk, reallocs into free neighbours, a 16 TiB mapping.
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push(pair.call('malloc(1 GiB)', (m) => m.malloc(GiB)));
    got.push(pair.call('realloc(grow into the freed neighbour)', (m) => m.realloc(blocks[2061]!, 60 * MiB)));
    const huge = pair.call('malloc(16 TiB)', (m) => m.malloc(16 * 1024 * GiB));
    pair.compareChunkAt(mulberry32(3), 400);
    pair.compareAll();
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    // These did go to the tables' wide Maps (the typed arrays hold 32-bit words).
    const cur = pair.cur as unknown as { meta: IntTable; foot: IntTable; mmapped: IntTable };
    expect([cur.meta.wide.size > 0, cur.foot.wide.size > 0, cur.mmapped.wide.size]).toEqual([true, true, 1]);
    expect(pair.curSpace.mmapBase - huge).toBe(17_594_333_540_336); // 16 TiB + a page, + 16
    // 1 GiB pieces split off the free chunk (18 fit), two mmapped ones, the realloc grown in place.
    expect(got.map((p) => p - pair.curSpace.brkStart)).toEqual([
      33542160016, 34615901856, 35689643696, 36763385536, 37837127376, 38910869216, 39984611056, 41058352896,
      42132094736, 43205836576, 44279578416, 45353320256, 46427062096, 47500803936, 48574545776, 49648287616,
      50722029456, 51795771296, 46911288004624, 46910214258704, 69130391776,
    ]);
    expect(got[20]).toBe(blocks[2061]);
    for (const p of [...blocks.slice(0, 1000), ...blocks.slice(1600, 2060), blocks[2110]!, huge]) pair.call('free', (m) => m.free(p));
    for (let i = 2063; i < 2112; i += 2) pair.call('free', (m) => m.free(blocks[i]!)); // (2061 is in `got`)
    for (const p of got) pair.call('free', (m) => m.free(p));
    pair.compareAll();
    expect(pair.diffs.slice(0, 5)).toEqual([]);
    expect(pair.cur.stats()).toMatchObject({ inUseChunks: 0, mmappedChunks: 0 });
    expect([cur.meta.wide.size, cur.foot.wide.size, cur.mmapped.wide.size]).toEqual([0, 0, 0]);
  });
});

describe('IntTable', () => {
  it('is a Map of integers: random sets and deletes of narrow and wide keys and values', () => {
    const t = new IntTable();
    const m = new Map<number, number>();
    const keys: number[] = [];
    const rnd = mulberry32(8);
    const key = (): number => {
      const k = rnd();
      if (k < 0.9) return Math.floor(rnd() * 50_000) * 3; // strided, like chunk starts
      if (k < 0.95) return 0xffff_fffe + Math.floor(rnd() * 4); // around the narrow limit
      return 2 ** 40 + Math.floor(rnd() * 1000);
    };
    let maxBits = 0;
    let maxWide = 0;
    let minBitsAfterMax = 99;
    for (let i = 0; i < 200_000; i++) {
      // Grow to ~35k entries, empty it, again: the table rehashes both ways.
      const growing = Math.floor(i / 50_000) % 2 === 0;
      if (growing ? rnd() < 0.8 : rnd() < 0.02) {
        const k = key();
        const v = rnd() < 0.05 ? 2 ** 32 + Math.floor(rnd() * 10) : Math.floor(rnd() * 2 ** 32);
        if (!m.has(k)) keys.push(k);
        t.set(k, v);
        m.set(k, v);
      } else if (keys.length > 0 && rnd() < 0.9) {
        const j = Math.floor(rnd() * keys.length);
        const k = keys[j]!;
        keys[j] = keys[keys.length - 1]!;
        keys.pop();
        expect(t.delete(k)).toBe(true);
        m.delete(k);
      } else {
        const k = key();
        expect(t.delete(k)).toBe(m.delete(k));
        if (keys.includes(k)) keys.splice(keys.indexOf(k), 1);
      }
      if (i % 1000 === 0) {
        expect(t.check()).toBeNull();
        expect(t.size).toBe(m.size);
      }
      if (t.bits > maxBits) {
        maxBits = t.bits;
        minBitsAfterMax = t.bits;
      }
      minBitsAfterMax = Math.min(minBitsAfterMax, t.bits);
      maxWide = Math.max(maxWide, t.wide.size);
      const q = key();
      if (t.get(q) !== (m.get(q) ?? -1)) throw new Error(`get(${q}) at ${i}`);
    }
    expect(t.check()).toBeNull();
    const seen = new Map<number, number>();
    t.forEach((k, v) => seen.set(k, v));
    expect(new Map([...seen].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...m].sort((a, b) => a[0] - b[0])));
    expect(t.get(0.5)).toBe(-1);
    expect(t.get(-1)).toBe(-1);
    // It grew to 2^16 slots for ~35k entries and shrank back when emptied.
    expect([maxBits, minBitsAfterMax, t.size]).toEqual([15, 4, 0]);
    expect(maxWide).toBe(1_695);
  });
});
