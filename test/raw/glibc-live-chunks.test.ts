/**
 * GlibcMalloc.liveChunks: the chunks the program owns (what the heap map draws in its raw
 * region), in address order, with glibc's chunk addresses and sizes; free chunks in the tcache,
 * the fastbins, the bins and top are left out.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, FIXED_LAYOUT, mulberry32 } from '../../src/core/raw/address-space';
import { GlibcMalloc } from '../../src/core/raw/glibc-malloc';

const B = FIXED_LAYOUT.brkStart;
const TOP = FIXED_LAYOUT.mmapBase;

function lists(m: GlibcMalloc): { chunk: number[]; size: number[]; mmapped: number[] } {
  const l = m.liveChunks();
  return { chunk: Array.from(l.chunk), size: Array.from(l.size), mmapped: Array.from(l.mmapped) };
}

describe('GlibcMalloc.liveChunks', () => {
  it('is empty before the first malloc and after everything is freed', () => {
    const m = new GlibcMalloc(new AddressSpace());
    expect(lists(m)).toEqual({ chunk: [], size: [], mmapped: [] });
    const p = m.malloc(5000);
    m.free(p);
    expect(lists(m)).toEqual({ chunk: [], size: [], mmapped: [] });
  });

  it('lists in-use brk chunks, then mmapped chunks, by address; not tcache, fastbin, bin or top chunks', () => {
    const m = new GlibcMalloc(new AddressSpace());
    const a = m.malloc(24); // chunk B, 32 bytes
    const b = m.malloc(100); // B + 32, request2size(100) = 112
    const c = m.malloc(40); // B + 144, 48
    const small = Array.from({ length: 9 }, () => m.malloc(24)); // B + 192 .. B + 448, 32 each
    const big1 = m.malloc(2000); // B + 480, 2016
    const big2 = m.malloc(2000); // B + 2496, 2016
    // 200 KiB: top cannot serve it, and it is past mmap_threshold: a mapping of
    // ALIGN_UP(204816 + 8, 4096) = 0x33000 bytes just below mmapBase. Then 300 KiB below that:
    // ALIGN_UP(307216 + 8, 4096) = 0x4c000.
    const d = m.malloc(200 * 1024);
    const e = m.malloc(300 * 1024);
    expect([a, b, c, small[0], small[8], big1, big2].map((p) => p! - 16 - B)).toEqual([0, 32, 144, 192, 448, 480, 2496]);
    expect([d - 16, e - 16]).toEqual([TOP - 0x33000, TOP - 0x33000 - 0x4c000]);
    m.free(b); // tcache (112 bytes)
    for (const p of small) m.free(p); // 7 to the tcache, 2 to the fastbin of 32
    m.free(big1); // 2016 > tcache's largest: the bins (its neighbours are in use)
    const s = m.stats();
    expect([s.tcacheChunks, s.fastbinChunks, s.binChunks]).toEqual([8, 2, 1]);
    expect(lists(m)).toEqual({
      chunk: [B, B + 144, B + 2496, TOP - 0x33000 - 0x4c000, TOP - 0x33000],
      size: [32, 48, 2016, 0x4c000, 0x33000],
      mmapped: [0, 0, 0, 1, 1],
    });
    expect(m.liveChunks().chunk.length).toBe(m.liveBlocks);
  });

  it('agrees with the in-use chunks of the full walk over a random run', () => {
    const m = new GlibcMalloc(new AddressSpace());
    const rnd = mulberry32(11);
    const live: number[] = [];
    for (let i = 0; i < 4000; i++) {
      if (live.length > 0 && rnd() < 0.45) {
        const j = Math.floor(rnd() * live.length);
        m.free(live[j]!);
        live[j] = live[live.length - 1]!;
        live.pop();
      } else {
        const r = rnd();
        // Past 32 MiB a request is always mmapped (the dynamic threshold stops there).
        const size = r < 0.7 ? Math.floor(rnd() * 200) : r < 0.99 ? Math.floor(rnd() * 8000) : 33 * 1024 * 1024 + Math.floor(rnd() * 400_000);
        const p = m.malloc(size);
        if (p !== 0) live.push(p);
      }
    }
    const walk = [...m.chunks()].filter((c) => c.inUse);
    const l = lists(m);
    expect(l.chunk).toEqual(walk.map((c) => c.chunk));
    expect(l.size).toEqual(walk.map((c) => c.size));
    expect(l.mmapped).toEqual(walk.map((c) => (c.mmapped ? 1 : 0)));
    // Every live user pointer is chunk + 16 of exactly one listed chunk.
    expect([...live].sort((x, y) => x - y)).toEqual(l.chunk.map((c) => c + 16));
    expect(l.mmapped.filter((x) => x === 1).length).toBeGreaterThan(0);
  });
});
