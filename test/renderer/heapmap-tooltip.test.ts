/** What the heap map's tooltip says (tooltip.ts), for each pool state and at block level. */
import { describe, expect, it } from 'vitest';
import { POOL_ARENA_NOT_LIVE, POOL_EMPTY, POOL_LOST, POOL_NEVER_CARVED, POOL_USED, poolStateValue } from '../../src/core/pymalloc/pool-state';
import type { PoolInfo } from '../../src/shared/protocol';
import { tooltipLines, type HoverInfo } from '../../src/renderer/src/heapmap/tooltip';

const at = (state: number, extra: Partial<HoverInfo> = {}): HoverInfo => ({
  x: 0,
  y: 0,
  arena: 2,
  slot: 2 * 64 + 9,
  ordinal: 9,
  state,
  block: null,
  pool: null,
  ...extra,
});

describe('tooltipLines', () => {
  it('names the arena, pool and slot, the class with its block size, and the quantised fullness', () => {
    expect(tooltipLines(at(poolStateValue(POOL_USED, 3, 7)), 16)).toEqual(['arena 2 · pool 9 (slot 137)', 'size class 3 · 64-byte blocks', 'fullness 7/15']);
    expect(tooltipLines(at(poolStateValue(POOL_USED, 3, 15)), 16)[2]).toBe('full');
    // 8-byte alignment (3.7.0-3.7.3): class 3 holds 32-byte blocks.
    expect(tooltipLines(at(poolStateValue(POOL_USED, 3, 15)), 8)[1]).toBe('size class 3 · 32-byte blocks');
  });

  it('says what the other pool states are', () => {
    expect(tooltipLines(at(poolStateValue(POOL_EMPTY, 5)), 16)[1]).toBe('empty pool (on freepools), last held class 5 · 96-byte blocks');
    expect(tooltipLines(at(poolStateValue(POOL_NEVER_CARVED)), 16)[1]).toBe('never carved: fresh arena memory');
    expect(tooltipLines(at(poolStateValue(POOL_LOST)), 16)[1]).toBe('lost to arena alignment (the arena is not pool-aligned)');
    expect(tooltipLines(at(poolStateValue(POOL_ARENA_NOT_LIVE)), 16)[1]).toBe('no arena in this slot');
    expect(tooltipLines(at(6), 16)[1]).toBe('invalid state 0x6');
    expect(tooltipLines(at(0, { slot: null, ordinal: null }), 16)).toEqual(['arena 2']);
  });

  it('counts the blocks of a loaded pool and describes the block under the pointer', () => {
    const pool: PoolInfo = {
      slot: 137,
      arena: 2,
      ordinal: 9,
      address: 0x7f0000004000,
      carved: true,
      header: [],
      sizeClass: 3,
      blockSize: 64,
      capacity: 6,
      blocks: [2, 1, 2, 1, 0, 0],
      freeList: [3, 1],
    };
    const state = poolStateValue(POOL_USED, 3, 7);
    const lines = tooltipLines(at(state, { pool, block: 1 }), 16);
    expect(lines[1]).toBe('size class 3 · 64-byte blocks');
    expect(lines[2]).toBe('2 of 6 blocks in use · 2 free · 2 never used');
    // Block 1 is second on the free list; its address is pool + POOL_OVERHEAD (48) + 1 * 64.
    expect(lines[3]).toBe('block 1 (0x7f0000004070) · free, #2 of 2 free-list entries');
    expect(tooltipLines(at(state, { pool, block: 0 }), 16)[3]).toBe('block 0 (0x7f0000004030) · in use');
    expect(tooltipLines(at(state, { pool, block: 5 }), 16)[3]).toBe('block 5 (0x7f0000004170) · never used');
  });

  it('adds the arena\'s address when it is known', () => {
    const state = poolStateValue(POOL_USED, 3, 7);
    expect(tooltipLines(at(state, { arenaAddress: 0x5e0000400000 }), 16)).toEqual([
      'arena 2 · pool 9 (slot 137)',
      'size class 3 · 64-byte blocks',
      'fullness 7/15',
      'arena at 0x5e0000400000',
    ]);
    expect(tooltipLines(at(0, { slot: null, ordinal: null, arenaAddress: 0x5e0000400000 }), 16)).toEqual(['arena 2', 'arena at 0x5e0000400000']);
    expect(tooltipLines(at(state, { arenaAddress: 0 }), 16)).toHaveLength(3);
  });

  it('describes a malloc chunk of the raw region, or the free memory there', () => {
    const raw = { kind: 'brk' as const, address: 0x555555579400, regionStart: 0x555555579000, regionLength: 0x21000 };
    // A heap chunk's usable size is its size - 8 (the next chunk's prev_size word), an mmapped one's - 16.
    expect(tooltipLines(at(0, { raw: { ...raw, chunk: { address: 0x555555579310, size: 131088, mmapped: false } } }), 16)).toEqual([
      'malloc chunk 0x555555579310 · brk heap',
      '131088 bytes · 131080 usable · malloc returned 0x555555579320',
    ]);
    expect(tooltipLines(at(0, { raw: { ...raw, kind: 'mmap', chunk: { address: 0x7ffff7fbe000, size: 0x41000, mmapped: true } } }), 16)).toEqual([
      'malloc chunk 0x7ffff7fbe000 · mmapped',
      '266240 bytes · 266224 usable · malloc returned 0x7ffff7fbe010',
    ]);
    expect(tooltipLines(at(0, { raw: { ...raw, chunk: null } }), 16)).toEqual([
      'brk heap 0x555555579000–0x55555559a000 (135168 bytes)',
      "0x555555579400 · free: in glibc's bins, tcache, fastbins or top",
    ]);
  });
});
