/**
 * How full the arenas are: what a fragmentation workload leaves is arenas that hold few live
 * blocks but cannot be given back to the OS (an arena is unmapped only when all its pools are
 * empty). Computed from the pool headers (`ref.count` times the block size of each pool).
 */
import type { PymallocHeap } from '../pymalloc/heap';

export interface ArenaUsage {
  /** Arenas currently mapped. */
  arenas: number;
  /** Their bytes (arenas * ARENA_SIZE). */
  arenaBytes: number;
  /** Bytes of the pool blocks in use (block sizes, not requested sizes). */
  blockBytes: number;
  /** Arenas whose blocks in use fill less than `sparseBelow` of the arena. */
  sparseArenas: number;
  /** Arenas with no block in use at all (kept by the allocator, e.g. the last usable one). */
  emptyArenas: number;
}

export function arenaUsage(heap: PymallocHeap, sparseBelow = 0.25): ArenaUsage {
  let arenas = 0;
  let blockBytes = 0;
  let sparse = 0;
  let empty = 0;
  for (let a = 0; a < heap.maxarenas; a++) {
    if (heap.arenaAddress[a] === 0) continue;
    arenas++;
    const first = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    let used = 0;
    for (let p = first; p < first + carved; p++) {
      const ref = heap.ref[p]!;
      if (ref > 0) used += ref * heap.blockSizeOfPool(p);
    }
    blockBytes += used;
    if (used === 0) empty++;
    if (used < sparseBelow * heap.arenaSize) sparse++;
  }
  return { arenas, arenaBytes: arenas * heap.arenaSize, blockBytes, sparseArenas: sparse, emptyArenas: empty };
}
