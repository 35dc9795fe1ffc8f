/**
 * The heap map's raw region (src/renderer/src/heapmap/raw.ts): how the C library's regions and
 * chunks become a tape of pool-sized cells, each cell's shade, and the way back from a point on
 * the map to a chunk. The heap is what a 3.13 session holds after its first arena (see
 * test/renderer/ui-queries.test.ts): the arena vector and a radix-tree node in the brk heap, a
 * second node mmapped.
 */
import { describe, expect, it } from 'vitest';
import { makeLayout } from '../../src/renderer/src/heapmap/layout';
import {
  addressAt,
  chunkIndexAt,
  chunkOfPointer,
  chunkRects,
  makeRawTape,
  rawDetail,
  rawHit,
  rawLevel,
  rawRegionsOf,
  segmentRects,
  tapePosition,
  tapeRects,
} from '../../src/renderer/src/heapmap/raw';
import { RAW_BRK, RAW_MMAP, type RawRegions } from '../../src/renderer/src/heapmap/types';
import type { RawChunksResult } from '../../src/shared/protocol';

const B = 0x5555_5557_9000;
const T = 0x7fff_f7fb_e000;
const KiB16 = 16384;

const regions: RawRegions = {
  cellBytes: KiB16,
  regionStart: Float64Array.from([B, T]),
  regionLength: Float64Array.from([0x21000, 0x41000]),
  regionKind: Uint8Array.from([RAW_BRK, RAW_MMAP]),
  chunkAddress: Float64Array.from([B, B + 784, T]),
  chunkSize: Float64Array.from([784, 131088, 0x41000]),
  chunkMmapped: Uint8Array.from([0, 0, 1]),
};

describe('the raw tape', () => {
  const t = makeRawTape(regions);

  it('places each region on whole cells in address order, one empty cell apart', () => {
    // 0x21000 = 8.25 cells -> 9; 0x41000 = 16.25 cells -> 17, from cell 9 + 1.
    expect(Array.from(t.segCell)).toEqual([0, 10]);
    expect(Array.from(t.segCells)).toEqual([9, 17]);
    expect(t.cells).toBe(27);
  });

  it('shades each cell by the bytes of it in live chunks', () => {
    const kind = (c: number): number => t.cellStates[c]! & 3;
    const level = (c: number): number => t.cellStates[c]! >> 2;
    // Cells 0-7 of the brk heap are covered by the two chunks (784 + 131088 = 8 cells + 800 bytes).
    for (let c = 0; c < 8; c++) expect([kind(c), level(c)]).toEqual([RAW_BRK, 15]);
    // Cell 8 holds the heap's last 4 KiB (0x21000 - 8 * 16384), 800 bytes of them in use:
    // 1 + floor(14 * 800 / 4096) = 3.
    expect([kind(8), level(8)]).toEqual([RAW_BRK, 3]);
    expect(t.cellStates[9]).toBe(0); // the gap
    // The mapping is one chunk: every cell full, the last (4 KiB of the region) too.
    for (let c = 10; c < 27; c++) expect([kind(c), level(c)]).toEqual([RAW_MMAP, 15]);
  });

  it('shades like pool fullness: 0 free, 15 full, 1-14 between', () => {
    expect([rawLevel(0, 100), rawLevel(1, 16384), rawLevel(8192, 16384), rawLevel(16383, 16384), rawLevel(16384, 16384)]).toEqual([0, 1, 8, 14, 15]);
    // A heap with its chunks freed: all cells level 0 (free memory), still the brk kind.
    const free = makeRawTape({ ...regions, regionStart: regions.regionStart.subarray(0, 1), regionLength: regions.regionLength.subarray(0, 1), regionKind: regions.regionKind.subarray(0, 1), chunkAddress: new Float64Array(0), chunkSize: new Float64Array(0), chunkMmapped: new Uint8Array(0) });
    expect(Array.from(free.cellStates)).toEqual(new Array<number>(9).fill(RAW_BRK));
    expect(makeRawTape(null).cells).toBe(0);
  });

  it('maps addresses to tape positions and back, and finds the chunk there', () => {
    expect(tapePosition(t, B + 784)).toBe(784 / KiB16);
    expect(tapePosition(t, T + 2 * KiB16)).toBe(12);
    expect(tapePosition(t, B + 0x21000)).toBe(-1); // the program break is past the heap
    expect(addressAt(t, 12.5)).toEqual({ segment: 1, address: T + 2.5 * KiB16 });
    expect(addressAt(t, 9.5)).toBeNull(); // the gap
    expect(addressAt(t, 8.3)).toBeNull(); // past the heap's end in its last cell
    expect([chunkIndexAt(t, B), chunkIndexAt(t, B + 783), chunkIndexAt(t, B + 784), chunkIndexAt(t, B + 784 + 131088), chunkIndexAt(t, T + 5)]).toEqual([0, 0, 1, -1, 2]);
    expect([chunkOfPointer(t, B + 16), chunkOfPointer(t, B + 784 + 16), chunkOfPointer(t, B + 784), chunkOfPointer(t, T + 16)]).toEqual([0, 1, -1, 2]);
    expect(rawHit(t, 3, 0.5)).toEqual({ segment: 0, address: B + 3.5 * KiB16, chunk: 1 });
    // Free memory after the last chunk (it ends at 8 cells + 800 bytes), before the break.
    expect(rawHit(t, 8, 0.125)).toEqual({ segment: 0, address: B + 8.125 * KiB16, chunk: -1 });
    expect(rawHit(t, 8, 0.5)).toBeNull();
  });

  it('wraps spans into rows of the strip', () => {
    const L = makeLayout(6, 64, 1.6, 1, { rawCells: t.cells }); // 26 cells a row from row 19
    expect(chunkRects(L, t, 0)).toEqual([{ x: 0, y: 19, width: 784 / KiB16, height: 1 }]);
    // The mapping: cells 10 .. 26.25, over the end of the first row.
    expect(chunkRects(L, t, 2)).toEqual([
      { x: 10, y: 19, width: 16, height: 1 },
      { x: 0, y: 20, width: 0.25, height: 1 },
    ]);
    expect(segmentRects(L, t, 0)).toEqual([{ x: 0, y: 19, width: 8.25, height: 1 }]);
    // Whole rows in the middle of a long span.
    const narrow = makeLayout(1, 64, 1.6, 1, { rawCells: 27 }); // 8 cells a row from row 10
    expect(tapeRects(narrow, 6, 26)).toEqual([
      { x: 6, y: 10, width: 2, height: 1 },
      { x: 0, y: 11, width: 8, height: 2 },
      { x: 0, y: 13, width: 2, height: 1 },
    ]);
    expect(tapeRects(narrow, 8, 16)).toEqual([{ x: 0, y: 11, width: 8, height: 1 }]);
  });

  it('lists the regions and chunks on screen at deep zoom, and gives up past the limit', () => {
    const L = makeLayout(6, 64, 1.6, 1, { rawCells: t.cells });
    // Cells 7.5 .. 9.5 of row 19 at 100 px a cell.
    const v = { x: 7.5, y: 18.8, scale: 100 };
    const vp = { width: 200, height: 100 };
    const d = rawDetail(L, t, v, vp, 100)!;
    expect(d.free).toEqual([{ x: 7.5, y: 19, width: 0.75, height: 1 }]);
    expect(d.chunks).toEqual([{ index: 1, rect: { x: 7.5, y: 19, width: 0.5 + 800 / KiB16, height: 1 }, start: false }]);
    const all = rawDetail(L, t, { x: 0, y: 18, scale: 10 }, { width: 400, height: 400 }, 100)!;
    expect(all.chunks.map((c) => [c.index, c.start])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [2, false],
    ]);
    expect(rawDetail(L, t, { x: 0, y: 18, scale: 10 }, { width: 400, height: 400 }, 3)).toBeNull();
  });
});

describe('rawRegionsOf', () => {
  it('takes the brk heap and the mmapped chunks\' mappings as regions, not the arenas', () => {
    const f64 = (a: number[]): ArrayBuffer => Float64Array.from(a).buffer;
    const r: RawChunksResult = {
      version: 1,
      changed: true,
      chunks: f64([B, T]),
      sizes: f64([784, 0x41000]),
      mmapped: Uint8Array.from([0, 1]).buffer,
      truncated: false,
      heapStart: B,
      heapEnd: B + 0x21000,
      // An arena (kind 0) and the mapping of the mmapped chunk (kind 1).
      mapStarts: f64([0x5e00_0000_0000, T]),
      mapLengths: f64([1 << 20, 0x41000]),
      mapKinds: Uint8Array.from([0, 1]).buffer,
      poolSize: 4096,
    };
    const g = rawRegionsOf(r);
    expect(g.cellBytes).toBe(4096);
    expect(Array.from(g.regionStart)).toEqual([B, T]);
    expect(Array.from(g.regionLength)).toEqual([0x21000, 0x41000]);
    expect(Array.from(g.regionKind)).toEqual([RAW_BRK, RAW_MMAP]);
    expect(Array.from(g.chunkAddress)).toEqual([B, T]);
    // An empty brk heap is no region.
    expect(Array.from(rawRegionsOf({ ...r, heapEnd: B }).regionKind)).toEqual([RAW_MMAP]);
  });
});
