/**
 * What is selected on the heap map and shown in the inspector: the heap map's `HeapSelection`
 * (an arena, a pool slot = arena * pools per arena + ordinal, one block of a pool, or a malloc
 * chunk of the raw region, by the pointer malloc returned).
 */
import type { HeapSelection } from '../heapmap/types';

export type { HeapSelection };

export function sameSelection(a: HeapSelection | null, b: HeapSelection | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'arena':
      return a.arena === (b as typeof a).arena;
    case 'pool':
      return a.slot === (b as typeof a).slot;
    case 'block':
      return a.slot === (b as typeof a).slot && a.block === (b as typeof a).block;
    case 'raw':
      return a.address === (b as typeof a).address;
  }
}

/** POOL_OVERHEAD: the pool header rounded up to ALIGNMENT, 48 bytes on 64-bit in every version. */
export const POOL_OVERHEAD = 48;

/** The address of block `block` of a pool at `poolAddress` with blocks of `blockSize` bytes. */
export function blockAddress(poolAddress: number, blockSize: number, block: number): number {
  return poolAddress + POOL_OVERHEAD + block * blockSize;
}
