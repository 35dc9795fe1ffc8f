/**
 * The invariant checker after every operation of many random traces, on every profile, with
 * aligned and unaligned arenas. The traces are biased so that arenas fill, empty, get released
 * and reused, pools change size class and the arena vector grows.
 */
import { describe, expect, it } from 'vitest';
import { PROFILE_IDS } from '../../src/core/profiles';
import { checkHeap } from '../../src/core/pymalloc/check';
import { mulberry32 } from '../../src/core/raw/address-space';
import { createReplayHeap } from '../../src/core/trace/replay';

function randomRun(python: string, seed: number, offsets: number[]): { checked: number; arenas: number; released: number } {
  const heap = createReplayHeap({ python, arenaOffsets: offsets });
  const rnd = mulberry32(seed);
  const live: number[] = [];
  let checked = 0;
  // Cycles: grow to about 2.5 arenas of mostly large blocks, then free all but a few, so
  // that arenas fill, empty, get released and reused, and pools change size class.
  const target = Math.floor((2.5 * heap.profile.arenaSize) / 400);
  const check = (what: string): void => {
    const errs = checkHeap(heap);
    if (errs.length > 0) throw new Error(`${python} seed ${seed} op ${checked} (${what}): ${errs.join('; ')}`);
    checked++;
  };
  for (let cycle = 0; cycle < 3; cycle++) {
    while (live.length < target) {
      const kind = rnd();
      const size = kind < 0.03 ? 0 : kind < 0.06 ? 513 + Math.floor(rnd() * 2000) : kind < 0.8 ? 385 + Math.floor(rnd() * 128) : 1 + Math.floor(rnd() * 512);
      const h = rnd() < 0.1 ? heap.calloc(1 + Math.floor(rnd() * 4), Math.max(1, Math.floor(size / 4))) : heap.malloc(size);
      expect(h).not.toBe(0);
      live.push(h);
      check('alloc');
      if (rnd() < 0.15) {
        const j = Math.floor(rnd() * live.length);
        heap.free(live[j]!);
        live[j] = live[live.length - 1]!;
        live.pop();
        check('free');
      }
      if (rnd() < 0.08) {
        const j = Math.floor(rnd() * live.length);
        const h2 = heap.realloc(live[j]!, Math.floor(rnd() * 700));
        expect(h2).not.toBe(0);
        live[j] = h2;
        check('realloc');
      }
    }
    while (live.length > 20) {
      const j = Math.floor(rnd() * live.length);
      heap.free(live[j]!);
      live[j] = live[live.length - 1]!;
      live.pop();
      check('free');
    }
  }
  for (const h of live) heap.free(h);
  check('free all');
  expect(heap.allocatedBlocks()).toBe(0);
  const k = heap.counters();
  return { checked, arenas: k.allocatedTotal, released: k.reclaimed };
}

describe('heap invariants after every operation', () => {
  for (const python of PROFILE_IDS) {
    it(`${python}: random traces keep every invariant`, () => {
      let arenas = 0;
      let released = 0;
      let checked = 0;
      for (let seed = 1; seed <= 3; seed++) {
        const offsets = seed % 2 === 0 ? [0] : [4096, 0, 2048];
        const r = randomRun(python, seed * 7919, offsets);
        arenas += r.arenas;
        released += r.released;
        checked += r.checked;
      }
      // The traces must really exercise arena creation and release.
      expect(arenas).toBeGreaterThanOrEqual(9);
      expect(released).toBeGreaterThanOrEqual(6);
      expect(checked).toBeGreaterThan(10000);
    });
  }

  it('the checker catches a corrupted heap', () => {
    const heap = createReplayHeap({ python: '3.11' });
    const a = heap.malloc(16);
    heap.malloc(16);
    heap.free(a);
    expect(checkHeap(heap)).toEqual([]);
    heap.ref[heap.poolId(0, 0)] = 5; // break ref.count
    expect(checkHeap(heap)).toEqual([
      'poolBlocksInUse 1 != sum of ref.count 5',
      'poolBytesInUse 16 != sum of block bytes 80',
      'pool 0:0: free list has 2 blocks, expected -2']);
    heap.ref[heap.poolId(0, 0)] = 1;
    heap.nfreepools[0] = 10; // break the arena count
    expect(checkHeap(heap).join('\n')).toMatch(/arena 0: nfreepools 10 != 0 free \+ 63 uncarved/);
  });
});
