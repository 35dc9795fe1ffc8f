/**
 * Read-only views of pymalloc's memory for inspectors: the bytes of a pool header and of an
 * arena object as C lays them out on 64-bit Linux (offset, size, value, what a pointer points
 * to), the state of every block of a pool, and what lies at any address.
 *
 * Pointers are simulated addresses. The `usedpools` array is static data of libpython (3.12+:
 * inside `_PyRuntime`, also static); its list heads are the disguised pool headers
 * `&usedpools[2i] - 2 pointers`, so a pool alone in its class points at that address.
 */
import { LINK_NULL, NULL_ID, type PymallocHeap } from './heap';

/** Where the simulation places libpython's `usedpools[]` (static data). */
export const USEDPOOLS_ADDRESS = 0x7fff_f7e4_5a40;

export interface Field {
  name: string;
  offset: number;
  size: number;
  value: number;
  /** For pointers: what the value points to. */
  target?: string;
}

export interface StructView {
  /** Address of the struct. */
  address: number;
  size: number;
  fields: Field[];
}

/** Address of the disguised list head of usedpools[szidx]. */
export function usedpoolsHeadAddress(szidx: number): number {
  return USEDPOOLS_ADDRESS + 2 * 8 * szidx - 16;
}

function poolPointer(heap: PymallocHeap, p: number): { value: number; target: string } {
  if (p === NULL_ID) return { value: 0, target: 'NULL' };
  if (p < heap.nsent) return { value: usedpoolsHeadAddress(p), target: `usedpools[${p}] (list head)` };
  return { value: heap.poolAddress(p), target: `pool ${heap.arenaOfPool(p)}:${heap.ordinalOfPool(p)}` };
}

/** Whether pool `pool` has ever been carved (its header was written). */
export function isCarved(heap: PymallocHeap, pool: number): boolean {
  const a = heap.arenaOfPool(pool);
  return heap.isArenaLive(a) && heap.ordinalOfPool(pool) < heap.arenaNextCarve[a]!;
}

/**
 * struct pool_header (48 bytes): ref.count, freeblock, nextpool, prevpool, arenaindex, szidx,
 * nextoffset, maxnextoffset. A never-carved pool is fresh mmap memory: all zero.
 */
export function poolHeaderView(heap: PymallocHeap, pool: number): StructView {
  const address = heap.poolAddress(pool);
  if (!isCarved(heap, pool)) {
    const zero = (name: string, offset: number, size: number): Field => ({ name, offset, size, value: 0 });
    return {
      address,
      size: 48,
      fields: [
        zero('ref.count', 0, 8),
        zero('freeblock', 8, 8),
        zero('nextpool', 16, 8),
        zero('prevpool', 24, 8),
        zero('arenaindex', 32, 4),
        zero('szidx', 36, 4),
        zero('nextoffset', 40, 4),
        zero('maxnextoffset', 44, 4),
      ],
    };
  }
  const bsize = heap.blockSizeOfPool(pool);
  const fb = heap.freeblock[pool]!;
  const next = poolPointer(heap, heap.nextpool[pool]!);
  const prev = poolPointer(heap, heap.prevpool[pool]!);
  return {
    address,
    size: 48,
    fields: [
      { name: 'ref.count', offset: 0, size: 8, value: heap.ref[pool]! },
      {
        name: 'freeblock',
        offset: 8,
        size: 8,
        value: fb === NULL_ID ? 0 : address + heap.profile.poolOverhead + fb * bsize,
        target: fb === NULL_ID ? 'NULL (pool full)' : `block ${fb}`,
      },
      { name: 'nextpool', offset: 16, size: 8, ...next },
      { name: 'prevpool', offset: 24, size: 8, ...prev },
      { name: 'arenaindex', offset: 32, size: 4, value: heap.poolArenaIndex[pool]! },
      { name: 'szidx', offset: 36, size: 4, value: heap.szidx[pool]! },
      { name: 'nextoffset', offset: 40, size: 4, value: heap.nextoffset[pool]! },
      { name: 'maxnextoffset', offset: 44, size: 4, value: heap.maxnextoffset[pool]! },
    ],
  };
}

/**
 * struct arena_object (48 bytes) in the arena-object vector (allocated with PyMem_RawRealloc):
 * address, pool_address, nfreepools, ntotalpools, freepools, nextarena, prevarena.
 */
export function arenaObjectView(heap: PymallocHeap, a: number): StructView {
  const address = heap.arenaVectorAddress + a * heap.profile.arenaObjectSize;
  const arenaPtr = (x: number): { value: number; target: string } =>
    x === NULL_ID ? { value: 0, target: 'NULL' } : { value: heap.arenaVectorAddress + x * heap.profile.arenaObjectSize, target: `arenas[${x}]` };
  const live = heap.isArenaLive(a);
  const fp = heap.arenaFreepools[a]!;
  return {
    address,
    size: heap.profile.arenaObjectSize,
    fields: [
      { name: 'address', offset: 0, size: 8, value: heap.arenaAddress[a]!, target: live ? 'arena mapping' : '0: unassociated' },
      {
        name: 'pool_address',
        offset: 8,
        size: 8,
        value: live ? heap.arenaFirstPool[a]! + heap.arenaNextCarve[a]! * heap.poolSize : 0,
        target: live ? `next pool to carve (${heap.arenaNextCarve[a]})` : '',
      },
      { name: 'nfreepools', offset: 16, size: 4, value: live ? heap.nfreepools[a]! : 0 },
      { name: 'ntotalpools', offset: 20, size: 4, value: live ? heap.ntotalpools[a]! : 0 },
      { name: 'freepools', offset: 24, size: 8, ...(live ? poolPointer(heap, fp) : { value: 0, target: 'NULL' }) },
      { name: 'nextarena', offset: 32, size: 8, ...arenaPtr(heap.nextarena[a]!) },
      { name: 'prevarena', offset: 40, size: 8, ...(live ? arenaPtr(heap.prevarena[a]!) : { value: 0, target: '' }) },
    ],
  };
}

export const BLOCK_UNTOUCHED = 0;
export const BLOCK_IN_USE = 1;
export const BLOCK_FREE = 2;

export interface PoolBlocks {
  szidx: number;
  blockSize: number;
  /** Per block: BLOCK_UNTOUCHED (never handed out), BLOCK_IN_USE or BLOCK_FREE. */
  states: Uint8Array;
  /** The free list from its head (the next block malloc returns) onwards. */
  freeOrder: number[];
}

/** The blocks of a carved pool; null for a pool never carved. */
export function poolBlocks(heap: PymallocHeap, pool: number): PoolBlocks | null {
  if (!isCarved(heap, pool)) return null;
  const s = heap.szidx[pool]!;
  const bsize = heap.blockSizeOfClass(s);
  const cap = heap.capacity[s]!;
  const handedOut = (heap.nextoffset[pool]! - heap.profile.poolOverhead) / bsize;
  const states = new Uint8Array(cap);
  states.fill(BLOCK_IN_USE, 0, Math.min(handedOut, cap));
  const freeOrder = heap.freeList(pool);
  for (const b of freeOrder) states[b] = BLOCK_FREE;
  return { szidx: s, blockSize: bsize, states, freeOrder };
}

export type Location =
  | { kind: 'pool-header'; arena: number; pool: number; ordinal: number; offset: number }
  | {
      kind: 'block';
      arena: number;
      pool: number;
      ordinal: number;
      block: number;
      szidx: number;
      blockAddress: number;
      offset: number;
      state: 'in use' | 'free' | 'untouched';
    }
  | { kind: 'pool-tail'; arena: number; pool: number; ordinal: number; offset: number }
  | { kind: 'uncarved-pool'; arena: number; pool: number; ordinal: number }
  | { kind: 'arena-alignment'; arena: number }
  | { kind: 'outside' };

/** What pymalloc has at `addr`. */
export function locate(heap: PymallocHeap, addr: number): Location {
  const pool = heap.poolAt(addr);
  if (pool === NULL_ID) {
    for (let a = 0; a < heap.maxarenas; a++) {
      const base = heap.arenaAddress[a]!;
      if (base !== 0 && addr >= base && addr < base + heap.arenaSize) return { kind: 'arena-alignment', arena: a };
    }
    return { kind: 'outside' };
  }
  const arena = heap.arenaOfPool(pool);
  const ordinal = heap.ordinalOfPool(pool);
  if (!isCarved(heap, pool)) return { kind: 'uncarved-pool', arena, pool, ordinal };
  const offset = addr - heap.poolAddress(pool);
  if (offset < heap.profile.poolOverhead) return { kind: 'pool-header', arena, pool, ordinal, offset };
  const s = heap.szidx[pool]!;
  const bsize = heap.blockSizeOfClass(s);
  const block = Math.floor((offset - heap.profile.poolOverhead) / bsize);
  if (block >= heap.capacity[s]!) return { kind: 'pool-tail', arena, pool, ordinal, offset };
  const info = poolBlocks(heap, pool)!;
  const st = info.states[block]!;
  return {
    kind: 'block',
    arena,
    pool,
    ordinal,
    block,
    szidx: s,
    blockAddress: heap.poolAddress(pool) + heap.profile.poolOverhead + block * bsize,
    offset: offset - heap.profile.poolOverhead - block * bsize,
    state: st === BLOCK_IN_USE ? 'in use' : st === BLOCK_FREE ? 'free' : 'untouched',
  };
}

/** The free-list link stored in a free block (its first word), as an address; 0 for NULL. */
export function freeBlockLink(heap: PymallocHeap, pool: number, block: number): number {
  const next = heap.links[heap.poolSeg[pool]! + block]!;
  if (next === LINK_NULL) return 0;
  return heap.poolAddress(pool) + heap.profile.poolOverhead + next * heap.blockSizeOfPool(pool);
}
