/**
 * Arena placement: the deterministic offset list and the realistic Linux mode, and the
 * memory limit through the whole stack (address space -> glibc model -> pymalloc fallback).
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, PAGE_SIZE, randomizedLayout } from '../../src/core/raw/address-space';
import { OffsetArenaPlacer, SLOT_REGION_START, parseArenaOffsets } from '../../src/core/raw/arenas';
import { createReplayHeap, replayText } from '../../src/core/trace/replay';

describe('deterministic placement (trace-format.md)', () => {
  it('puts the k-th arena at the lowest free 2 MiB slot plus offsets[k mod n]', () => {
    const space = new AddressSpace();
    const p = new OffsetArenaPlacer(space, [0, 4096], 1 << 20);
    const a = p.allocArena(1 << 20);
    const b = p.allocArena(1 << 20);
    expect(a).toBe(SLOT_REGION_START);
    expect(b).toBe(SLOT_REGION_START + 2 * 2 ** 20 + 4096);
    p.freeArena(a, 1 << 20);
    // Slot 0 is free again; the third allocation uses offsets[2 mod 2] = 0.
    expect(p.allocArena(1 << 20)).toBe(SLOT_REGION_START);
    expect(space.mappingCount).toBe(2);
  });
  it('rejects offsets outside [0, ARENA_SIZE) and malformed lists', () => {
    expect(() => new OffsetArenaPlacer(new AddressSpace(), [1 << 20], 1 << 20)).toThrow(/out of range/);
    expect(parseArenaOffsets('0, 4096,8192')).toEqual([0, 4096, 8192]);
    expect(() => parseArenaOffsets('0,-1')).toThrow("arena offsets: item 2 ('-1') is not a non-negative integer");
  });
});

describe('realistic Linux placement (--aslr)', () => {
  it('maps arenas top-down, adjacent, page-aligned, below the randomised mmap base', () => {
    const heap = createReplayHeap({ python: '3.11', aslrSeed: 12345 });
    const layout = randomizedLayout(12345);
    const hs: number[] = [];
    for (let i = 0; i < 3 * 64 * 31; i++) hs.push(heap.malloc(512)); // three arenas' worth of pools
    const addrs = [0, 1, 2].map((a) => heap.arenaAddress[a]!);
    expect(addrs.every((x) => x % PAGE_SIZE === 0 && x < layout.mmapBase)).toBe(true);
    // The radix tree's mid node (PyMem_RawCalloc of 256 KiB: above glibc's mmap threshold,
    // so its own mapping of 256 KiB + one page for the chunk header) lands right below the
    // first arena; the 128 KiB bottom node still fits in the brk heap's top chunk. So the
    // second arena sits below the mid node, and the third touches the second.
    expect(addrs[2]).toBe(addrs[1]! - (1 << 20));
    expect(addrs[0]! - addrs[1]!).toBe((1 << 20) + (256 << 10) + 4096);
  });

  it('gives most 3.10+ arenas 63 pools, depending on the seed, as ASLR does', () => {
    let with63 = 0;
    for (let seed = 0; seed < 200; seed++) {
      const heap = createReplayHeap({ python: '3.11', aslrSeed: seed });
      heap.malloc(16);
      const n = heap.ntotalpools[0]!;
      expect(n === 63 || n === 64).toBe(true);
      if (n === 63) with63++;
    }
    // Page-granular randomness leaves 1 chance in 4 of a 16 KiB-aligned arena.
    expect(with63).toBeGreaterThan(130);
    expect(with63).toBeLessThan(170);
  });

  it('never gives 3.7-3.9 arenas fewer than 64 pools (4 KiB pools = pages)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const heap = createReplayHeap({ python: '3.9', aslrSeed: seed });
      heap.malloc(16);
      expect(heap.ntotalpools[0]).toBe(64);
    }
  });

  it('replays to the same dump as the offset placement with the same pool counts', () => {
    // Fits in one arena (the second arena's alignment depends on what was mapped before it).
    const trace = Array.from({ length: 1200 }, (_, i) => `a ${i} ${(i * 37) % 512 + 1}`).join('\n') + '\n';
    const aligned = [0, 1, 2, 3, 4, 5].find((s) => {
      const h = createReplayHeap({ python: '3.11', aslrSeed: s });
      h.malloc(16);
      return h.ntotalpools[0] === 64;
    })!;
    const unaligned = [0, 1, 2, 3, 4, 5].find((s) => {
      const h = createReplayHeap({ python: '3.11', aslrSeed: s });
      h.malloc(16);
      return h.ntotalpools[0] === 63;
    })!;
    const real = replayText(trace, { python: '3.11', aslrSeed: aligned, internals: true });
    expect(real).toContain('arenas_allocated_total 1\n');
    expect(real).toBe(replayText(trace, { python: '3.11', arenaOffsets: [0], internals: true }));
    expect(replayText(trace, { python: '3.11', aslrSeed: unaligned, internals: true })).toBe(
      replayText(trace, { python: '3.11', arenaOffsets: [4096], internals: true }),
    );
  });
});

describe('memory limit', () => {
  it('makes pymalloc fall back to malloc when no arena can be mapped, and NULL when nothing fits', () => {
    // 3.9: the arena vector (768 B) comes first from the brk heap (132 KiB), then a 256 KiB arena.
    expect(replayText('a 1 16\n', { python: '3.9', memoryLimit: 400 << 10 }).split('\n')[0]).toBe('1 pool 0:0:0:0');
    expect(replayText('a 1 16\n', { python: '3.9', memoryLimit: 256 << 10 }).split('\n')[0]).toBe('1 raw -');
    const none = replayText('a 1 16\nr 2 600\nc 3 1 1\n', { python: '3.9', memoryLimit: 4096 });
    expect(none.split('\n').slice(0, 3)).toEqual(['1 null -', '2 null -', '3 null -']);
    expect(none).toContain('allocated_blocks 0\n');
  });
});
