/**
 * The per-pool state array the heap map draws: one small integer per pool slot, so the whole
 * heap crosses to the renderer as one Uint16Array and afterwards only the ranges that changed
 * (`diffPoolStates`). The renderer keeps it in a data texture and computes colours in the
 * shader; nothing here knows about drawing.
 *
 * Slot index = arena index * heap.maxPools + pool ordinal (64 pools per arena in every
 * version), for arena indices 0 .. maxarenas-1: the arena-object vector, live or not.
 *
 * Bit layout of a slot (Uint16):
 *
 *     15 14 13 | 12 11 10  9 |  8  7  6  5  4  3 |  2  1  0
 *     reserved |   fullness  |       szidx       |  status
 *     (zero)   |   (4 bits)  |      (6 bits)     | (3 bits)
 *
 *   status (bits 0-2):
 *     0 POOL_ARENA_NOT_LIVE   the arena object is unassociated (no mapping), or beyond the vector
 *     1 POOL_LOST             the ordinal is past ntotalpools: the pool lost because the arena's
 *                             mapping is not POOL_SIZE-aligned (63 pools instead of 64)
 *     2 POOL_NEVER_CARVED     ordinal >= the arena's next carve (pool_address): fresh memory
 *     3 POOL_EMPTY            carved, ref.count 0: on the arena's freepools stack
 *     4 POOL_USED             ref.count > 0: in usedpools[szidx], or full (in no list)
 *   szidx (bits 3-8): the size class, for POOL_USED and POOL_EMPTY (the class the empty pool
 *     last held: it is reused as is when that class asks again); 0 otherwise. 3.7.0-3.7.3
 *     have 64 classes (8-byte alignment), the most any version has: 6 bits.
 *   fullness (bits 9-12), POOL_USED only (0 otherwise): 15 when the pool is full
 *     (ref.count == capacity), else 1 + floor((ref.count - 1) * 14 / (capacity - 1)), in 1..14.
 *     So 1 block in use is never shown as empty, and 15 means exactly full.
 *
 * Key invariant (from the heap's): a carved pool with ref.count 0 is on its arena's
 * freepools, so status 3 needs no list walk.
 */
import type { PymallocHeap } from './heap';

export const POOL_ARENA_NOT_LIVE = 0;
export const POOL_LOST = 1;
export const POOL_NEVER_CARVED = 2;
export const POOL_EMPTY = 3;
export const POOL_USED = 4;

export const POOL_STATUS_MASK = 0x7;
export const POOL_SZIDX_SHIFT = 3;
export const POOL_SZIDX_MASK = 0x3f;
export const POOL_FULLNESS_SHIFT = 9;
export const POOL_FULLNESS_MASK = 0xf;
export const POOL_FULLNESS_FULL = 15;

/** The encoded slot for a status, class and fullness. */
export function poolStateValue(status: number, szidx = 0, fullness = 0): number {
  return status | (szidx << POOL_SZIDX_SHIFT) | (fullness << POOL_FULLNESS_SHIFT);
}

export function poolStatusOf(v: number): number {
  return v & POOL_STATUS_MASK;
}

export function poolSzidxOf(v: number): number {
  return (v >>> POOL_SZIDX_SHIFT) & POOL_SZIDX_MASK;
}

export function poolFullnessOf(v: number): number {
  return (v >>> POOL_FULLNESS_SHIFT) & POOL_FULLNESS_MASK;
}

/** The 4-bit fullness of a pool with `ref` of `capacity` blocks in use (ref >= 1). */
export function quantiseFullness(ref: number, capacity: number): number {
  if (ref >= capacity) return POOL_FULLNESS_FULL;
  return 1 + Math.floor(((ref - 1) * 14) / (capacity - 1));
}

/** Slots the state array of `heap` needs: maxarenas * maxPools. */
export function poolStateLength(heap: PymallocHeap): number {
  return heap.maxarenas * heap.maxPools;
}

/**
 * Encodes the state of every pool slot of `heap`. With `out` of exactly the length needed,
 * or longer, `out` is filled and returned (slots past the heap's vector read
 * POOL_ARENA_NOT_LIVE); otherwise a new array of `poolStateLength(heap)` is returned.
 */
export function encodePoolStates(heap: PymallocHeap, out?: Uint16Array): Uint16Array {
  const n = poolStateLength(heap);
  const states = out !== undefined && out.length >= n ? out : new Uint16Array(n);
  const mp = heap.maxPools;
  const nsent = heap.nsent;
  const ref = heap.ref;
  const szidx = heap.szidx;
  const capacity = heap.capacity;
  for (let a = 0; a < heap.maxarenas; a++) {
    const s0 = a * mp;
    if (heap.arenaAddress[a] === 0) {
      states.fill(POOL_ARENA_NOT_LIVE, s0, s0 + mp);
      continue;
    }
    const carved = heap.arenaNextCarve[a]!;
    const total = heap.ntotalpools[a]!;
    const p0 = nsent + s0;
    for (let i = 0; i < carved; i++) {
      const p = p0 + i;
      const r = ref[p]!;
      const c = szidx[p]!;
      states[s0 + i] =
        r === 0
          ? POOL_EMPTY | (c << POOL_SZIDX_SHIFT)
          : POOL_USED | (c << POOL_SZIDX_SHIFT) | (quantiseFullness(r, capacity[c]!) << POOL_FULLNESS_SHIFT);
    }
    states.fill(POOL_NEVER_CARVED, s0 + carved, s0 + total);
    states.fill(POOL_LOST, s0 + total, s0 + mp);
  }
  if (states.length > n) states.fill(POOL_ARENA_NOT_LIVE, n);
  return states;
}

/** A half-open range of slots [start, end). */
export interface SlotRange {
  start: number;
  end: number;
}

/**
 * The ranges of slots whose values differ between `prev` and `next`, ascending and disjoint.
 * Slots past the end of the shorter array count as 0 (POOL_ARENA_NOT_LIVE). Ranges separated
 * by at most `mergeGap` equal slots are merged into one (fewer, larger uploads); with the
 * default 0 each range is a maximal run of changed slots.
 */
export function diffPoolStates(prev: Uint16Array, next: Uint16Array, mergeGap = 0): SlotRange[] {
  const out: SlotRange[] = [];
  const n = Math.max(prev.length, next.length);
  const common = Math.min(prev.length, next.length);
  let i = 0;
  while (i < n) {
    // Skip equal slots.
    while (i < common && prev[i] === next[i]) i++;
    if (i >= common) {
      // The tail of the longer array: changed where it is not 0.
      const longer = prev.length > next.length ? prev : next;
      while (i < n && longer[i] === 0) i++;
    }
    if (i >= n) break;
    const start = i;
    let end = i + 1;
    i++;
    // Extend over changed slots, and over short gaps of equal ones when merging.
    let gap = 0;
    while (i < n) {
      const a = i < prev.length ? prev[i]! : 0;
      const b = i < next.length ? next[i]! : 0;
      if (a !== b) {
        end = i + 1;
        gap = 0;
      } else if (++gap > mergeGap) {
        break;
      }
      i++;
    }
    out.push({ start, end });
    i = end;
  }
  return out;
}
