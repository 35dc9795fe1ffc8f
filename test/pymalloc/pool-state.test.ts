import { describe, expect, it } from 'vitest';
import {
  POOL_ARENA_NOT_LIVE,
  POOL_EMPTY,
  POOL_LOST,
  POOL_NEVER_CARVED,
  POOL_USED,
  diffPoolStates,
  encodePoolStates,
  poolFullnessOf,
  poolStatusOf,
  poolSzidxOf,
  quantiseFullness,
} from '../../src/core/pymalloc/pool-state';
import { mulberry32 } from '../../src/core/raw/address-space';
import { createReplayHeap } from '../../src/core/trace/replay';

/** Slots a..b-1 of `s` as a plain array. */
function slots(s: Uint16Array, a: number, b: number): number[] {
  return Array.from(s.subarray(a, b));
}

describe('pool state array', () => {
  it('encodes a fresh heap as nothing, and one block as one used pool', () => {
    const heap = createReplayHeap({ python: '3.13' });
    expect(encodePoolStates(heap).length).toBe(0);
    heap.malloc(16);
    const s = encodePoolStates(heap);
    // 16 arena objects of 64 pools.
    expect(s.length).toBe(1024);
    // used | szidx 0 | fullness 1 (1 of 1021 blocks): 4 + (1 << 9)
    expect(s[0]).toBe(516);
    expect(slots(s, 1, 64)).toEqual(new Array(63).fill(POOL_NEVER_CARVED));
    expect(slots(s, 64, 1024).every((v) => v === POOL_ARENA_NOT_LIVE)).toBe(true);
  });

  it('pins full, partly used and empty pools of 512-byte blocks (3.13: 31 to a pool)', () => {
    const heap = createReplayHeap({ python: '3.13' });
    const hs: number[] = [];
    for (let i = 0; i < 32; i++) hs.push(heap.malloc(512));
    heap.malloc(16);
    let s = encodePoolStates(heap);
    // used | szidx 31 << 3 | fullness 15 << 9 = 4 + 248 + 7680
    expect(s[0]).toBe(7932);
    // the 32nd block: a second pool with 1 block (fullness 1)
    expect(s[1]).toBe(4 + 248 + 512);
    expect(s[2]).toBe(516);
    expect(s[3]).toBe(POOL_NEVER_CARVED);
    const before = s.slice();
    // 16 of 31 left in pool 0: fullness 1 + floor(15 * 14 / 30) = 8; pool 1 empties.
    for (let i = 0; i < 15; i++) heap.free(hs[i]!);
    heap.free(hs[31]!);
    s = encodePoolStates(heap);
    expect(s[0]).toBe(4 + 248 + (8 << 9));
    expect(poolFullnessOf(s[0]!)).toBe(8);
    // empty, on freepools, remembering class 31: 3 + 248
    expect(s[1]).toBe(251);
    expect(poolStatusOf(s[1]!)).toBe(POOL_EMPTY);
    expect(poolSzidxOf(s[1]!)).toBe(31);
    expect(heap.freepoolsOf(0)).toEqual([heap.poolId(0, 1)]);
    expect(diffPoolStates(before, s)).toEqual([{ start: 0, end: 2 }]);
  });

  it('marks the pool lost to alignment when the arena is not pool-aligned', () => {
    const heap = createReplayHeap({ python: '3.13', arenaOffsets: [4096] });
    heap.malloc(100);
    expect(heap.ntotalpools[0]).toBe(63);
    const s = encodePoolStates(heap);
    expect(s[62]).toBe(POOL_NEVER_CARVED);
    expect(s[63]).toBe(POOL_LOST);
    expect(s[64]).toBe(POOL_ARENA_NOT_LIVE);
    // szidx of 100 bytes on 16-byte alignment: 6 (block of 112), 145 to a pool: fullness 1
    expect(s[0]).toBe(4 + (6 << 3) + (1 << 9));
  });

  it('shows an arena given back to the OS as not live (3.8 releases at once)', () => {
    const heap = createReplayHeap({ python: '3.8' });
    // 3.8: 4 KiB pools hold 7 blocks of 512; 64 pools fill arena 0, the 449th block opens arena 1.
    const hs: number[] = [];
    for (let i = 0; i < 449; i++) hs.push(heap.malloc(512));
    let s = encodePoolStates(heap);
    expect(s.length).toBe(16 * 64);
    expect(slots(s, 0, 64)).toEqual(new Array(64).fill(4 + 248 + (15 << 9)));
    expect(s[64]).toBe(4 + 248 + (1 << 9));
    const before = s.slice();
    for (let i = 0; i < 448; i++) heap.free(hs[i]!);
    s = encodePoolStates(heap);
    expect(heap.isArenaLive(0)).toBe(false);
    expect(slots(s, 0, 64)).toEqual(new Array(64).fill(POOL_ARENA_NOT_LIVE));
    expect(s[64]).toBe(4 + 248 + (1 << 9));
    expect(diffPoolStates(before, s)).toEqual([{ start: 0, end: 64 }]);
  });

  it('reuses an output array, clearing the slots past the heap', () => {
    const heap = createReplayHeap({ python: '3.13' });
    heap.malloc(16);
    const out = new Uint16Array(2048).fill(0xffff);
    const s = encodePoolStates(heap, out);
    expect(s).toBe(out);
    expect(s[0]).toBe(516);
    expect(s[63]).toBe(POOL_NEVER_CARVED);
    expect(slots(s, 64, 2048).every((v) => v === 0)).toBe(true);
    // Too short: a new array of the heap's length.
    const small = new Uint16Array(10);
    const t = encodePoolStates(heap, small);
    expect(t).not.toBe(small);
    expect(t.length).toBe(1024);
  });

  it('quantises fullness: 15 only when full, never 0 for a used pool', () => {
    expect(quantiseFullness(1, 1021)).toBe(1);
    expect(quantiseFullness(1020, 1021)).toBe(14);
    expect(quantiseFullness(1021, 1021)).toBe(15);
    expect(quantiseFullness(1, 1)).toBe(15);
    expect(quantiseFullness(1, 2)).toBe(1);
    expect(quantiseFullness(4, 7)).toBe(1 + Math.floor((3 * 14) / 6)); // 8
  });

  it('agrees with the heap on a random heap, slot by slot', () => {
    const heap = createReplayHeap({ python: '3.11', aslrSeed: 4 });
    const rnd = mulberry32(3);
    const live: number[] = [];
    for (let i = 0; i < 60_000; i++) {
      if (live.length === 0 || rnd() < 0.55) live.push(heap.malloc(1 + Math.floor(rnd() * 512)));
      else {
        const j = rnd() < 0.5 ? live.length - 1 : Math.floor(rnd() * live.length);
        heap.free(live[j]!);
        live[j] = live[live.length - 1]!;
        live.pop();
      }
    }
    const s = encodePoolStates(heap);
    const count = [0, 0, 0, 0, 0];
    for (let a = 0; a < heap.maxarenas; a++) {
      const free = new Set(heap.isArenaLive(a) ? heap.freepoolsOf(a) : []);
      for (let i = 0; i < 64; i++) {
        const v = s[a * 64 + i]!;
        const p = heap.poolId(a, i);
        const st = poolStatusOf(v);
        count[st]!++;
        expect(v >> 13).toBe(0);
        if (st === POOL_EMPTY) expect(free.has(p)).toBe(true);
        else expect(free.has(p)).toBe(false);
        if (st === POOL_USED) {
          expect(poolSzidxOf(v)).toBe(heap.szidx[p]);
          expect(poolFullnessOf(v)).toBe(quantiseFullness(heap.ref[p]!, heap.capacity[heap.szidx[p]!]!));
        }
        if (st === POOL_LOST) expect(i).toBe(63);
      }
    }
    // Every block in use is in a used pool.
    let blocks = 0;
    for (let a = 0; a < heap.maxarenas; a++) for (let i = 0; i < 64; i++) if (poolStatusOf(s[a * 64 + i]!) === POOL_USED) blocks += heap.ref[heap.poolId(a, i)]!;
    expect(blocks).toBe(live.length);
    expect(count[POOL_USED]).toBeGreaterThan(10);
    expect(count[POOL_LOST]).toBe(Array.from({ length: heap.maxarenas }, (_, a) => a).filter((a) => heap.isArenaLive(a) && heap.ntotalpools[a] === 63).length);
  });

  it('diffs into maximal changed ranges, merging short gaps on request', () => {
    const a = Uint16Array.of(0, 1, 1, 0, 0, 2, 7, 7);
    const b = Uint16Array.of(0, 2, 1, 5, 0, 2, 7, 8);
    expect(diffPoolStates(a, b)).toEqual([
      { start: 1, end: 2 },
      { start: 3, end: 4 },
      { start: 7, end: 8 },
    ]);
    // One equal slot between 1 and 3 is bridged; the three between 3 and 7 are not.
    expect(diffPoolStates(a, b, 1)).toEqual([
      { start: 1, end: 4 },
      { start: 7, end: 8 },
    ]);
    expect(diffPoolStates(a, b, 2)).toEqual(diffPoolStates(a, b, 1));
    expect(diffPoolStates(a, b, 3)).toEqual([{ start: 1, end: 8 }]);
    expect(diffPoolStates(a, a)).toEqual([]);
    // Different lengths: missing slots count as 0 (arena not live).
    const short = Uint16Array.of(1, 0, 0);
    const long = Uint16Array.of(1, 0, 0, 0, 5, 0, 0);
    expect(diffPoolStates(short, long)).toEqual([{ start: 4, end: 5 }]);
    expect(diffPoolStates(long, short)).toEqual([{ start: 4, end: 5 }]);
    expect(diffPoolStates(new Uint16Array(0), Uint16Array.of(0, 0, 9))).toEqual([{ start: 2, end: 3 }]);
  });
});
