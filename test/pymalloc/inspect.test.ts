/**
 * Inspector views: pool headers and arena objects with the values C would hold, block states,
 * and what lies at an address.
 */
import { describe, expect, it } from 'vitest';
import { FIXED_LAYOUT } from '../../src/core/raw/address-space';
import { SLOT_REGION_START } from '../../src/core/raw/arenas';
import {
  arenaObjectView,
  freeBlockLink,
  locate,
  poolBlocks,
  poolHeaderView,
  usedpoolsHeadAddress,
} from '../../src/core/pymalloc/inspect';
import { createReplayHeap } from '../../src/core/trace/replay';

function fields(v: { fields: { name: string; value: number }[] }): Record<string, number> {
  return Object.fromEntries(v.fields.map((f) => [f.name, f.value]));
}

describe('inspecting pymalloc memory (3.11, arena at the first slot)', () => {
  const heap = createReplayHeap({ python: '3.11' });
  const b0 = heap.malloc(16);
  const b1 = heap.malloc(16);
  heap.malloc(16);
  heap.free(b1);
  const big = heap.malloc(500);
  const pool0 = heap.poolId(0, 0);
  const pool1 = heap.poolId(0, 1);
  const P = SLOT_REGION_START;

  it('shows the pool header as C holds it', () => {
    const v = poolHeaderView(heap, pool0);
    expect(v.address).toBe(P);
    expect(fields(v)).toEqual({
      'ref.count': 2,
      freeblock: P + 48 + 16, // block 1, freed last
      nextpool: usedpoolsHeadAddress(0), // alone in usedpools[0]
      prevpool: usedpoolsHeadAddress(0),
      arenaindex: 0,
      szidx: 0,
      nextoffset: 48 + 4 * 16, // blocks 0..3 handed out (block 3 lazily, on the free list)
      maxnextoffset: 16384 - 16,
    });
    expect(v.fields.find((f) => f.name === 'nextpool')!.target).toBe('usedpools[0] (list head)');
  });

  it('follows the free list through the blocks', () => {
    const blocks = poolBlocks(heap, pool0)!;
    expect(blocks.freeOrder).toEqual([1, 3]);
    expect(Array.from(blocks.states.slice(0, 6))).toEqual([1, 2, 1, 2, 0, 0]);
    expect(blocks.states.length).toBe(1021);
    expect(freeBlockLink(heap, pool0, 1)).toBe(P + 48 + 3 * 16);
    expect(freeBlockLink(heap, pool0, 3)).toBe(0);
  });

  it('shows the arena object in the raw-allocated arena vector', () => {
    const v = arenaObjectView(heap, 0);
    // The vector (16 * 48 bytes) is the first chunk of the brk heap.
    expect(v.address).toBe(FIXED_LAYOUT.brkStart + 16);
    expect(fields(v)).toEqual({
      address: P,
      pool_address: P + 2 * 16384,
      nfreepools: 62,
      ntotalpools: 64,
      freepools: 0,
      nextarena: 0,
      prevarena: 0,
    });
    expect(fields(arenaObjectView(heap, 1)).nextarena).toBe(FIXED_LAYOUT.brkStart + 16 + 2 * 48); // unused list: 1 -> 2
  });

  it('locates addresses: blocks, headers, the quantization tail, uncarved pools, raw memory', () => {
    expect(heap.addressOf(b0)).toBe(P + 48);
    expect(locate(heap, P + 50)).toMatchObject({ kind: 'block', block: 0, offset: 2, state: 'in use' });
    expect(locate(heap, P + 48 + 16)).toMatchObject({ kind: 'block', block: 1, state: 'free' });
    expect(locate(heap, P + 48 + 100 * 16)).toMatchObject({ kind: 'block', block: 100, state: 'untouched' });
    expect(locate(heap, P + 10)).toEqual({ kind: 'pool-header', arena: 0, pool: pool0, ordinal: 0, offset: 10 });
    expect(heap.addressOf(big)).toBe(P + 16384 + 48);
    expect(locate(heap, P + 16384 + 48 + 31 * 512 + 5)).toMatchObject({ kind: 'pool-tail', pool: pool1 });
    expect(locate(heap, P + 5 * 16384)).toMatchObject({ kind: 'uncarved-pool', ordinal: 5 });
    expect(locate(heap, FIXED_LAYOUT.brkStart + 16)).toEqual({ kind: 'outside' });
    expect(heap.handleAt(P + 48 + 32)).toBe(pool0 * 2048 + 2);
    expect(() => heap.handleAt(P + 50)).toThrow(/not the start of a block/);
  });

  it('shows a never-carved pool as zeroed memory', () => {
    expect(fields(poolHeaderView(heap, heap.poolId(0, 9)))['szidx']).toBe(0);
    expect(poolBlocks(heap, heap.poolId(0, 9))).toBeNull();
  });
});
