/**
 * The heap map's raw region: the C library's memory (the brk heap and the mmapped chunks) laid
 * out as a tape of cells below the arena tiles, at the pools' scale (one cell = one pool's
 * bytes). Pure arithmetic, no DOM and no pixi; unit-tested in test/renderer.
 *
 * The tape. Regions (RawRegions: the brk heap [start, brk), each mmapped chunk's mapping) are
 * placed in address order, each starting on a new cell, RAW_GAP_CELLS empty cells apart:
 *
 *     region r covers tape positions [segCell[r], segCell[r] + segLength[r] / cellBytes)
 *     address A of region r is at    p = segCell[r] + (A - segStart[r]) / cellBytes
 *
 * and layout.ts wraps the tape into rows (`rawWidth` cells a row). A position is fractional: a
 * 32-byte chunk is 1/512 of a 16 KiB cell, visible only at deep zoom.
 *
 * Cell states (the shader's `uRawCells`, one Uint16 per cell): kind | level << 2, kind 0 for a
 * gap, RAW_BRK or RAW_MMAP; level 0 when no byte of the cell is in a live chunk, 15 when all its
 * bytes in the region are, else 1 + floor(14 * the fraction in use), at most 14: a cell is shaded
 * the way a pool is by its fullness.
 *
 * Key invariant: segments and chunks are sorted by address; every chunk lies inside one region
 * (glibc's chunks are inside the brk heap or are a mapping), so its span on the tape is a straight
 * run of positions.
 */
import { MAPPING_KINDS, type RawChunksResult } from '../../../shared/protocol';
import type { HeapLayout, Rect, View, Viewport } from './layout';
import { RAW_BRK, RAW_MMAP, type RawRegions } from './types';

/** Empty cells between regions on the tape. */
export const RAW_GAP_CELLS = 1;
/** At most this many cells are laid out (32 GiB of 16 KiB cells); regions past them are left out. */
export const MAX_RAW_CELLS = 1 << 21;
/** malloc's chunk header: the pointer it returns is chunk + 16. */
export const CHUNK_HDR_SZ = 16;

export interface RawTape {
  readonly cellBytes: number;
  /** Regions laid out: start address, length in bytes, kind, first cell, cells (rounded up). */
  readonly segStart: Float64Array;
  readonly segLength: Float64Array;
  readonly segKind: Uint8Array;
  readonly segCell: Float64Array;
  readonly segCells: Float64Array;
  /** Cells of the tape, gaps included. */
  readonly cells: number;
  /** Live chunks in address order (RawRegions). */
  readonly chunkAddress: Float64Array;
  readonly chunkSize: Float64Array;
  readonly chunkMmapped: Uint8Array;
  /** Per cell: kind | level << 2 (see the file header). */
  readonly cellStates: Uint16Array;
}

export const EMPTY_TAPE: RawTape = makeRawTape(null);

/** The rawChunks query's answer as the map's input: the brk heap and the mmap-chunk mappings as regions. */
export function rawRegionsOf(r: RawChunksResult): RawRegions {
  const starts = new Float64Array(r.mapStarts);
  const lengths = new Float64Array(r.mapLengths);
  const kinds = new Uint8Array(r.mapKinds);
  const mmapKind = MAPPING_KINDS.indexOf('mmap-chunk');
  const regions: { start: number; length: number; kind: number }[] = [];
  if (r.heapEnd > r.heapStart) regions.push({ start: r.heapStart, length: r.heapEnd - r.heapStart, kind: RAW_BRK });
  for (let i = 0; i < starts.length; i++) if (kinds[i] === mmapKind) regions.push({ start: starts[i]!, length: lengths[i]!, kind: RAW_MMAP });
  regions.sort((a, b) => a.start - b.start);
  return {
    cellBytes: r.poolSize,
    regionStart: Float64Array.from(regions, (x) => x.start),
    regionLength: Float64Array.from(regions, (x) => x.length),
    regionKind: Uint8Array.from(regions, (x) => x.kind),
    chunkAddress: new Float64Array(r.chunks),
    chunkSize: new Float64Array(r.sizes),
    chunkMmapped: new Uint8Array(r.mmapped),
  };
}

/** Lays the regions out on the tape and computes every cell's state. */
export function makeRawTape(raw: RawRegions | null): RawTape {
  const cellBytes = raw !== null && raw.cellBytes > 0 ? raw.cellBytes : 16384;
  const n0 = raw === null ? 0 : raw.regionStart.length;
  const segStart: number[] = [];
  const segLength: number[] = [];
  const segKind: number[] = [];
  const segCell: number[] = [];
  const segCells: number[] = [];
  let cells = 0;
  for (let r = 0; r < n0; r++) {
    const len = raw!.regionLength[r]!;
    if (!(len > 0)) continue;
    const c = Math.ceil(len / cellBytes);
    const at = segCell.length === 0 ? 0 : cells + RAW_GAP_CELLS;
    if (at + c > MAX_RAW_CELLS) break;
    segStart.push(raw!.regionStart[r]!);
    segLength.push(len);
    segKind.push(raw!.regionKind[r]!);
    segCell.push(at);
    segCells.push(c);
    cells = at + c;
  }
  const tape = {
    cellBytes,
    segStart: Float64Array.from(segStart),
    segLength: Float64Array.from(segLength),
    segKind: Uint8Array.from(segKind),
    segCell: Float64Array.from(segCell),
    segCells: Float64Array.from(segCells),
    cells,
    chunkAddress: raw === null ? new Float64Array(0) : raw.chunkAddress,
    chunkSize: raw === null ? new Float64Array(0) : raw.chunkSize,
    chunkMmapped: raw === null ? new Uint8Array(0) : raw.chunkMmapped,
    cellStates: new Uint16Array(cells),
  };
  fillCellStates(tape);
  return tape;
}

/** Bytes in use per cell from the chunks, then each cell's kind and level. */
function fillCellStates(t: RawTape): void {
  const used = new Float64Array(t.cells);
  const cb = t.cellBytes;
  let s = 0;
  for (let i = 0; i < t.chunkAddress.length; i++) {
    const a = t.chunkAddress[i]!;
    const e = a + t.chunkSize[i]!;
    while (s < t.segStart.length && t.segStart[s]! + t.segLength[s]! <= a) s++;
    if (s === t.segStart.length) break;
    const lo = Math.max(a, t.segStart[s]!);
    const hi = Math.min(e, t.segStart[s]! + t.segLength[s]!);
    if (hi <= lo) continue;
    // Byte offsets in the region, split at cell boundaries.
    let off = lo - t.segStart[s]!;
    const end = hi - t.segStart[s]!;
    while (off < end) {
      const c = Math.floor(off / cb);
      const next = Math.min(end, (c + 1) * cb);
      used[t.segCell[s]! + c] += next - off;
      off = next;
    }
  }
  for (let r = 0; r < t.segStart.length; r++) {
    const kind = t.segKind[r]!;
    for (let c = 0; c < t.segCells[r]!; c++) {
      const bytes = Math.min(cb, t.segLength[r]! - c * cb);
      const u = used[t.segCell[r]! + c]!;
      t.cellStates[t.segCell[r]! + c] = kind | (rawLevel(u, bytes) << 2);
    }
  }
}

/** The shade of a cell with `used` of its `bytes` in live chunks (see the file header). */
export function rawLevel(used: number, bytes: number): number {
  if (used <= 0) return 0;
  if (used >= bytes) return 15;
  return Math.min(14, 1 + Math.floor((14 * used) / bytes));
}

/** Index of the last element of sorted `a` that is <= x, or -1. */
function floorIndex(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The region holding `address`, or -1. */
export function segmentOf(t: RawTape, address: number): number {
  const s = floorIndex(t.segStart, address);
  return s >= 0 && address < t.segStart[s]! + t.segLength[s]! ? s : -1;
}

/** Tape position of `address`, or -1 when it is in no region laid out. */
export function tapePosition(t: RawTape, address: number): number {
  const s = segmentOf(t, address);
  return s < 0 ? -1 : t.segCell[s]! + (address - t.segStart[s]!) / t.cellBytes;
}

/** The region and address at tape position `p` (fractional), or null (a gap, past a region's end). */
export function addressAt(t: RawTape, p: number): { segment: number; address: number } | null {
  const s = floorIndex(t.segCell, p);
  if (s < 0) return null;
  const off = (p - t.segCell[s]!) * t.cellBytes;
  if (!(off >= 0) || off >= t.segLength[s]!) return null;
  return { segment: s, address: t.segStart[s]! + Math.floor(off) };
}

/** The live chunk containing `address` (from its header on), or -1. */
export function chunkIndexAt(t: RawTape, address: number): number {
  const i = floorIndex(t.chunkAddress, address);
  return i >= 0 && address < t.chunkAddress[i]! + t.chunkSize[i]! ? i : -1;
}

/** The live chunk whose user pointer (chunk + 16) is `pointer`, or -1. */
export function chunkOfPointer(t: RawTape, pointer: number): number {
  const i = floorIndex(t.chunkAddress, pointer - CHUNK_HDR_SZ);
  return i >= 0 && t.chunkAddress[i] === pointer - CHUNK_HDR_SZ ? i : -1;
}

/** Tape positions [p0, p1) wrapped into world rectangles: a partial first row, whole rows, a partial last row. */
export function tapeRects(L: HeapLayout, p0: number, p1: number): Rect[] {
  const W = L.rawWidth;
  if (!(p1 > p0) || W <= 0) return [];
  const r0 = Math.floor(p0 / W);
  // The row of the last position covered (p1 itself is not).
  const r1 = Math.max(r0, Math.ceil(p1 / W) - 1);
  const y = (r: number): number => L.rawY + r;
  if (r0 === r1) return [{ x: p0 - r0 * W, y: y(r0), width: p1 - p0, height: 1 }];
  const out: Rect[] = [{ x: p0 - r0 * W, y: y(r0), width: (r0 + 1) * W - p0, height: 1 }];
  if (r1 > r0 + 1) out.push({ x: 0, y: y(r0 + 1), width: W, height: r1 - r0 - 1 });
  out.push({ x: 0, y: y(r1), width: p1 - r1 * W, height: 1 });
  return out;
}

/** World rectangles of chunk `i` (empty when it lies in no region laid out). */
export function chunkRects(L: HeapLayout, t: RawTape, i: number): Rect[] {
  const p0 = tapePosition(t, t.chunkAddress[i]!);
  if (p0 < 0) return [];
  return tapeRects(L, p0, p0 + t.chunkSize[i]! / t.cellBytes);
}

/** World rectangles of region `s`. */
export function segmentRects(L: HeapLayout, t: RawTape, s: number): Rect[] {
  const p0 = t.segCell[s]!;
  return tapeRects(L, p0, p0 + t.segLength[s]! / t.cellBytes);
}

/** What is at cell `cell`, fraction (fx, fy) inside it: the region and byte, and the chunk there (-1: free memory). */
export function rawHit(t: RawTape, cell: number, fx: number): { segment: number; address: number; chunk: number } | null {
  const at = addressAt(t, cell + fx);
  if (at === null) return null;
  return { ...at, chunk: chunkIndexAt(t, at.address) };
}

/**
 * What the deep-zoom view draws of the raw region on screen: the visible parts of each region
 * (drawn as free memory) and of each live chunk in it, in world rectangles, or null when more
 * than `limit` rectangles would be needed (the cell shading alone is drawn then).
 */
export interface RawDetail {
  free: Rect[];
  /** `start`: the rectangle begins where the chunk does (not a continuation from the row above). */
  chunks: { index: number; rect: Rect; start: boolean }[];
}

export function rawDetail(L: HeapLayout, t: RawTape, v: View, vp: Viewport, limit: number): RawDetail | null {
  if (L.rawCells === 0 || t.cells === 0) return { free: [], chunks: [] };
  const W = L.rawWidth;
  const wx0 = Math.max(0, v.x);
  const wx1 = Math.min(W, v.x + vp.width / v.scale);
  const row0 = Math.max(0, Math.floor(v.y - L.rawY));
  const row1 = Math.min(L.rawRows - 1, Math.floor(v.y + vp.height / v.scale - L.rawY));
  const free: Rect[] = [];
  const chunks: RawDetail['chunks'] = [];
  if (wx1 <= wx0) return { free, chunks };
  for (let row = row0; row <= row1; row++) {
    const pa = row * W + wx0;
    const pb = row * W + wx1;
    for (let s = Math.max(0, floorIndex(t.segCell, pa)); s < t.segCell.length && t.segCell[s]! < pb; s++) {
      const sEnd = t.segCell[s]! + t.segLength[s]! / t.cellBytes;
      const lo = Math.max(pa, t.segCell[s]!);
      const hi = Math.min(pb, sEnd);
      if (hi <= lo) continue;
      free.push({ x: lo - row * W, y: L.rawY + row, width: hi - lo, height: 1 });
      const aLo = t.segStart[s]! + (lo - t.segCell[s]!) * t.cellBytes;
      const aHi = t.segStart[s]! + (hi - t.segCell[s]!) * t.cellBytes;
      for (let i = Math.max(0, floorIndex(t.chunkAddress, aLo)); i < t.chunkAddress.length && t.chunkAddress[i]! < aHi; i++) {
        const c0 = t.chunkAddress[i]!;
        const c1 = c0 + t.chunkSize[i]!;
        if (c1 <= aLo) continue;
        const q0 = t.segCell[s]! + (Math.max(c0, aLo) - t.segStart[s]!) / t.cellBytes;
        const q1 = t.segCell[s]! + (Math.min(c1, aHi) - t.segStart[s]!) / t.cellBytes;
        chunks.push({ index: i, rect: { x: q0 - row * W, y: L.rawY + row, width: q1 - q0, height: 1 }, start: c0 >= aLo });
        if (free.length + chunks.length > limit) return null;
      }
    }
  }
  return { free, chunks };
}
