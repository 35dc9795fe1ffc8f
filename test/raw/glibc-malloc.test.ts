/**
 * The glibc 2.36 malloc model: exact addresses and sizes in the situations where the model
 * follows glibc, and a seeded random run with a consistency walk of the whole heap.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, FIXED_LAYOUT, PAGE_SIZE, mulberry32 } from '../../src/core/raw/address-space';
import { GlibcMalloc, request2size } from '../../src/core/raw/glibc-malloc';

const B = FIXED_LAYOUT.brkStart;
const TOP = FIXED_LAYOUT.mmapBase;
const KiB = 1024;
const MiB = 1024 * 1024;

function fresh(memoryLimit?: number): { m: GlibcMalloc; space: AddressSpace } {
  const space = new AddressSpace();
  const m = memoryLimit === undefined ? new GlibcMalloc(space) : new GlibcMalloc(space, { memoryLimit });
  return { m, space };
}

function sizeOf(m: GlibcMalloc, p: number): number {
  return m.chunkAt(p)!.size;
}

describe('chunk geometry', () => {
  it('request2size matches glibc at the boundaries', () => {
    expect(request2size(0)).toBe(32);
    expect(request2size(24)).toBe(32);
    expect(request2size(25)).toBe(48);
    expect(request2size(40)).toBe(48);
    expect(request2size(41)).toBe(64);
    expect(request2size(1032)).toBe(1040);
    expect(request2size(1033)).toBe(1056);
  });

  it('the first malloc extends brk by 132 KiB and returns brkStart + 16', () => {
    const { m, space } = fresh();
    const p = m.malloc(1);
    expect(p).toBe(B + 16);
    expect(m.chunkAt(p)).toEqual({ chunk: B, size: 32, inUse: true, mmapped: false, prevInUse: true, bin: null });
    // sysmalloc: ALIGN_UP(32 + top_pad 131072 + MINSIZE 32, 4096) = 0x21000
    expect(space.brk).toBe(B + 0x21000);
    const s = m.stats();
    expect(s.heapBytes).toBe(0x21000);
    expect(s.topSize).toBe(0x21000 - 32);
    expect(m.chunkAt(B + 32)).toEqual({ chunk: B + 32, size: 0x21000 - 32, inUse: false, mmapped: false, prevInUse: true, bin: 'top' });
    expect(m.liveBlocks).toBe(1);
  });

  it('consecutive mallocs are adjacent, 16-aligned, at their chunk sizes', () => {
    const { m } = fresh();
    const a = m.malloc(0);
    const b = m.malloc(24);
    const c = m.malloc(25);
    const d = m.malloc(41);
    const e = m.malloc(1000);
    const f = m.malloc(1);
    expect([a, b, c, d, e, f].map((p) => p - B)).toEqual([16, 48, 80, 128, 192, 1200]);
    expect([a, b, c, d, e].map((p) => sizeOf(m, p))).toEqual([32, 32, 48, 64, 1008]);
    for (const p of [a, b, c, d, e, f]) expect(p % 16).toBe(0);
    expect([a, b, c, d, e].map((p) => m.usableSize(p))).toEqual([24, 24, 40, 56, 1000]);
    expect(m.usableSize(0)).toBe(0);
  });
});

describe('tcache and fastbins', () => {
  it('free + malloc of the same size is LIFO through the tcache', () => {
    const { m } = fresh();
    const p = m.malloc(100);
    const q = m.malloc(100);
    m.free(p);
    m.free(q);
    expect(m.chunkAt(q)!.bin).toBe('tcache');
    // tcache chunks stay "in use" for their neighbour: PREV_INUSE of the next chunk is set.
    expect(m.chunkAt(q + 112)!.prevInUse).toBe(true);
    expect(m.malloc(100)).toBe(q);
    expect(m.malloc(100)).toBe(p);
    // Another size class does not take them: 100 -> 112, 90 -> 112, 120 -> 128.
    m.free(p);
    expect(m.malloc(120)).not.toBe(p);
    expect(m.malloc(90)).toBe(p);
  });

  it('the 8th free of a fastbin size goes to the fastbin, of a larger size to a bin', () => {
    const { m } = fresh();
    const small = Array.from({ length: 9 }, () => m.malloc(40)); // chunk 48
    const big = Array.from({ length: 9 }, () => m.malloc(200)); // chunk 208
    for (let i = 0; i < 8; i++) m.free(small[i]!);
    for (let i = 0; i < 8; i++) m.free(big[i]!);
    expect(small.slice(0, 7).map((p) => m.chunkAt(p)!.bin)).toEqual(Array(7).fill('tcache'));
    expect(m.chunkAt(small[7]!)!.bin).toBe('fastbin');
    expect(m.chunkAt(small[8]!)!.prevInUse).toBe(true); // fastbin chunks keep PREV_INUSE
    expect(m.chunkAt(big[7]!)!.bin).toBe('bin');
    expect(m.chunkAt(big[7]!)!.size).toBe(208); // its neighbours are tcache/in use: no coalescing
    expect(m.chunkAt(big[8]!)!.prevInUse).toBe(false);
    const s = m.stats();
    expect([s.tcacheChunks, s.fastbinChunks, s.binChunks, s.freeChunks]).toEqual([14, 1, 1, 16]);
    expect(s.freeBytes).toBe(7 * 48 + 48 + 7 * 208 + 208);
  });

  it('a fastbin hit stashes the rest of that fastbin into the tcache', () => {
    const { m } = fresh();
    const p = Array.from({ length: 10 }, () => m.malloc(40));
    m.malloc(40); // guard before top
    for (const x of p) m.free(x); // 0..6 -> tcache, 7, 8, 9 -> fastbin (head 9)
    for (let i = 6; i >= 0; i--) expect(m.malloc(40)).toBe(p[i]);
    expect(m.malloc(40)).toBe(p[9]); // fastbin head; 8 then 7 move to the tcache
    expect(m.stats().tcacheChunks).toBe(2);
    expect(m.stats().fastbinChunks).toBe(0);
    expect(m.malloc(40)).toBe(p[7]);
    expect(m.malloc(40)).toBe(p[8]);
  });

  it('calloc skips the tcache, malloc and realloc(NULL) use it', () => {
    const { m } = fresh();
    const p = m.malloc(100);
    m.free(p);
    const c = m.calloc(4, 25);
    expect(c).toBe(p + 112); // from top, as __libc_calloc calls _int_malloc
    expect(m.realloc(0, 100)).toBe(p);
  });

  it('a large request consolidates the fastbins', () => {
    const { m } = fresh();
    const p = Array.from({ length: 8 }, () => m.malloc(40));
    const guard = m.malloc(40);
    for (const x of p) m.free(x);
    expect(m.chunkAt(p[7]!)!.bin).toBe('fastbin');
    const big = m.malloc(2000); // nb = 2016 >= 1024: malloc_consolidate first
    expect(big).toBe(guard + 48);
    expect(m.chunkAt(p[7]!)).toMatchObject({ bin: 'bin', size: 48 });
    expect(m.chunkAt(guard)!.prevInUse).toBe(false);
    expect(m.stats().fastbinChunks).toBe(0);
  });

  it('consolidation starts at nb = 1024 (MIN_LARGE_SIZE)', () => {
    const { m } = fresh();
    const p = Array.from({ length: 8 }, () => m.malloc(40));
    m.malloc(40);
    for (const x of p) m.free(x);
    m.malloc(985); // nb 1008: a small-bin size, fastbins untouched
    expect(m.chunkAt(p[7]!)!.bin).toBe('fastbin');
    m.malloc(1001); // nb 1024
    expect(m.chunkAt(p[7]!)!.bin).toBe('bin');
  });

  it('freeing a chunk of >= 64 KiB consolidates the fastbins', () => {
    const { m } = fresh();
    const p = Array.from({ length: 8 }, () => m.malloc(40));
    const a = m.malloc(70000);
    m.malloc(10);
    for (const x of p) m.free(x);
    expect(m.chunkAt(p[7]!)!.bin).toBe('fastbin');
    m.free(a);
    expect(m.chunkAt(p[7]!)!.bin).toBe('bin');
  });
});

describe('bins: coalescing and best fit', () => {
  it('coalesces with both free neighbours and splits on reuse', () => {
    const { m } = fresh();
    const a = m.malloc(2000); // chunk 2016, beyond tcache and fastbins
    const b = m.malloc(2000);
    const c = m.malloc(2000);
    const g = m.malloc(2000);
    m.free(a);
    m.free(c);
    expect(m.stats().binChunks).toBe(2);
    m.free(b);
    expect(m.chunkAt(a)).toEqual({ chunk: a - 16, size: 3 * 2016, inUse: false, mmapped: false, prevInUse: true, bin: 'bin' });
    expect(m.chunkAt(b)!.chunk).toBe(a - 16); // b is inside the merged chunk
    expect(m.chunkAt(g)!.prevInUse).toBe(false);
    expect(m.stats().binChunks).toBe(1);
    expect(m.malloc(2000)).toBe(a);
    expect(m.chunkAt(b)).toMatchObject({ chunk: b - 16, size: 2 * 2016, bin: 'bin' });
  });

  it('takes the smallest adequate chunk, the lowest address among equal ones', () => {
    const { m } = fresh();
    const big = m.malloc(4000); // chunk 4016
    m.malloc(10);
    const c1 = m.malloc(2000); // chunk 2016
    m.malloc(10);
    const c2 = m.malloc(2000);
    m.malloc(10);
    const mid = m.malloc(3000); // chunk 3008
    m.malloc(10);
    m.free(c2);
    m.free(big);
    m.free(mid);
    m.free(c1);
    expect(m.malloc(1990)).toBe(c1); // 2016 fits best; c1 < c2
    expect(m.malloc(1990)).toBe(c2);
    expect(m.malloc(2500)).toBe(mid); // 3008 beats 4016
    expect(m.malloc(2500)).toBe(big); // splits 4016 -> 2512 + 1504
    expect(m.chunkAt(big + 2512)).toMatchObject({ size: 1504, bin: 'bin' });
  });

  it('an exact fit from the bins stashes the other chunks of that size into the tcache', () => {
    const { m } = fresh();
    const p = Array.from({ length: 10 }, () => {
      const x = m.malloc(200); // chunk 208
      m.malloc(10); // guard: no coalescing
      return x;
    });
    for (const x of p) m.free(x); // 7 -> tcache, 3 -> bins
    expect(m.stats().binChunks).toBe(3);
    for (let i = 6; i >= 0; i--) expect(m.malloc(200)).toBe(p[i]);
    expect(m.malloc(200)).toBe(p[7]); // lowest address; p[8] and p[9] go to the tcache
    expect(m.stats().binChunks).toBe(0);
    expect(m.stats().tcacheChunks).toBe(2);
    expect(m.malloc(200)).toBe(p[9]);
    expect(m.malloc(200)).toBe(p[8]);
  });

  it('splits off a remainder of exactly MINSIZE, and no smaller one', () => {
    const { m } = fresh();
    const x = m.malloc(2016); // chunk 2032
    m.malloc(10);
    const y = m.malloc(2016);
    m.malloc(10);
    m.free(x);
    m.free(y);
    expect(m.malloc(1990)).toBe(x); // nb 2000: remainder 32 is split off
    expect(sizeOf(m, x)).toBe(2000);
    expect(m.chunkAt(x + 2000)).toMatchObject({ chunk: x - 16 + 2000, size: 32, bin: 'bin' });
    expect(m.malloc(2000)).toBe(y); // nb 2016: remainder 16 stays in the chunk
    expect(sizeOf(m, y)).toBe(2032);
  });

  it('systrim releases ALIGN_DOWN(top - MINSIZE - 1 - top_pad, page): one page short here', () => {
    const { m, space } = fresh();
    m.malloc(4050); // chunk 4064; heap 135168, top 131104
    const a = m.malloc(100000); // chunk 100016 from top; top 31088
    const b = m.malloc(40000); // chunk 40016: sbrk(ALIGN_UP(40016 + 131072 + 32 - 31088)) = 143360
    expect(space.brk - B).toBe(135168 + 143360);
    m.free(b); // top 174448: releases ALIGN_DOWN(174415 - 131072) = 40960
    expect(m.stats().topSize).toBe(133488);
    m.free(a); // top 233504: 233471 - 131072 = 102399 -> 24 pages, not 25
    expect(m.stats().topSize).toBe(135200);
    expect(space.brk - B).toBe(4064 + 135200);
  });

  it('merging into top past the trim threshold trims brk with systrim', () => {
    const { m, space } = fresh();
    const a = m.malloc(100 * KiB); // chunk 102416; heap ALIGN_UP(102416 + 131072 + 32) = 237568
    const b = m.malloc(100 * KiB); // from top, leaves 32736
    const c = m.malloc(100 * KiB); // sysmalloc: + ALIGN_UP(102416 + 131072 + 32 - 32736) = 204800
    expect([a - B, b - B, c - B]).toEqual([16, 16 + 102416, 16 + 2 * 102416]);
    expect(space.brk - B).toBe(237568 + 204800);
    expect(m.stats().topSize).toBe(135120);
    m.free(c);
    // top 237536: extra = ALIGN_DOWN(237536 - 32 - 1 - 131072, 4096) = 102400
    expect(space.brk - B).toBe(442368 - 102400);
    expect(m.stats().topSize).toBe(135136);
    m.free(b);
    expect(space.brk - B).toBe(442368 - 2 * 102400);
    expect(m.stats().topSize).toBe(135152);
    m.free(a);
    expect(m.stats().topSize).toBe(135168);
    expect(space.brk - B).toBe(135168);
    m.checkInvariants();
  });
});

describe('the mmap threshold', () => {
  it('maps a request with nb >= 128 KiB when top cannot serve it', () => {
    const { m, space } = fresh();
    const p = m.malloc(128 * KiB); // nb 131088, mapping ALIGN_UP(131096) = 135168
    expect(p).toBe(TOP - 135168 + 16);
    expect(space.mappings()).toEqual([{ start: TOP - 135168, length: 135168, kind: 'mmap-chunk' }]);
    expect(m.chunkAt(p)).toEqual({ chunk: TOP - 135168, size: 135168, inUse: true, mmapped: true, prevInUse: false, bin: null });
    expect(m.usableSize(p)).toBe(135168 - 16);
    expect(m.stats().heapBytes).toBe(0);
    expect(m.stats().mmappedBytes).toBe(135168);
    m.free(p);
    expect(space.mappingCount).toBe(0);
    // chunksize_nomask 135168 | IS_MMAPPED > 131072: the dynamic threshold moves to 135168.
    expect(m.stats().mmapThreshold).toBe(135168);
    expect(m.stats().trimThreshold).toBe(2 * 135168);
  });

  it('bites exactly at nb = 131072 (requests 131048 / 131049)', () => {
    const a = fresh();
    expect(a.m.malloc(131048)).toBe(B + 16); // nb 131056
    const b = fresh();
    const p = b.m.malloc(131049); // nb 131072
    expect(p).toBe(TOP - 135168 + 16);
    // As in glibc, the threshold only matters in sysmalloc: a big enough top serves big requests.
    expect(a.m.stats().topSize).toBe(266240 - 131056);
    expect(a.m.malloc(131049)).toBe(B + 16 + 131056);
    expect(a.space.mappingCount).toBe(0);
  });

  it('top serves a request only while it keeps MINSIZE bytes', () => {
    const a = fresh();
    a.m.malloc(1); // top 135136
    expect(a.m.malloc(135080)).toBe(B + 48); // nb 135088 + 32 <= 135136: from top
    const b = fresh();
    b.m.malloc(1);
    const p = b.m.malloc(135100); // nb 135120 + 32 > 135136: sysmalloc, and nb >= threshold
    expect(b.m.chunkAt(p)!.mmapped).toBe(true);
  });

  it('freeing a 200 KiB mmapped chunk raises the threshold: 150 KiB then comes from brk', () => {
    const ref = fresh();
    expect(ref.m.chunkAt(ref.m.malloc(150 * KiB))!.mmapped).toBe(true);

    const { m } = fresh();
    const p = m.malloc(200 * KiB); // nb 204816, mapping 208896
    expect(m.chunkAt(p)!.size).toBe(208896);
    m.free(p);
    expect(m.stats().mmapThreshold).toBe(208896);
    expect(m.stats().trimThreshold).toBe(2 * 208896);
    const q = m.malloc(150 * KiB);
    expect(q).toBe(B + 16);
    expect(m.chunkAt(q)!.mmapped).toBe(false);
  });

  it('the dynamic threshold stops at 32 MiB, counting the IS_MMAPPED bit', () => {
    const { m } = fresh();
    const p = m.malloc(33554400); // nb 33554416, mapping exactly 32 MiB
    expect(m.chunkAt(p)!.size).toBe(32 * MiB);
    m.free(p); // 32 MiB | 2 > 32 MiB: no change
    expect(m.stats().mmapThreshold).toBe(128 * KiB);
    const q = m.malloc(33550000); // mapping 32 MiB - 4 KiB
    expect(m.chunkAt(q)!.size).toBe(32 * MiB - PAGE_SIZE);
    m.free(q);
    expect(m.stats().mmapThreshold).toBe(32 * MiB - PAGE_SIZE);
  });
});

describe('realloc and calloc', () => {
  it('grows in place into top and shrinks by splitting off a remainder', () => {
    const { m } = fresh();
    const p = m.malloc(100);
    expect(m.realloc(p, 1000)).toBe(p);
    expect(sizeOf(m, p)).toBe(1008);
    expect(m.chunkAt(p + 1008)!.bin).toBe('top');
    expect(m.realloc(p, 10)).toBe(p);
    expect(sizeOf(m, p)).toBe(32);
    // The 976-byte remainder is freed through _int_free: into the tcache.
    expect(m.chunkAt(p + 32)).toMatchObject({ size: 976, bin: 'tcache' });
    expect(m.realloc(p, 20)).toBe(p); // same chunk size: no change
    expect(m.liveBlocks).toBe(1);
  });

  it('grows into a free next chunk, else moves through _int_malloc (not the tcache)', () => {
    const { m } = fresh();
    const p = m.malloc(2000);
    const q = m.malloc(2000);
    const g = m.malloc(10);
    m.free(q);
    expect(m.realloc(p, 3000)).toBe(p); // 2016 + 2016 >= 3008
    expect(sizeOf(m, p)).toBe(3008);
    expect(m.chunkAt(p + 3008)).toMatchObject({ size: 1024, bin: 'tcache' });

    const t = m.malloc(200);
    m.free(t); // tcache, 208
    const r = m.realloc(g, 200);
    expect(r).not.toBe(t);
    expect(r).toBe(t + 208); // from top
    expect(m.chunkAt(g)!.bin).toBe('tcache'); // the old chunk was freed
  });

  it('grows into top only while top keeps MINSIZE bytes', () => {
    const a = fresh();
    const p = a.m.malloc(1); // top 135136
    expect(a.m.realloc(p, 135100)).toBe(p); // nb 135120 <= 32 + 135136 - 32
    const b = fresh();
    const q = b.m.malloc(1);
    const r = b.m.realloc(q, 135130); // nb 135152: top would keep 16 bytes
    expect(b.m.chunkAt(r)!.mmapped).toBe(true);
    expect(b.m.chunkAt(q)!.bin).toBe('tcache');
  });

  it('when _int_malloc returns the next chunk, realloc merges it in place (newp == next)', () => {
    const { m } = fresh();
    const fill = Array.from({ length: 7 }, () => m.malloc(40)); // chunk 48
    const p = m.malloc(10); // chunk 32
    const f = m.malloc(40); // chunk 48, right after p
    m.malloc(10);
    for (const x of fill) m.free(x);
    m.free(f); // the tcache for 48 is full: fastbin
    expect(m.chunkAt(f)!.bin).toBe('fastbin');
    // nb 48 > 32; the next chunk is a fastbin chunk (in use for glibc), so _int_malloc runs,
    // pops that very chunk, and 32 + 48 is split into 48 + a 32-byte remainder.
    expect(m.realloc(p, 40)).toBe(p);
    expect(sizeOf(m, p)).toBe(48);
    expect(m.chunkAt(p + 48)).toMatchObject({ chunk: p - 16 + 48, size: 32, bin: 'tcache' });
    expect(m.liveBlocks).toBe(2);
    m.checkInvariants();
  });

  it('realloc(p, 0) frees, failure leaves the block intact', () => {
    const { m } = fresh();
    const p = m.malloc(50);
    expect(m.realloc(p, 2 ** 60)).toBe(0);
    expect(m.usableSize(p)).toBe(56);
    expect(m.realloc(p, 0)).toBe(0);
    expect(m.liveBlocks).toBe(0);
    expect(m.chunkAt(p)!.bin).toBe('tcache');
  });

  it('mmapped chunks: mremap shrinks in place, grows in place or moves', () => {
    const { m, space } = fresh();
    const p = m.malloc(200 * KiB); // mapping 208896 just below mmapBase
    expect(p).toBe(TOP - 208896 + 16);
    const q = m.realloc(p, 400 * KiB); // nb 409616 -> 413696; nothing free above: moves
    expect(q).toBe(TOP - 208896 - 413696 + 16);
    expect(space.mappings()).toEqual([{ start: q - 16, length: 413696, kind: 'mmap-chunk' }]);
    const r = m.realloc(q, 600 * KiB); // 618496 fits below mmapBase: in place
    expect(r).toBe(q);
    expect(sizeOf(m, r)).toBe(618496);
    const s = m.realloc(r, 100); // still mmapped, one page, same place
    expect(s).toBe(r);
    expect(m.chunkAt(s)).toMatchObject({ size: PAGE_SIZE, mmapped: true });
    expect(m.stats().mmapThreshold).toBe(128 * KiB); // realloc never moves the threshold
    expect(m.stats().mmappedBytes).toBe(PAGE_SIZE);
    m.checkInvariants();
  });

  it('calloc overflow and huge requests give NULL without touching the heap', () => {
    const { m, space } = fresh();
    expect(m.calloc(2 ** 32, 2 ** 32)).toBe(0);
    expect(m.calloc(2 ** 62, 4)).toBe(0);
    expect(m.calloc(1, 2 ** 47)).toBe(0);
    expect(m.malloc(2 ** 47)).toBe(0);
    expect(m.malloc(2 ** 53)).toBe(0);
    expect(m.malloc(-1)).toBe(0);
    expect(space.brk).toBe(B);
    expect(space.mappingCount).toBe(0);
    const c = m.calloc(3, 8);
    expect(c).toBe(B + 16);
    expect(sizeOf(m, c)).toBe(32);
    expect(m.calloc(0, 5)).toBe(B + 48);
  });

  it('memoryLimit makes mmap and sbrk fail', () => {
    const { m, space } = fresh(MiB);
    expect(m.malloc(2 * MiB)).toBe(0);
    expect(space.brk).toBe(B);
    expect(m.malloc(100)).toBe(B + 16); // 132 KiB heap
    expect(m.malloc(900 * KiB)).toBe(0); // 135168 + 925696 > 1 MiB
    const p = m.malloc(800 * KiB); // 135168 + 823296 <= 1 MiB
    expect(m.chunkAt(p)!.mmapped).toBe(true);
    expect(m.malloc(200 * KiB)).toBe(0);
    m.checkInvariants();
  });
});

describe('errors', () => {
  it('free of a non-live address throws an Error naming it', () => {
    const { m } = fresh();
    m.free(0);
    expect(() => m.free(0x3039)).toThrow(/free\(0x3039\)/);
    const p = m.malloc(10);
    expect(() => m.free(p + 16)).toThrow(new RegExp(`free\\(0x${(p + 16).toString(16)}\\)`));
    expect(() => m.free(p + 32)).toThrow(/free\(/); // inside top
    m.free(p);
    expect(() => m.free(p)).toThrow(/double free.*tcache/);
    expect(() => m.realloc(p, 10)).toThrow(/realloc\(/);
    const q = m.malloc(200 * KiB);
    m.free(q);
    expect(() => m.free(q)).toThrow(/free\(0x/);
  });
});

/**
 * The consistency walk: heap chunks tile [brkStart, brk) with top last, sizes are multiples
 * of 16 and >= 32, no two bin chunks touch, PREV_INUSE is clear exactly after a bin chunk,
 * mmapped chunks are their mappings, and every live pointer is the user pointer of an in-use
 * chunk big enough for its request. Returns the failures (plain checks: thousands per walk).
 */
function walk(m: GlibcMalloc, space: AddressSpace, live: number[], req: number[]): string[] {
  const errors: string[] = [];
  let at = B;
  let prevBin = false;
  let inUse = 0;
  let mm = 0;
  let last: string | null = null;
  for (const c of m.chunks()) {
    if (c.mmapped) {
      mm++;
      const map = space.find(c.chunk);
      if (map === null || map.start !== c.chunk || map.length !== c.size || map.kind !== 'mmap-chunk') {
        errors.push(`mmapped chunk ${c.chunk} is not its mapping`);
      }
      continue;
    }
    if (c.chunk !== at) errors.push(`chunk at ${c.chunk}, expected ${at}`);
    if (c.size % 16 !== 0 || c.size < 32) errors.push(`chunk ${c.chunk} has size ${c.size}`);
    if (c.prevInUse === prevBin) errors.push(`chunk ${c.chunk}: PREV_INUSE ${c.prevInUse}`);
    if (c.bin === 'bin' && prevBin) errors.push(`adjacent free chunks at ${c.chunk}`);
    prevBin = c.bin === 'bin';
    if (c.inUse) inUse++;
    last = c.bin;
    at += c.size;
  }
  if (at !== space.brk) errors.push(`heap walk ends at ${at}, brk is ${space.brk}`);
  if (at !== B && last !== 'top') errors.push('the last heap chunk is not top');
  if (inUse + mm !== live.length || m.liveBlocks !== live.length) {
    errors.push(`${inUse} + ${mm} in-use chunks, liveBlocks ${m.liveBlocks}, ${live.length} live`);
  }
  for (let j = 0; j < live.length; j++) {
    const p = live[j]!;
    const c = m.chunkAt(p);
    if (c === null || !c.inUse || c.chunk !== p - 16) errors.push(`live ${p} is not an in-use chunk`);
    else if (m.usableSize(p) < req[j]!) errors.push(`live ${p}: usable ${m.usableSize(p)} < ${req[j]}`);
  }
  return errors;
}

describe('random operations', () => {
  it('keeps the heap consistent through 20k seeded operations', () => {
    const { m, space } = fresh();
    const rnd = mulberry32(12345);
    const live: number[] = [];
    const req: number[] = [];
    const pick = (): number => {
      const k = rnd();
      if (k < 0.6) return Math.floor(rnd() * 256);
      if (k < 0.9) return 256 + Math.floor(rnd() * 4000);
      if (k < 0.98) return 4096 + Math.floor(rnd() * 60000);
      return 100 * KiB + Math.floor(rnd() * 300 * KiB);
    };
    let checks = 0;
    let lastBrk = space.brk;
    const seen = { bin: 0, fast: 0, tcache: 0, mmapped: 0, trims: 0 };
    for (let i = 1; i <= 20000; i++) {
      const r = rnd();
      const phase = Math.floor(i / 2500) % 2 === 0 ? 0.55 : 0.35;
      if (r < phase || live.length === 0) {
        let n = pick();
        let p: number;
        if (rnd() < 0.1) {
          const k = 1 + Math.floor(rnd() * 4);
          n = k * Math.ceil(n / 4);
          p = m.calloc(k, n / k);
        } else p = m.malloc(n);
        expect(p).not.toBe(0);
        live.push(p);
        req.push(n);
      } else if (r < phase + 0.15) {
        const j = Math.floor(rnd() * live.length);
        const n = 1 + pick();
        const p = m.realloc(live[j]!, n);
        expect(p).not.toBe(0);
        live[j] = p;
        req[j] = n;
      } else {
        const j = Math.floor(rnd() * live.length);
        m.free(live[j]!);
        live[j] = live[live.length - 1]!;
        req[j] = req[req.length - 1]!;
        live.pop();
        req.pop();
      }
      if (space.brk < lastBrk) seen.trims++;
      lastBrk = space.brk;
      if (i % 100 === 0) {
        checks++;
        m.checkInvariants();
        const errors = walk(m, space, live, req);
        expect(errors).toEqual([]);
        const st = m.stats();
        if (st.binChunks > 0) seen.bin++;
        if (st.fastbinChunks > 0) seen.fast++;
        if (st.tcacheChunks > 0) seen.tcache++;
        if (st.mmappedChunks > 0) seen.mmapped++;
      }
    }
    expect(checks).toBe(200);
    // The run went through every part of the allocator.
    expect(seen.bin).toBeGreaterThan(100);
    expect(seen.fast).toBeGreaterThan(20);
    expect(seen.tcache).toBeGreaterThan(100);
    expect(seen.mmapped).toBeGreaterThan(30);
    expect(seen.trims).toBeGreaterThan(0);
    for (const p of live) m.free(p);
    m.checkInvariants();
    expect(m.liveBlocks).toBe(0);
    expect(m.stats().inUseChunks).toBe(0);
  });
});
