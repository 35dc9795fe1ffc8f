/**
 * Synthetic heaps for the render benchmark and the heap map's test page: seeded, so every run
 * draws the same picture. The mix imitates a long-running CPython process: most arena slots
 * live, a few freed; arenas carved to the end except the newest; about half the arenas missing
 * their last pool to alignment; pools mostly of the small classes Python objects use (32-64
 * bytes), most of them full, some partly used, a few empty on freepools.
 */
import type { PoolInfo } from '../../../shared/protocol';
import {
  POOL_ARENA_NOT_LIVE,
  POOL_EMPTY,
  POOL_FULLNESS_FULL,
  POOL_LOST,
  POOL_NEVER_CARVED,
  POOL_USED,
  poolFullnessOf,
  poolStateValue,
  poolStatusOf,
  poolSzidxOf,
} from '../../../core/pymalloc/pool-state';
import { mulberry32 } from '../../../core/raw/address-space';

/** mulberry32 (the core's seeded PRNG), uniform in [0, 1). */
export const rng: (seed: number) => () => number = mulberry32;

/** Size-class weights: heavy on classes 1-4 (32-80 bytes with 16-byte alignment), a long tail. */
function classWeights(classes: number): Float64Array {
  const w = new Float64Array(classes);
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    w[k] = (k >= 1 && k <= 4 ? 6 : 1) / Math.pow(k + 1, 1.1);
    sum += w[k]!;
  }
  let acc = 0;
  for (let k = 0; k < classes; k++) {
    acc += w[k]! / sum;
    w[k] = acc;
  }
  return w;
}

export function syntheticPoolStates(arenas: number, poolsPerArena: number, seed = 1, classes = 32): Uint16Array {
  const out = new Uint16Array(arenas * poolsPerArena);
  const r = rng(seed);
  const cdf = classWeights(classes);
  const pickClass = (): number => {
    const u = r();
    let k = 0;
    while (k < classes - 1 && cdf[k]! < u) k++;
    return k;
  };
  for (let a = 0; a < arenas; a++) {
    const s0 = a * poolsPerArena;
    if (r() < 0.06) {
      out.fill(POOL_ARENA_NOT_LIVE, s0, s0 + poolsPerArena);
      continue;
    }
    const total = r() < 0.5 ? poolsPerArena - 1 : poolsPerArena;
    const newest = a >= arenas * 0.97;
    const carved = newest ? Math.floor(r() * (total + 1)) : total;
    for (let o = 0; o < carved; o++) {
      if (r() < 0.08) {
        out[s0 + o] = poolStateValue(POOL_EMPTY, pickClass());
        continue;
      }
      const full = r() < 0.7;
      out[s0 + o] = poolStateValue(POOL_USED, pickClass(), full ? POOL_FULLNESS_FULL : 1 + Math.floor(r() * 14));
    }
    out.fill(POOL_NEVER_CARVED, s0 + carved, s0 + total);
    out.fill(POOL_LOST, s0 + total, s0 + poolsPerArena);
  }
  return out;
}

/**
 * Blocks of a synthetic pool consistent with its state value: as many in use as its fullness
 * says, free blocks interleaved below the high-water mark (nextoffset), the rest never used.
 */
export function syntheticPoolInfo(slot: number, state: number, poolsPerArena: number, alignment = 16, poolSize = 16384): PoolInfo | null {
  const status = poolStatusOf(state);
  const arena = Math.floor(slot / poolsPerArena);
  const ordinal = slot % poolsPerArena;
  const szidx = poolSzidxOf(state);
  const blockSize = (szidx + 1) * alignment;
  const capacity = Math.floor((poolSize - 48) / blockSize);
  const base = {
    slot,
    arena,
    ordinal,
    address: 0x7f0000000000 + arena * poolsPerArena * poolSize + ordinal * poolSize,
    header: [],
    sizeClass: szidx,
    blockSize,
    capacity,
  };
  if (status !== POOL_USED && status !== POOL_EMPTY) {
    return { ...base, carved: false, blocks: [], freeList: [] };
  }
  const f = poolFullnessOf(state);
  const used = status === POOL_EMPTY ? 0 : f === POOL_FULLNESS_FULL ? capacity : Math.max(1, Math.round((f / 15) * capacity));
  const r = rng(slot + 7);
  const high = Math.min(capacity, used + Math.floor(r() * (capacity - used + 1)));
  const blocks = new Array<number>(capacity).fill(0);
  const below: number[] = [];
  for (let b = 0; b < high; b++) below.push(b);
  // Pick `used` of the first `high` blocks to be in use, the others there are free.
  for (let i = below.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [below[i], below[j]] = [below[j]!, below[i]!];
  }
  for (let i = 0; i < below.length; i++) blocks[below[i]!] = i < used ? 2 : 1;
  const freeList = below.slice(used);
  return { ...base, carved: true, blocks, freeList };
}
