/**
 * pymalloc: obmalloc's small-object allocator, exact to the block, over typed arrays.
 *
 * How this file is organised (read it beside Objects/obmalloc.c of 3.8-3.11):
 *   - state: the arena-object vector (`arenas`), `usable_arenas`, `unused_arena_objects`,
 *     `nfp2lasta`, `usedpools` and every pool header, each field a typed array indexed by
 *     arena index or pool id (no JavaScript object per arena, pool or block);
 *   - `newArena` (new_arena), `allocateFromNewPool` (allocate_from_new_pool),
 *     `poolExtend` (pymalloc_pool_extend), `insertToUsedpool`, `insertToFreepool`;
 *   - the public entry points `malloc`, `calloc`, `realloc`, `free` (PyObject_Malloc & co.),
 *     which fall back to the raw allocator exactly where CPython does;
 *   - read-only views for dumps, statistics, the invariant checker and inspectors.
 *
 * Pool ids. Pool id `p` stands for the pool header of arena `(p - NSENT) / MAX_POOLS`, pool
 * ordinal `(p - NSENT) % MAX_POOLS` counted from the arena's first POOL_SIZE-aligned address.
 * Ids `0 .. NSENT-1` are the `usedpools` list heads (one per size class), so the circular
 * doubly linked used-pool lists need no special case, as in C where `usedpools[2i]` is
 * disguised as a pool header. Id -1 is NULL.
 *
 * Blocks. A block is named by its index in its pool. A free block's first word (the C
 * `*(block **)p`) is kept in `links`, a shared Uint16Array in which each initialised pool owns
 * a segment as long as its capacity; 0xFFFF is NULL.
 *
 * Handles. The entry points speak in handles: a pool block is `poolId * 2048 + blockIndex`
 * (> 0), a raw block is `-address` (< 0) and NULL is 0. `addressOf(h)` turns a handle into
 * the simulated address; `handleAt(addr)` goes back.
 *
 * Key invariant: `usable_arenas` is sorted by ascending `nfreepools`; it holds exactly the
 * live arenas with at least one free pool (checked by `checkHeap`).
 */

import {
  PY_SSIZE_T_MAX,
  blocksPerPool,
  classSize,
  type Profile,
} from '../profiles';

export const NULL_ID = -1;
export const LINK_NULL = 0xffff;
/** `szidx` of a freshly carved pool (DUMMY_SIZE_IDX in obmalloc.c). */
export const DUMMY_SIZE_IDX = 0xffff;
export const BLOCK_BITS = 11;
export const BLOCK_MUL = 1 << BLOCK_BITS;

/** Where arenas come from: `_PyObject_Arena.alloc/free`, i.e. mmap/munmap. */
export interface ArenaSource {
  /** Returns the start of a new mapping of `size` bytes, or 0 when it fails. */
  allocArena(size: number): number;
  freeArena(address: number, size: number): void;
}

/** `PyMem_RawMalloc` & co.: the C library allocator. Addresses, 0 for NULL. */
export interface RawAllocator {
  malloc(size: number): number;
  calloc(nelem: number, elsize: number): number;
  realloc(address: number, size: number): number;
  free(address: number): void;
}

/** Counters `sys._debugmallocstats()` prints. */
export interface ArenaCounters {
  /** ntimes_arena_allocated */
  allocatedTotal: number;
  /** narenas_currently_allocated */
  live: number;
  /** ntimes_arena_allocated - narenas_currently_allocated */
  reclaimed: number;
  /** narenas_highwater */
  highwater: number;
}

/** A size given as a number, or a bigint when it does not fit a double exactly. */
export type Size = number | bigint;

function toBig(n: Size): bigint {
  return typeof n === 'bigint' ? n : BigInt(n);
}

/** True when `n` (a non-negative integer) exceeds PY_SSIZE_T_MAX. */
function overSsizeMax(n: Size): boolean {
  return typeof n === 'bigint' ? n > PY_SSIZE_T_MAX : n > 9.2e18 && BigInt(n) > PY_SSIZE_T_MAX;
}

/** A size handed to the raw allocator: exact below 2^53, else rounded (no real malloc takes it). */
function rawSize(n: Size): number {
  return typeof n === 'bigint' ? Number(n) : n;
}

export class PymallocHeap {
  readonly profile: Profile;
  readonly raw: RawAllocator;
  readonly arenaSource: ArenaSource;

  // ---- geometry, copied from the profile for the hot paths ----
  readonly nsent: number;
  readonly maxPools: number;
  readonly poolSize: number;
  readonly arenaSize: number;
  readonly alignShift: number;
  readonly useNfp2lasta: boolean;
  readonly keepLastArena: boolean;
  /** Capacity (blocks per pool) of each size class. */
  readonly capacity: Int32Array;

  // ---- the arena-object vector: struct arena_object, one entry per index ----
  /** maxarenas: length of the vector. */
  maxarenas = 0;
  /** address: start of the mapping, 0 when the object is unassociated. */
  arenaAddress = new Float64Array(0);
  /** Address of pool ordinal 0 (the first POOL_SIZE-aligned address in the arena). */
  arenaFirstPool = new Float64Array(0);
  /** pool_address as an ordinal: the next never-carved pool. */
  arenaNextCarve = new Int32Array(0);
  nfreepools = new Int32Array(0);
  ntotalpools = new Int32Array(0);
  /** freepools: top of the stack of empty pools (pool id), -1 for NULL. */
  arenaFreepools = new Int32Array(0);
  nextarena = new Int32Array(0);
  prevarena = new Int32Array(0);

  /** usable_arenas: arena index of the list head, -1 for NULL. */
  usableArenas = NULL_ID;
  /** unused_arena_objects: arena index of the list head, -1 for NULL. */
  unusedArenaObjects = NULL_ID;
  /** nfp2lasta[nf]: the rightmost arena in usable_arenas with nf free pools (3.8+). */
  readonly nfp2lasta: Int32Array;

  // ---- pool headers (struct pool_header), indexed by pool id ----
  /** ref.count: blocks in use. */
  ref = new Int32Array(0);
  /** freeblock: block index of the free-list head, -1 for NULL. */
  freeblock = new Int32Array(0);
  nextpool = new Int32Array(0);
  prevpool = new Int32Array(0);
  /** arenaindex as written into the header when the pool was carved. */
  poolArenaIndex = new Int32Array(0);
  szidx = new Uint16Array(0);
  /** nextoffset / maxnextoffset in bytes from the pool start, as in C. */
  nextoffset = new Int32Array(0);
  maxnextoffset = new Int32Array(0);
  /** Start of the pool's segment in `links`, -1 when it has none. */
  poolSeg = new Int32Array(0);

  // ---- free-block links ----
  links = new Uint16Array(1 << 16);
  linksTop = 0;
  private readonly segFree: number[][];

  // ---- counters ----
  ntimesArenaAllocated = 0;
  narenasCurrentlyAllocated = 0;
  narenasHighwater = 0;
  /** Live blocks that came from the raw allocator through PyObject_Malloc & co. */
  rawAllocatedBlocks = 0;
  /** Pool blocks in use, and their bytes (block sizes): the sums of ref.count over pools. */
  poolBlocksInUse = 0;
  poolBytesInUse = 0;
  /** Address of the arena-object vector in the raw heap (PyMem_RawRealloc'd), 0 before. */
  arenaVectorAddress = 0;

  /** Radix tree (3.10+): keys of the mid and bottom nodes that exist (never freed). */
  readonly arenaMapMid = new Set<number>();
  readonly arenaMapBot = new Set<number>();

  /** Pool page number (address / POOL_SIZE) -> pool id, for every pool of every live arena. */
  private readonly poolByPage = new Map<number, number>();

  constructor(profile: Profile, arenaSource: ArenaSource, raw: RawAllocator) {
    this.profile = profile;
    this.arenaSource = arenaSource;
    this.raw = raw;
    this.nsent = profile.nbSmallSizeClasses;
    this.maxPools = profile.maxPoolsInArena;
    this.poolSize = profile.poolSize;
    this.arenaSize = profile.arenaSize;
    this.alignShift = profile.alignmentShift;
    this.useNfp2lasta = profile.usableArenasSort === 'nfp2lasta';
    this.keepLastArena = profile.arenaRelease === 'keep-last-usable';
    this.capacity = new Int32Array(this.nsent);
    for (let c = 0; c < this.nsent; c++) this.capacity[c] = blocksPerPool(profile, c);
    this.nfp2lasta = new Int32Array(this.maxPools + 1).fill(NULL_ID);
    this.segFree = Array.from({ length: this.nsent }, () => []);
    this.growPools(this.nsent);
    for (let c = 0; c < this.nsent; c++) {
      // An empty usedpools list: the head points at itself.
      this.nextpool[c] = c;
      this.prevpool[c] = c;
    }
  }

  // =========================================================================================
  // Public entry points (PyObject_Malloc, PyObject_Calloc, PyObject_Realloc, PyObject_Free)
  // =========================================================================================

  /** PyObject_Malloc(n). Returns a handle, 0 for NULL. */
  malloc(n: Size): number {
    if (typeof n === 'number' && n >= 1 && n <= 512) {
      const c = (n - 1) >> this.alignShift;
      const h = this.pymallocAlloc(c);
      if (h !== 0) return this.counted(h, c);
      // A failed arena allocation falls through to the raw allocator, as in C.
    } else if (overSsizeMax(n)) {
      return 0;
    }
    // Size 0 and sizes above SMALL_REQUEST_THRESHOLD: PyMem_RawMalloc (malloc(1) for 0).
    const addr = this.raw.malloc(n === 0 ? 1 : rawSize(n));
    if (addr === 0) return 0;
    this.rawAllocatedBlocks++;
    return -addr;
  }

  /** PyObject_Calloc(nelem, elsize): NULL when nelem * elsize would exceed PY_SSIZE_T_MAX. */
  calloc(nelem: Size, elsize: Size): number {
    if (typeof nelem === 'number' && typeof elsize === 'number' && nelem * elsize <= 512) {
      // Small products are exact in doubles and cannot overflow: no bigint arithmetic.
      const nbytes = nelem * elsize;
      if (nbytes >= 1) {
        const c = (nbytes - 1) >> this.alignShift;
        const h = this.pymallocAlloc(c);
        if (h !== 0) return this.counted(h, c);
      }
      const addr = nbytes === 0 ? this.raw.calloc(1, 1) : this.raw.calloc(nelem, elsize);
      if (addr === 0) return 0;
      this.rawAllocatedBlocks++;
      return -addr;
    }
    const ne = toBig(nelem);
    const es = toBig(elsize);
    if (es !== 0n && ne > PY_SSIZE_T_MAX / es) return 0;
    const nbytes = ne * es;
    if (nbytes >= 1n && nbytes <= 512n) {
      const c = Number(nbytes - 1n) >> this.alignShift;
      const h = this.pymallocAlloc(c);
      if (h !== 0) return this.counted(h, c); // (memset to zero: the simulation keeps no payload bytes)
    }
    // PyMem_RawCalloc: calloc(1, 1) when either count is 0.
    const addr = nbytes === 0n ? this.raw.calloc(1, 1) : this.raw.calloc(rawSize(nelem), rawSize(elsize));
    if (addr === 0) return 0;
    this.rawAllocatedBlocks++;
    return -addr;
  }

  /**
   * PyObject_Realloc(h, n). Returns the new handle, or 0 for NULL (then `h` stays valid).
   * A pool block stays in place when n <= B and 4n > 3B (B its block size); otherwise a new
   * block comes from malloc(n) (pool or raw), and the old one is freed after the copy. A raw
   * block stays raw whatever n is.
   */
  realloc(h: number, n: Size): number {
    if (overSsizeMax(n)) return 0;
    if (h === 0) return this.malloc(n);
    if (h > 0) {
      const pool = Math.floor(h / BLOCK_MUL);
      const size = (this.szidx[pool]! + 1) << this.alignShift;
      if (typeof n === 'number' && n <= size && 4 * n > 3 * size) return h;
      const nh = this.malloc(n);
      if (nh !== 0) this.free(h);
      return nh;
    }
    // PyMem_RawRealloc: realloc(p, 1) for 0.
    const addr = this.raw.realloc(-h, n === 0 ? 1 : rawSize(n));
    return addr === 0 ? 0 : -addr;
  }

  /** PyObject_Free(h). */
  free(h: number): void {
    if (h > 0) {
      const pool = Math.floor(h / BLOCK_MUL);
      this.poolBlocksInUse--;
      this.poolBytesInUse -= (this.szidx[pool]! + 1) << this.alignShift;
      this.pymallocFree(pool, h & (BLOCK_MUL - 1));
    } else if (h < 0) {
      this.raw.free(-h);
      this.rawAllocatedBlocks--;
    }
  }

  // =========================================================================================
  // Addresses
  // =========================================================================================

  /** Address of the pool header of pool `pool`. */
  poolAddress(pool: number): number {
    const rel = pool - this.nsent;
    const arena = Math.floor(rel / this.maxPools);
    return this.arenaFirstPool[arena]! + (rel - arena * this.maxPools) * this.poolSize;
  }

  /** The simulated address a handle stands for (0 for NULL). */
  addressOf(h: number): number {
    if (h < 0) return -h;
    if (h === 0) return 0;
    const pool = Math.floor(h / BLOCK_MUL);
    const block = h & (BLOCK_MUL - 1);
    return this.poolAddress(pool) + this.profile.poolOverhead + block * ((this.szidx[pool]! + 1) << this.alignShift);
  }

  /**
   * The handle of the block that starts at `addr`: a pool block when `addr` lies in a live
   * arena (address_in_range), otherwise a raw block. Returns 0 for address 0.
   */
  handleAt(addr: number): number {
    if (addr === 0) return 0;
    const pool = this.poolAt(addr);
    if (pool === NULL_ID) return -addr;
    const off = addr - this.poolAddress(pool) - this.profile.poolOverhead;
    const size = (this.szidx[pool]! + 1) << this.alignShift;
    if (off < 0 || off % size !== 0) throw new Error(`address 0x${addr.toString(16)} is not the start of a block`);
    return pool * BLOCK_MUL + off / size;
  }

  /** The pool id whose POOL_SIZE page contains `addr` inside a live arena, or -1. */
  poolAt(addr: number): number {
    const id = this.poolByPage.get(Math.floor(addr / this.poolSize));
    return id === undefined ? NULL_ID : id;
  }

  arenaOfPool(pool: number): number {
    return Math.floor((pool - this.nsent) / this.maxPools);
  }

  ordinalOfPool(pool: number): number {
    return (pool - this.nsent) % this.maxPools;
  }

  poolId(arena: number, ordinal: number): number {
    return this.nsent + arena * this.maxPools + ordinal;
  }

  blockSizeOfPool(pool: number): number {
    return (this.szidx[pool]! + 1) << this.alignShift;
  }

  // =========================================================================================
  // Allocation
  // =========================================================================================

  private counted(h: number, size: number): number {
    this.poolBlocksInUse++;
    this.poolBytesInUse += (size + 1) << this.alignShift;
    return h;
  }

  /** pymalloc_alloc for size class `size`; a handle, or 0 when no arena can be had. */
  private pymallocAlloc(size: number): number {
    const pool = this.nextpool[size]!;
    if (pool !== size) {
      // There is a used pool for this size class: pop the head of its free list.
      this.ref[pool]!++;
      const bp = this.freeblock[pool]!;
      const next = this.links[this.poolSeg[pool]! + bp]!;
      if (next !== LINK_NULL) {
        this.freeblock[pool] = next;
      } else {
        this.freeblock[pool] = NULL_ID;
        this.poolExtend(pool, size);
      }
      return pool * BLOCK_MUL + bp;
    }
    return this.allocateFromNewPool(size);
  }

  /** pymalloc_pool_extend: hand out the next never-used block, or unlink a full pool. */
  private poolExtend(pool: number, size: number): void {
    const nextoffset = this.nextoffset[pool]!;
    if (nextoffset <= this.maxnextoffset[pool]!) {
      // There is room for another block.
      const bsize = (size + 1) << this.alignShift;
      const b = (nextoffset - this.profile.poolOverhead) / bsize;
      this.freeblock[pool] = b;
      this.links[this.poolSeg[pool]! + b] = LINK_NULL;
      this.nextoffset[pool] = nextoffset + bsize;
      return;
    }
    // Pool is full: unlink it from usedpools.
    const next = this.nextpool[pool]!;
    const prev = this.prevpool[pool]!;
    this.prevpool[next] = prev;
    this.nextpool[prev] = next;
  }

  /** allocate_from_new_pool: take a pool from the head of usable_arenas (or a new arena). */
  private allocateFromNewPool(size: number): number {
    if (this.usableArenas === NULL_ID) {
      // No arena has a free pool: allocate a new arena.
      const a = this.newArena();
      if (a === NULL_ID) return 0;
      this.usableArenas = a;
      this.nextarena[a] = NULL_ID;
      this.prevarena[a] = NULL_ID;
      if (this.useNfp2lasta) this.nfp2lasta[this.nfreepools[a]!] = a;
    }
    const ua = this.usableArenas;
    const nf = this.nfreepools[ua]!;
    if (this.useNfp2lasta) {
      // This arena already had the smallest nfreepools value, so decreasing it keeps the
      // list sorted; only nfp2lasta needs care.
      if (this.nfp2lasta[nf] === ua) this.nfp2lasta[nf] = NULL_ID;
      if (nf > 1) this.nfp2lasta[nf - 1] = ua;
    }

    let pool = this.arenaFreepools[ua]!;
    if (pool !== NULL_ID) {
      // Unlink from cached pools.
      this.arenaFreepools[ua] = this.nextpool[pool]!;
    } else {
      // Carve off a new pool.
      const ordinal = this.arenaNextCarve[ua]!;
      pool = this.nsent + ua * this.maxPools + ordinal;
      this.poolArenaIndex[pool] = ua;
      this.szidx[pool] = DUMMY_SIZE_IDX;
      this.ref[pool] = 0;
      this.arenaNextCarve[ua] = ordinal + 1;
    }
    this.nfreepools[ua] = nf - 1;
    if (nf - 1 === 0) {
      // Wholly allocated: remove it from usable_arenas.
      const next = this.nextarena[ua]!;
      this.usableArenas = next;
      if (next !== NULL_ID) this.prevarena[next] = NULL_ID;
    }

    // Frontlink to used pools (the list is empty, or we would not be here).
    this.nextpool[pool] = size;
    this.prevpool[pool] = size;
    this.nextpool[size] = pool;
    this.prevpool[size] = pool;
    this.ref[pool] = 1;

    if (this.szidx[pool] === size) {
      // Luckily, this pool last contained blocks of the same size class, so its header and
      // free list are already initialised.
      const bp = this.freeblock[pool]!;
      const next = this.links[this.poolSeg[pool]! + bp]!;
      this.freeblock[pool] = next === LINK_NULL ? NULL_ID : next;
      return pool * BLOCK_MUL + bp;
    }
    // Initialise the pool header, set up the free list to contain just the second block,
    // and return the first block.
    if (this.poolSeg[pool] !== NULL_ID && this.szidx[pool] !== DUMMY_SIZE_IDX) this.releaseSeg(pool);
    this.szidx[pool] = size;
    this.acquireSeg(pool, size);
    const bsize = (size + 1) << this.alignShift;
    this.nextoffset[pool] = this.profile.poolOverhead + 2 * bsize;
    this.maxnextoffset[pool] = this.poolSize - bsize;
    this.freeblock[pool] = 1;
    this.links[this.poolSeg[pool]! + 1] = LINK_NULL;
    return pool * BLOCK_MUL;
  }

  /** new_arena: an arena object from unused_arena_objects (growing the vector) and a mapping. */
  private newArena(): number {
    if (this.unusedArenaObjects === NULL_ID) {
      // Double the number of arena objects (PyMem_RawRealloc of the vector).
      const old = this.maxarenas;
      const numarenas = old === 0 ? this.profile.initialArenaObjects : old * 2;
      if (numarenas > 0x7fff_ffff / this.maxPools) return NULL_ID; // overflow guard (uint in C)
      const addr = this.raw.realloc(this.arenaVectorAddress, numarenas * this.profile.arenaObjectSize);
      if (addr === 0) return NULL_ID;
      this.arenaVectorAddress = addr;
      this.growArenas(numarenas);
      // Put the new arena objects on the unused list, ascending.
      for (let i = old; i < numarenas; i++) {
        this.arenaAddress[i] = 0;
        this.nextarena[i] = i < numarenas - 1 ? i + 1 : NULL_ID;
      }
      this.unusedArenaObjects = old;
      this.maxarenas = numarenas;
    }
    // Take the next available arena object off the head of the list.
    const a = this.unusedArenaObjects;
    this.unusedArenaObjects = this.nextarena[a]!;
    let address = this.arenaSource.allocArena(this.arenaSize);
    if (address !== 0 && this.profile.arenaMap !== null && !this.arenaMapMarkUsed(address)) {
      // Marking the arena in the radix tree failed: give the mapping back.
      this.arenaSource.freeArena(address, this.arenaSize);
      address = 0;
    }
    if (address === 0) {
      // Put the arena object back.
      this.nextarena[a] = this.unusedArenaObjects;
      this.unusedArenaObjects = a;
      return NULL_ID;
    }
    this.arenaAddress[a] = address;
    this.narenasCurrentlyAllocated++;
    this.ntimesArenaAllocated++;
    if (this.narenasCurrentlyAllocated > this.narenasHighwater) this.narenasHighwater = this.narenasCurrentlyAllocated;
    this.arenaFreepools[a] = NULL_ID;
    // pool_address <- first pool-aligned address in the arena;
    // nfreepools <- number of whole pools that fit after alignment.
    const excess = address % this.poolSize;
    let nfree = this.maxPools;
    let first = address;
    if (excess !== 0) {
      nfree--;
      first += this.poolSize - excess;
    }
    this.arenaFirstPool[a] = first;
    this.arenaNextCarve[a] = 0;
    this.nfreepools[a] = nfree;
    this.ntotalpools[a] = nfree;
    const base = this.nsent + a * this.maxPools;
    const page0 = first / this.poolSize;
    for (let i = 0; i < nfree; i++) {
      this.poolSeg[base + i] = NULL_ID;
      this.szidx[base + i] = DUMMY_SIZE_IDX;
      this.ref[base + i] = 0;
      this.poolByPage.set(page0 + i, base + i);
    }
    return a;
  }

  /**
   * arena_map_mark_used(base, 1): make sure the mid and bottom nodes covering the arena exist
   * (an arena that is not ARENA_SIZE-aligned straddles two bottom entries, maybe two nodes).
   * Nodes are PyMem_RawCalloc'd, so they appear in the raw heap. Releasing an arena only clears
   * its entries; nodes are never freed.
   */
  private arenaMapMarkUsed(base: number): boolean {
    return this.arenaMapNode(base) && (base % this.arenaSize === 0 || this.arenaMapNode(base + this.arenaSize));
  }

  private arenaMapNode(addr: number): boolean {
    const g = this.profile.arenaMap!;
    const midKey = Math.floor(addr / 2 ** (this.profile.arenaBits + g.botBits + g.midBits));
    const botKey = Math.floor(addr / 2 ** (this.profile.arenaBits + g.botBits));
    if (!this.arenaMapMid.has(midKey)) {
      if (this.raw.calloc(1, 8 * 2 ** g.midBits) === 0) return false;
      this.arenaMapMid.add(midKey);
    }
    if (!this.arenaMapBot.has(botKey)) {
      if (this.raw.calloc(1, g.botEntrySize * 2 ** g.botBits) === 0) return false;
      this.arenaMapBot.add(botKey);
    }
    return true;
  }

  // =========================================================================================
  // Freeing
  // =========================================================================================

  /** pymalloc_free of block `bp` of pool `pool`. */
  private pymallocFree(pool: number, bp: number): void {
    const lastfree = this.freeblock[pool]!;
    this.links[this.poolSeg[pool]! + bp] = lastfree === NULL_ID ? LINK_NULL : lastfree;
    this.freeblock[pool] = bp;
    const count = this.ref[pool]! - 1;
    this.ref[pool] = count;
    if (lastfree === NULL_ID) {
      // The pool was full, so it is in no list: link it to the front of usedpools[szidx].
      this.insertToUsedpool(pool);
      return;
    }
    if (count !== 0) return; // not empty: it stays in usedpools
    // The pool is now empty: unlink it from usedpools and push it on the arena's freepools.
    this.insertToFreepool(pool);
  }

  private insertToUsedpool(pool: number): void {
    const size = this.szidx[pool]!;
    const next = this.nextpool[size]!; // the first pool, or the head itself
    const prev = this.prevpool[next]!; // the head
    this.nextpool[pool] = next;
    this.prevpool[pool] = prev;
    this.prevpool[next] = pool;
    this.nextpool[prev] = pool;
  }

  private insertToFreepool(pool: number): void {
    const next = this.nextpool[pool]!;
    const prev = this.prevpool[pool]!;
    this.prevpool[next] = prev;
    this.nextpool[prev] = next;

    // Link the pool to freepools (singly linked; prevpool is not used there).
    const ao = this.poolArenaIndex[pool]!;
    this.nextpool[pool] = this.arenaFreepools[ao]!;
    this.arenaFreepools[ao] = pool;
    let nf = this.nfreepools[ao]!;
    // If this is the rightmost arena with this number of free pools, nfp2lasta[nf] needs to
    // change. (If nf is 0, no arena in usable_arenas has that value.)
    const lastnf = this.useNfp2lasta ? this.nfp2lasta[nf]! : NULL_ID;
    if (this.useNfp2lasta && lastnf === ao) {
      const p = this.prevarena[ao]!;
      this.nfp2lasta[nf] = p !== NULL_ID && this.nfreepools[p] === nf ? p : NULL_ID;
    }
    nf++;
    this.nfreepools[ao] = nf;

    // Case 1: all pools are free: give the arena back to the system. Changed in 3.9
    // (bpo-37257): not if it is the last arena in usable_arenas, to avoid thrashing.
    if (nf === this.ntotalpools[ao] && (!this.keepLastArena || this.nextarena[ao] !== NULL_ID)) {
      this.unlinkUsable(ao);
      this.releaseArena(ao);
      return;
    }
    if (nf === 1) {
      // Case 2: the arena was full, so it is in no list: put it at the head of usable_arenas.
      const head = this.usableArenas;
      this.nextarena[ao] = head;
      this.prevarena[ao] = NULL_ID;
      if (head !== NULL_ID) this.prevarena[head] = ao;
      this.usableArenas = ao;
      if (this.useNfp2lasta && this.nfp2lasta[1] === NULL_ID) this.nfp2lasta[1] = ao;
      return;
    }
    if (this.useNfp2lasta) {
      // If this is the only arena with nf, record that.
      if (this.nfp2lasta[nf] === NULL_ID) this.nfp2lasta[nf] = ao;
      // Case 4: it was the rightmost of the old count, so it stays in place.
      if (ao === lastnf) return;
      // Case 3: move it to follow lastnf.
      this.unlinkUsable(ao);
      this.insertAfter(ao, lastnf);
      return;
    }
    // 3.7: slide right by a linear scan while the next arena has fewer free pools.
    const first = this.nextarena[ao]!;
    if (first === NULL_ID || nf <= this.nfreepools[first]!) return; // Case 4
    this.unlinkUsable(ao);
    let after = first;
    while (this.nextarena[after]! !== NULL_ID && nf > this.nfreepools[this.nextarena[after]!]!) {
      after = this.nextarena[after]!;
    }
    this.insertAfter(ao, after);
  }

  private unlinkUsable(ao: number): void {
    const prev = this.prevarena[ao]!;
    const next = this.nextarena[ao]!;
    if (prev === NULL_ID) this.usableArenas = next;
    else this.nextarena[prev] = next;
    if (next !== NULL_ID) this.prevarena[next] = prev;
  }

  private insertAfter(ao: number, after: number): void {
    const next = this.nextarena[after]!;
    this.prevarena[ao] = after;
    this.nextarena[ao] = next;
    if (next !== NULL_ID) this.prevarena[next] = ao;
    this.nextarena[after] = ao;
  }

  /** Return an arena (already unlinked from usable_arenas) to the system. */
  private releaseArena(ao: number): void {
    // Record that this arena_object slot is available to be reused.
    this.nextarena[ao] = this.unusedArenaObjects;
    this.unusedArenaObjects = ao;
    const base = this.nsent + ao * this.maxPools;
    const page0 = this.arenaFirstPool[ao]! / this.poolSize;
    const n = this.ntotalpools[ao]!;
    for (let i = 0; i < n; i++) {
      if (this.poolSeg[base + i] !== NULL_ID) this.releaseSeg(base + i);
      this.poolByPage.delete(page0 + i);
    }
    this.arenaSource.freeArena(this.arenaAddress[ao]!, this.arenaSize);
    this.arenaAddress[ao] = 0; // mark unassociated
    this.narenasCurrentlyAllocated--;
  }

  // =========================================================================================
  // Storage
  // =========================================================================================

  private acquireSeg(pool: number, size: number): void {
    const stack = this.segFree[size]!;
    if (stack.length > 0) {
      this.poolSeg[pool] = stack.pop()!;
      return;
    }
    const cap = this.capacity[size]!;
    if (this.linksTop + cap > this.links.length) {
      const grown = new Uint16Array(Math.max(this.links.length * 2, this.linksTop + cap));
      grown.set(this.links);
      this.links = grown;
    }
    this.poolSeg[pool] = this.linksTop;
    this.linksTop += cap;
  }

  private releaseSeg(pool: number): void {
    this.segFree[this.szidx[pool]!]!.push(this.poolSeg[pool]!);
    this.poolSeg[pool] = NULL_ID;
  }

  private growArenas(n: number): void {
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.arenaAddress = f64(this.arenaAddress);
    this.arenaFirstPool = f64(this.arenaFirstPool);
    this.arenaNextCarve = i32(this.arenaNextCarve);
    this.nfreepools = i32(this.nfreepools);
    this.ntotalpools = i32(this.ntotalpools);
    this.arenaFreepools = i32(this.arenaFreepools);
    this.nextarena = i32(this.nextarena);
    this.prevarena = i32(this.prevarena);
    this.growPools(this.nsent + n * this.maxPools);
  }

  private growPools(n: number): void {
    const i32 = (a: Int32Array, fill = 0): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      if (fill !== 0) b.fill(fill, a.length);
      b.set(a);
      return b;
    };
    this.ref = i32(this.ref);
    this.freeblock = i32(this.freeblock, NULL_ID);
    this.nextpool = i32(this.nextpool, NULL_ID);
    this.prevpool = i32(this.prevpool, NULL_ID);
    this.poolArenaIndex = i32(this.poolArenaIndex);
    this.nextoffset = i32(this.nextoffset);
    this.maxnextoffset = i32(this.maxnextoffset);
    this.poolSeg = i32(this.poolSeg, NULL_ID);
    const s = new Uint16Array(n);
    s.fill(DUMMY_SIZE_IDX, this.szidx.length);
    s.set(this.szidx);
    this.szidx = s;
  }

  // =========================================================================================
  // Views
  // =========================================================================================

  counters(): ArenaCounters {
    return {
      allocatedTotal: this.ntimesArenaAllocated,
      live: this.narenasCurrentlyAllocated,
      reclaimed: this.ntimesArenaAllocated - this.narenasCurrentlyAllocated,
      highwater: this.narenasHighwater,
    };
  }

  /** _Py_GetAllocatedBlocks(): pool blocks in use plus live raw blocks. */
  allocatedBlocks(): number {
    return this.rawAllocatedBlocks + this.poolBlocksInUse;
  }

  isArenaLive(a: number): boolean {
    return a >= 0 && a < this.maxarenas && this.arenaAddress[a] !== 0;
  }

  /** The free list of a pool, head first, as block indices. */
  freeList(pool: number): number[] {
    const out: number[] = [];
    const seg = this.poolSeg[pool]!;
    const limit = this.capacity[this.szidx[pool]!] ?? 0;
    for (let b = this.freeblock[pool]!; b !== NULL_ID && b !== LINK_NULL; b = this.links[seg + b]!) {
      out.push(b);
      if (out.length > limit) throw new Error(`pool ${pool}: free list longer than the pool (cycle?)`);
    }
    return out;
  }

  /** The free-pool stack of an arena, top first, as pool ids. */
  freepoolsOf(a: number): number[] {
    const out: number[] = [];
    for (let p = this.arenaFreepools[a]!; p !== NULL_ID; p = this.nextpool[p]!) {
      out.push(p);
      if (out.length > this.maxPools) throw new Error(`arena ${a}: freepools list is cyclic`);
    }
    return out;
  }

  /** usable_arenas front to back. */
  usableArenasList(): number[] {
    const out: number[] = [];
    for (let a = this.usableArenas; a !== NULL_ID; a = this.nextarena[a]!) {
      out.push(a);
      if (out.length > this.maxarenas) throw new Error('usable_arenas is cyclic');
    }
    return out;
  }

  /** unused_arena_objects front to back (reuse order). */
  unusedArenaObjectsList(): number[] {
    const out: number[] = [];
    for (let a = this.unusedArenaObjects; a !== NULL_ID; a = this.nextarena[a]!) {
      out.push(a);
      if (out.length > this.maxarenas) throw new Error('unused_arena_objects is cyclic');
    }
    return out;
  }

  /** usedpools[szidx] front to back, as pool ids. */
  usedpoolsList(szidx: number): number[] {
    const out: number[] = [];
    for (let p = this.nextpool[szidx]!; p !== szidx; p = this.nextpool[p]!) {
      out.push(p);
      if (p === NULL_ID || out.length > this.maxarenas * this.maxPools) throw new Error(`usedpools[${szidx}] is broken`);
    }
    return out;
  }

  blockSizeOfClass(szidx: number): number {
    return classSize(this.profile, szidx);
  }
}
