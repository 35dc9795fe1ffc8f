/**
 * Where pymalloc's arenas are placed: `_PyObject_Arena.alloc` / `.free` (mmap / munmap).
 *
 *   - `OffsetArenaPlacer`: the deterministic placement of trace-format.md, the one the
 *     pymalloc oracle uses: a region of slots (2 MiB, or twice the arena size if larger); each
 *     new arena goes into the lowest free slot, `offsets[k mod n]` bytes past the slot start,
 *     where k counts every arena allocation of the run. Only `offset % POOL_SIZE` changes what
 *     pymalloc does (64 pools when 0, otherwise 63).
 *   - `MmapArenaPlacer`: realistic Linux placement, `mmap(NULL, ARENA_SIZE)` in the process's
 *     top-down mmap area; with 16 KiB pools on 4 KiB pages most arenas then get 63 pools, and
 *     which ones depends on the (seeded) randomised mmap base, as on a real machine.
 */
import type { ArenaSource } from '../pymalloc/heap';
import { AddressSpace, PAGE_SIZE } from './address-space';

/**
 * Start of the slot region: the oracle's REGION_HINT (0x5e0000000000), above the brk heap and
 * far below the mmap area, so that radix-tree node counts match the oracle's runs too.
 */
export const SLOT_REGION_START = 0x5e00_0000_0000;
export const SLOT_REGION_END = 0x7000_0000_0000;

export class OffsetArenaPlacer implements ArenaSource {
  readonly offsets: readonly number[];
  readonly slotSize: number;
  private readonly space: AddressSpace;
  /** Slot index -> live arena address (0 when free). */
  private readonly slots: number[] = [];
  private lowestFree = 0;
  private allocations = 0;

  constructor(space: AddressSpace, offsets: readonly number[], arenaSize: number) {
    if (offsets.length === 0) throw new Error('arena offsets: the list is empty');
    for (const o of offsets) {
      if (!Number.isInteger(o) || o < 0 || o >= arenaSize) {
        throw new Error(`arena offset ${o} is out of range (0 <= offset < ARENA_SIZE = ${arenaSize})`);
      }
    }
    this.space = space;
    this.offsets = [...offsets];
    this.slotSize = Math.max(2 * 1024 * 1024, 2 * arenaSize); // the oracle's SLOT_STRIDE
  }

  allocArena(size: number): number {
    const offset = this.offsets[this.allocations % this.offsets.length]!;
    let k = this.lowestFree;
    while (k < this.slots.length && this.slots[k] !== 0) k++;
    const slotStart = SLOT_REGION_START + k * this.slotSize;
    if (slotStart + this.slotSize > SLOT_REGION_END) return 0;
    // Page-aligned mapping that covers [slotStart + offset, + size).
    const addr = slotStart + offset;
    const mapStart = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    if (!this.space.mapFixed(mapStart, addr + size - mapStart, 'arena')) return 0;
    this.allocations++;
    this.slots[k] = addr;
    this.lowestFree = k + 1;
    return addr;
  }

  freeArena(address: number, size: number): void {
    const k = Math.floor((address - SLOT_REGION_START) / this.slotSize);
    if (this.slots[k] !== address) throw new Error(`arena 0x${address.toString(16)} was not placed here`);
    const mapStart = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
    this.space.munmap(mapStart, address + size - mapStart);
    this.slots[k] = 0;
    if (k < this.lowestFree) this.lowestFree = k;
  }
}

export class MmapArenaPlacer implements ArenaSource {
  private readonly space: AddressSpace;
  constructor(space: AddressSpace) {
    this.space = space;
  }
  allocArena(size: number): number {
    return this.space.mmap(size, 'arena');
  }
  freeArena(address: number, size: number): void {
    this.space.munmap(address, size);
  }
}

/** Parses `0,4096,...` (the `--arena-offsets` option). */
export function parseArenaOffsets(text: string): number[] {
  const parts = text.split(',');
  return parts.map((p, i) => {
    const t = p.trim();
    if (!/^\d{1,16}$/.test(t)) throw new Error(`arena offsets: item ${i + 1} ('${p}') is not a non-negative integer`);
    return Number(t);
  });
}
