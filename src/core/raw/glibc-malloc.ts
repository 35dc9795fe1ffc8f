/**
 * The C library allocator behind `PyMem_RawMalloc`: a model of glibc 2.36's malloc
 * (malloc/malloc.c) on x86-64, main arena only, one thread, over the simulated address space.
 *
 * Chunks. A chunk is prev_size (8 bytes) + size (8 bytes, low bits PREV_INUSE = 1 and
 * IS_MMAPPED = 2) + user data; the user pointer is chunk + 16 (CHUNK_HDR_SZ) and is 16-byte
 * aligned. A request of n bytes needs the chunk size request2size(n) = max(MINSIZE 32,
 * (n + SIZE_SZ 8 + 15) & ~15): the next chunk's prev_size word is part of the user data while
 * the chunk is in use, so malloc_usable_size is chunk size - 8 (chunk size - 16 when mmapped).
 *
 * What matches glibc 2.36 (same decisions, same addresses, in the situations described):
 *   - request2size, MINSIZE, the alignment, the chunk layout and malloc_usable_size;
 *   - the brk heap: the first allocation (and every later one that top cannot serve) calls
 *     sysmalloc, which extends top by ALIGN_UP(nb + top_pad + MINSIZE - old top size, page)
 *     with sbrk (top_pad = 128 KiB, so the first heap is 132 KiB); chunks are split from the
 *     start of top, which must keep >= MINSIZE bytes;
 *   - the order of _int_malloc: tcache (in malloc only), then the fastbin of exactly nb (the
 *     other chunks of that fastbin are stashed into the tcache), then the bins, then top, then
 *     malloc_consolidate + retry when top is too small and fastbins are not empty, then
 *     sysmalloc. malloc_consolidate also runs first for large requests (nb >= 1024) and after
 *     a free whose coalesced chunk is >= 64 KiB (FASTBIN_CONSOLIDATION_THRESHOLD);
 *   - mmap: only sysmalloc maps, so a request with nb >= mmap_threshold (128 KiB at start) is
 *     mmapped only when no free chunk and not top can serve it (as in glibc: a big top serves
 *     big requests). The mapping is ALIGN_UP(nb + 8, page), the chunk sits at its start with
 *     size = mapping length | IS_MMAPPED; at most 65536 (DEFAULT_MMAP_MAX) mmapped chunks;
 *   - the dynamic threshold of free(): when chunksize_nomask (size | IS_MMAPPED) of a freed
 *     mmapped chunk is > mmap_threshold and <= 32 MiB, mmap_threshold := its size and
 *     trim_threshold := 2 * that; freeing an mmapped chunk munmaps it;
 *   - tcache: 64 bins (chunk sizes 32..1040, requests up to 1032 bytes), 7 chunks each, LIFO,
 *     filled first by free; calloc and realloc's internal allocation skip it (they call
 *     _int_malloc, as glibc does); exact fits taken from the bins stash further chunks of the
 *     same size into the tcache;
 *   - fastbins: chunk sizes 32..128 (global_max_fast = 128), LIFO, never coalesced on free;
 *     tcache and fastbin chunks count as in use for their neighbours (PREV_INUSE stays set);
 *   - free of any other heap chunk coalesces with a free previous and next chunk and merges
 *     into top when it borders top; trimming is systrim(top_pad): when top >= trim_threshold
 *     (128 KiB at start), brk goes down by ALIGN_DOWN(top - MINSIZE - 1 - top_pad, page);
 *   - realloc: realloc(p, 0) frees p and returns NULL; realloc(NULL, n) is malloc(n); for a
 *     heap chunk, _int_realloc: keep it when big enough, else grow into top (when top keeps
 *     >= MINSIZE), else absorb a free next chunk, else _int_malloc + copy + free; a remainder
 *     >= MINSIZE is split off and freed through _int_free (so it may go to the tcache); for
 *     an mmapped chunk, mremap_chunk (no change when the page count is the same), then the
 *     fallbacks of __libc_realloc;
 *   - calloc: a product that overflows size_t (2^64) gives NULL.
 *
 * What is approximated (and how):
 *   - the unsorted, small and large bins are one best-fit index: a free chunk goes straight
 *     into it, and allocation takes the smallest adequate chunk, the lowest address among
 *     chunks of that size. glibc sorts the unsorted bin lazily while searching, splits the
 *     last_remainder first for small requests, and breaks ties by bin order (FIFO in small
 *     bins) rather than by address, so with several candidate chunks glibc may pick another
 *     one. The remainder of a split goes back to the index (glibc: the unsorted bin). The
 *     tcache stash on an exact fit is done for every tcache size (glibc: small-bin hits and
 *     exact fits met in the unsorted bin);
 *   - no tcache_perthread_struct: glibc's first allocation in a thread is a 0x290-byte chunk
 *     for the tcache itself, so in a real process the first user chunk is at heap start
 *     + 0x290; here the first user chunk starts at brkStart;
 *   - when sbrk fails, glibc maps a non-contiguous 1 MiB+ region as the new top
 *     (MMAP_AS_MORECORE); here the request gets its own mmapped chunk if that was not tried
 *     already, else NULL. The heap cannot grow past `space.mmapBase` (Linux checks the gap to
 *     the stack and the mappings); the model assumes it is the only user of brk;
 *   - mremap is munmap + map in place when the pages above are free (shrinking always stays
 *     in place), otherwise a new mapping below mmapBase + munmap of the old one;
 *   - `memoryLimit` stands for RLIMIT_AS: mmap and sbrk fail when the address space's mapped
 *     bytes + brk heap would exceed it;
 *   - requests above 2^53 - 33 bytes fail at once (glibc: checked_request2size accepts up to
 *     PTRDIFF_MAX, then mmap and sbrk fail; glibc may consolidate fastbins first);
 *   - no payload is kept: calloc's memory is zero by construction and realloc's copy is not
 *     modelled; no mallopt, malloc_trim, arenas, memory tagging or perturb bytes;
 *   - invalid and double frees throw an Error naming the address (glibc aborts, when it
 *     detects them at all).
 *
 * Representation: a struct of typed arrays (no JavaScript object and no Map entry per chunk,
 * so that a snapshot of the simulator, trace/snapshot.ts, is a few memcpys). Heap chunks are
 * named by their offset from brkStart in 16-byte units, so they are small integers. `meta`
 * maps each heap chunk except top to size-in-units * 4 + state (in use, tcache, fastbin, bin);
 * `foot` maps the end of each bin chunk to its start (glibc's prev_size of the next chunk +
 * its clear PREV_INUSE); both are `IntTable`s, hash tables in one Uint32Array each. The
 * tcache is one Float64Array of 64 stacks of 7 chunk starts; each fastbin a stack in a
 * Float64Array (`F64Stack`). The bin index (`BinIndex`) is one binary min-heap of chunk starts
 * per size, all in one Float64Array pool, found through a two-level bitmap for sizes < 1 MiB
 * and a sorted array for larger sizes. mmapped chunks are an IntTable from the chunk's page
 * distance below mmapBase to its length in pages. Which structure holds a chunk never changes
 * a result: every choice is made by size and address (LIFO stacks, lowest address of the
 * smallest adequate size), not by an iteration order.
 *
 * Key invariant (checked by `checkInvariants`): the chunks tile [brkStart, brk) exactly, top
 * last; no two bin chunks are adjacent and no bin chunk borders top.
 */
import type { RawAllocator } from '../pymalloc/heap';
import { type AddressSpace, PAGE_SIZE, pageAlignUp } from './address-space';

export const SIZE_SZ = 8;
export const MALLOC_ALIGNMENT = 16;
export const CHUNK_HDR_SZ = 16;
export const MINSIZE = 32;
export const PREV_INUSE = 1;
export const IS_MMAPPED = 2;
export const DEFAULT_MMAP_THRESHOLD = 128 * 1024;
export const DEFAULT_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024;
export const DEFAULT_TRIM_THRESHOLD = 128 * 1024;
export const DEFAULT_TOP_PAD = 128 * 1024;
export const DEFAULT_MMAP_MAX = 65536;
export const TCACHE_MAX_BINS = 64;
export const TCACHE_FILL_COUNT = 7;
/** global_max_fast on 64-bit: chunks up to this size go to fastbins. */
export const MAX_FAST = 128;
export const MIN_LARGE_SIZE = 1024;
export const FASTBIN_CONSOLIDATION_THRESHOLD = 65536;
/** The largest request handled (larger ones return NULL); see the header. */
export const MAX_REQUEST = Number.MAX_SAFE_INTEGER - 32;

/** request2size: the chunk size serving a request of `n` bytes. */
export function request2size(n: number): number {
  const r = n + SIZE_SZ + MALLOC_ALIGNMENT - 1;
  return r < MINSIZE ? MINSIZE : r - (r % MALLOC_ALIGNMENT);
}

export type ChunkBin = 'tcache' | 'fastbin' | 'bin' | 'top' | null;

export interface RawChunkInfo {
  /** Address of the chunk (its prev_size word); the user pointer is chunk + 16. */
  chunk: number;
  /** Chunk size in bytes, flags excluded. */
  size: number;
  /** Owned by the program (false for tcache, fastbin, bin and top chunks). */
  inUse: boolean;
  mmapped: boolean;
  /** The PREV_INUSE bit as glibc keeps it (set after tcache and fastbin chunks). */
  prevInUse: boolean;
  bin: ChunkBin;
}

export interface GlibcMallocStats {
  /** brk - brkStart. */
  heapBytes: number;
  topSize: number;
  /** Heap chunks owned by the program (mmapped chunks not included). */
  inUseChunks: number;
  inUseBytes: number;
  /** Heap chunks in the tcache, the fastbins and the bins (top not included). */
  freeChunks: number;
  freeBytes: number;
  tcacheChunks: number;
  fastbinChunks: number;
  binChunks: number;
  mmappedChunks: number;
  mmappedBytes: number;
  mmapThreshold: number;
  trimThreshold: number;
}

export interface GlibcMallocOptions {
  /** Bytes of mappings + brk heap (of the whole address space) beyond which mmap/sbrk fail. */
  memoryLimit?: number;
}

const UNIT = 16;
const MIN_U = MINSIZE / UNIT;
const MAX_FAST_U = MAX_FAST / UNIT;
const MIN_LARGE_U = MIN_LARGE_SIZE / UNIT;
const ST_INUSE = 0;
const ST_TCACHE = 1;
const ST_FAST = 2;
const ST_BIN = 3;
/** Sizes (in units) below this are found through the bitmap; larger ones in `bigSizes`. */
const SMALL_CLASSES = 1 << 16;
const STATE_BIN: readonly ChunkBin[] = [null, 'tcache', 'fastbin', 'bin'];

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Index of the lowest set bit of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function checkInt(fn: string, what: string, n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new RangeError(`${fn}: ${what} ${String(n)} is not an integer`);
  }
}

// =========================================================================================
// Typed-array building blocks (the state of GlibcMalloc is made of these, scalars and
// typed arrays only, so that a snapshot is a few memcpys: see trace/snapshot.ts)
// =========================================================================================

/** Keys up to this are kept in an IntTable's typed array (stored as key + 1; 0 marks empty). */
const NARROW_KEY_MAX = 0xffff_fffe;
/** Values up to this are kept in an IntTable's typed array. */
const NARROW_VALUE_MAX = 0xffff_ffff;
/** A prime near 2^32 / golden ratio: Fibonacci hashing (consecutive and strided keys spread evenly). */
const GOLDEN = 0x9e37_79b1;
const TABLE_MIN_BITS = 4;

/**
 * A hash map from integers >= 0 to integers >= 0: open addressing with linear probing over one
 * Uint32Array of (key + 1, value) pairs, a slot whose key word is 0 being empty; deletion
 * shifts the following entries back (no tombstones). It doubles when more than 3/4 full and
 * halves when less than 1/16 full. An entry whose key or value does not fit 32 bits (a brk
 * heap past 64 GiB, a chunk of 16 GiB or more) lives in `wide`, a Map that stays empty in any
 * ordinary session. No iteration order is promised (none of GlibcMalloc's results depends on
 * one).
 *
 * Key invariant (checked by `check`): every entry sits in `slots` or in `wide`, never both;
 * no empty slot lies between an entry's home slot and the slot it occupies.
 */
export class IntTable {
  /** slots[2i] = key + 1 (0: empty), slots[2i + 1] = value. */
  slots: Uint32Array;
  /** log2 of the slot count. */
  bits: number;
  /** Entries in `slots`. */
  narrow = 0;
  /** Entries that do not fit 32 bits. */
  readonly wide = new Map<number, number>();

  constructor() {
    this.bits = TABLE_MIN_BITS;
    this.slots = new Uint32Array(2 << TABLE_MIN_BITS);
  }

  get size(): number {
    return this.narrow + this.wide.size;
  }

  /** The value of `key`, or -1 when absent. */
  get(key: number): number {
    if (key >= 0 && key <= NARROW_KEY_MAX) {
      const slots = this.slots;
      const k = key + 1;
      const mask = (1 << this.bits) - 1;
      let i = Math.imul(k, GOLDEN) >>> (32 - this.bits);
      for (;;) {
        const x = slots[2 * i]!;
        if (x === k) return slots[2 * i + 1]!;
        if (x === 0) break;
        i = (i + 1) & mask;
      }
    }
    if (this.wide.size === 0) return -1;
    const v = this.wide.get(key);
    return v === undefined ? -1 : v;
  }

  has(key: number): boolean {
    return this.get(key) >= 0;
  }

  set(key: number, value: number): void {
    if (key >= 0 && key <= NARROW_KEY_MAX && value >= 0 && value <= NARROW_VALUE_MAX) {
      if (this.wide.size > 0) this.wide.delete(key);
      const slots = this.slots;
      const k = key + 1;
      const mask = (1 << this.bits) - 1;
      let i = Math.imul(k, GOLDEN) >>> (32 - this.bits);
      for (;;) {
        const x = slots[2 * i]!;
        if (x === k) {
          slots[2 * i + 1] = value;
          return;
        }
        if (x === 0) break;
        i = (i + 1) & mask;
      }
      slots[2 * i] = k;
      slots[2 * i + 1] = value;
      if (++this.narrow * 4 > (mask + 1) * 3) this.rehash(this.bits + 1);
      return;
    }
    this.deleteNarrow(key);
    this.wide.set(key, value);
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    if (this.deleteNarrow(key)) return true;
    return this.wide.size > 0 && this.wide.delete(key);
  }

  /** Calls `fn` for every entry (slot order, then `wide`). */
  forEach(fn: (key: number, value: number) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] !== 0) fn(slots[i]! - 1, slots[i + 1]!);
    for (const [k, v] of this.wide) fn(k, v);
  }

  /** Verifies the invariant; returns a message describing the first violation, or null. */
  check(): string | null {
    const slots = this.slots;
    const mask = (1 << this.bits) - 1;
    let n = 0;
    for (let i = 0; i <= mask; i++) {
      const k = slots[2 * i]!;
      if (k === 0) continue;
      n++;
      for (let j = Math.imul(k, GOLDEN) >>> (32 - this.bits); j !== i; j = (j + 1) & mask) {
        if (slots[2 * j] === 0) return `key ${k - 1} is not reachable from its home slot`;
      }
      if (this.wide.has(k - 1)) return `key ${k - 1} is both narrow and wide`;
    }
    if (n !== this.narrow) return `${n} narrow entries, counted ${this.narrow}`;
    for (const [k, v] of this.wide) {
      if (k >= 0 && k <= NARROW_KEY_MAX && v >= 0 && v <= NARROW_VALUE_MAX) return `key ${k} is wide but fits`;
    }
    return null;
  }

  private deleteNarrow(key: number): boolean {
    if (!(key >= 0 && key <= NARROW_KEY_MAX) || this.narrow === 0) return false;
    const slots = this.slots;
    const k = key + 1;
    const bits = this.bits;
    const mask = (1 << bits) - 1;
    let i = Math.imul(k, GOLDEN) >>> (32 - bits);
    for (;;) {
      const x = slots[2 * i]!;
      if (x === k) break;
      if (x === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: move up every later entry of the run whose home is not in (i, j].
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const x = slots[2 * j]!;
      if (x === 0) break;
      const home = Math.imul(x, GOLDEN) >>> (32 - bits);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[2 * i] = x;
        slots[2 * i + 1] = slots[2 * j + 1]!;
        i = j;
      }
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
    if (--this.narrow * 16 < mask + 1 && bits > TABLE_MIN_BITS) this.rehash(bits - 1);
    return true;
  }

  private rehash(bits: number): void {
    const old = this.slots;
    const slots = new Uint32Array(2 << bits);
    const mask = (1 << bits) - 1;
    for (let s = 0; s < old.length; s += 2) {
      const k = old[s]!;
      if (k === 0) continue;
      let i = Math.imul(k, GOLDEN) >>> (32 - bits);
      while (slots[2 * i] !== 0) i = (i + 1) & mask;
      slots[2 * i] = k;
      slots[2 * i + 1] = old[s + 1]!;
    }
    this.slots = slots;
    this.bits = bits;
  }
}

/** A stack of numbers in a Float64Array that grows by doubling and shrinks when a quarter full. */
class F64Stack {
  data = new Float64Array(8);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = x;
  }

  /** The top element, removed (the stack must not be empty). */
  pop(): number {
    const x = this.data[--this.length]!;
    if (this.length < this.data.length >>> 2 && this.data.length > 64) this.data = this.data.slice(0, this.data.length >>> 1);
    return x;
  }
}

/** Smallest entries of a heap's segment in the pool. */
const HEAP_MIN_CAP = 4;

/**
 * The best-fit index of bin chunks: for each size (units) with free chunks, a binary min-heap
 * of their starts, so the lowest address of a size is at hand; the sizes are found through a
 * two-level bitmap below SMALL_CLASSES units and a sorted array above.
 *
 * The heaps live in one Float64Array `pool`: heap `h` (an id found by `heapOf`, size -> id)
 * holds `hLen[h]` entries at pool[hOff[h] ..] in a segment of `hCap[h]` (a power of two) slots.
 * A heap that outgrows its segment moves to a segment twice as large at the end of the pool
 * (`poolTop`); the segments left behind are `garbage`, squeezed out when the pool is full or
 * mostly garbage (`compact`). `pos` maps a chunk start to its index in its heap.
 */
class BinIndex {
  readonly words = new Uint32Array(SMALL_CLASSES >>> 5);
  readonly summary = new Uint32Array(SMALL_CLASSES >>> 10);
  /** Sorted distinct sizes >= SMALL_CLASSES with a non-empty heap: bigSizes[0 .. bigN). */
  bigSizes = new Float64Array(4);
  bigN = 0;

  /** Size -> heap id. */
  readonly heapOf = new IntTable();
  /** Chunk start -> its index in its size's heap. */
  readonly pos = new IntTable();
  pool = new Float64Array(64);
  poolTop = 0;
  /** Pool slots in segments no heap uses. */
  garbage = 0;
  /** Per heap id: segment offset (next free id while the id is free), length, capacity, size. */
  hOff = new Int32Array(8);
  hLen = new Int32Array(8);
  hCap = new Int32Array(8);
  hSize = new Float64Array(8);
  /** Heap ids used so far (free ones are listed from `freeId` through hOff). */
  nIds = 0;
  freeId = -1;

  /** Smallest size >= need (units) with a free bin chunk, or -1. */
  findBest(need: number): number {
    if (need < SMALL_CLASSES) {
      const words = this.words;
      const w = need >>> 5;
      const bits = words[w]! & (-1 << (need & 31));
      if (bits !== 0) return (w << 5) + ctz(bits);
      let next = w + 1;
      while (next < words.length) {
        const sw = next >>> 5;
        const sbits = this.summary[sw]! & (-1 << (next & 31));
        if (sbits !== 0) {
          const ww = (sw << 5) + ctz(sbits);
          return (ww << 5) + ctz(words[ww]!);
        }
        next = (sw + 1) << 5;
      }
    }
    const big = this.bigSizes;
    let lo = 0;
    let hi = this.bigN;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (big[mid]! < need) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.bigN ? big[lo]! : -1;
  }

  /** The lowest start among free chunks of `s` units, or -1 when there is none. */
  first(s: number): number {
    const h = this.heapOf.get(s);
    return h < 0 ? -1 : this.pool[this.hOff[h]!]!;
  }

  /** Whether chunk `u` is indexed as a free chunk of `s` units. */
  holds(u: number, s: number): boolean {
    const h = this.heapOf.get(s);
    const i = this.pos.get(u);
    return h >= 0 && i >= 0 && i < this.hLen[h]! && this.pool[this.hOff[h]! + i] === u;
  }

  insert(u: number, s: number): void {
    let h = this.heapOf.get(s);
    if (h < 0) {
      h = this.newHeap(s);
      this.heapOf.set(s, h);
      if (s < SMALL_CLASSES) {
        this.words[s >>> 5] |= 1 << (s & 31);
        this.summary[s >>> 10] |= 1 << ((s >>> 5) & 31);
      } else {
        this.addBig(s);
      }
    } else if (this.hLen[h] === this.hCap[h]) {
      this.move(h, this.hCap[h]! * 2);
    }
    const n = this.hLen[h]++;
    this.siftUp(this.hOff[h]!, n, u);
  }

  /** Removes chunk `u` of `s` units (it must be indexed). */
  remove(u: number, s: number): void {
    const h = this.heapOf.get(s);
    const pos = this.pos;
    const i = pos.get(u);
    if (h < 0 || i < 0) throw new Error(`glibc malloc: chunk ${u} of ${s * UNIT} bytes is not in the bin index (corrupt state)`);
    pos.delete(u);
    const off = this.hOff[h]!;
    const n = --this.hLen[h]!;
    const pool = this.pool;
    const last = pool[off + n]!;
    if (i < n) {
      if (i > 0 && pool[off + ((i - 1) >> 1)]! > last) this.siftUp(off, i, last);
      else this.siftDown(off, n, i, last);
    }
    if (n > 0) return;
    this.heapOf.delete(s);
    this.garbage += this.hCap[h]!;
    this.hLen[h] = 0;
    this.hCap[h] = 0;
    this.hOff[h] = this.freeId;
    this.freeId = h;
    if (s < SMALL_CLASSES) {
      const w = s >>> 5;
      const x = (this.words[w] = this.words[w]! & ~(1 << (s & 31)));
      if (x === 0) this.summary[w >>> 5] = this.summary[w >>> 5]! & ~(1 << (w & 31));
    } else {
      this.removeBig(s);
    }
    if (this.garbage * 4 > this.pool.length * 3 && this.pool.length > 1024) this.compact(0);
  }

  /** Verifies the heaps against the bitmap and `pos`; a message for the first violation, or null. */
  check(): string | null {
    for (const t of [this.heapOf, this.pos]) {
      const e = t.check();
      if (e !== null) return e;
    }
    let live = 0;
    let entries = 0;
    let used = 0;
    for (let h = 0; h < this.nIds; h++) {
      const n = this.hLen[h]!;
      if (n === 0) continue;
      live++;
      entries += n;
      used += this.hCap[h]!;
      const s = this.hSize[h]!;
      const off = this.hOff[h]!;
      if (this.heapOf.get(s) !== h) return `heap of size ${s * UNIT} not found by its size`;
      if (n > this.hCap[h]! || off + this.hCap[h]! > this.poolTop) return `heap of size ${s * UNIT} outside its segment`;
      for (let i = 0; i < n; i++) {
        if (i > 0 && this.pool[off + ((i - 1) >> 1)]! > this.pool[off + i]!) return `heap order for size ${s * UNIT}`;
        if (this.pos.get(this.pool[off + i]!) !== i) return `position of ${this.pool[off + i]} in the heap of size ${s * UNIT}`;
      }
      const marked = s < SMALL_CLASSES ? (this.words[s >>> 5]! & (1 << (s & 31))) !== 0 : this.bigSizes.subarray(0, this.bigN).includes(s);
      if (!marked) return `size ${s * UNIT} not marked`;
    }
    if (live !== this.heapOf.size) return `${this.heapOf.size} sizes, ${live} heaps`;
    if (entries !== this.pos.size) return `${this.pos.size} positions, ${entries} heap entries`;
    if (used + this.garbage !== this.poolTop) return `pool: ${used} used + ${this.garbage} garbage != ${this.poolTop}`;
    let bits = 0;
    for (let w = 0; w < this.words.length; w++) {
      const x = this.words[w]!;
      bits += popcount(x);
      if ((x !== 0) !== ((this.summary[w >>> 5]! & (1 << (w & 31))) !== 0)) return `summary bit of word ${w}`;
    }
    if (bits + this.bigN !== live) return 'bitmap size count';
    for (let i = 1; i < this.bigN; i++) if (!(this.bigSizes[i - 1]! < this.bigSizes[i]!)) return 'big sizes not sorted';
    return null;
  }

  private newHeap(s: number): number {
    let h = this.freeId;
    if (h >= 0) {
      this.freeId = this.hOff[h]!;
    } else {
      h = this.nIds++;
      if (h === this.hOff.length) {
        const n = h * 2;
        this.hOff = grownInt32(this.hOff, n);
        this.hLen = grownInt32(this.hLen, n);
        this.hCap = grownInt32(this.hCap, n);
        const z = new Float64Array(n);
        z.set(this.hSize);
        this.hSize = z;
      }
    }
    this.hSize[h] = s;
    this.hLen[h] = 0;
    this.hCap[h] = HEAP_MIN_CAP;
    this.hOff[h] = this.bump(HEAP_MIN_CAP);
    return h;
  }

  /** Moves heap `h` to a new segment of `cap` slots at the end of the pool. */
  private move(h: number, cap: number): void {
    const off = this.bump(cap);
    const from = this.hOff[h]!; // (bump may compact, which moves the heap: read it after)
    this.pool.copyWithin(off, from, from + this.hLen[h]!);
    this.garbage += this.hCap[h]!;
    this.hOff[h] = off;
    this.hCap[h] = cap;
  }

  /** Offset of `n` fresh slots at the end of the pool, compacting or growing it first if needed. */
  private bump(n: number): number {
    if (this.poolTop + n > this.pool.length) this.compact(n);
    const off = this.poolTop;
    this.poolTop += n;
    return off;
  }

  /**
   * Rewrites the pool with the live segments packed from 0, in heap id order, in a buffer with
   * room for `extra` more slots and at least as many again as the live ones.
   */
  private compact(extra: number): void {
    const used = this.poolTop - this.garbage;
    let len = 64;
    while (len < 2 * used + extra) len *= 2;
    const old = this.pool;
    const pool = len === old.length && this.garbage === 0 ? old : new Float64Array(len);
    if (pool !== old) {
      let top = 0;
      for (let h = 0; h < this.nIds; h++) {
        if (this.hLen[h] === 0) continue;
        const off = this.hOff[h]!;
        pool.set(old.subarray(off, off + this.hLen[h]!), top);
        this.hOff[h] = top;
        top += this.hCap[h]!;
      }
      this.pool = pool;
      this.poolTop = top;
      this.garbage = 0;
    }
  }

  private addBig(s: number): void {
    let big = this.bigSizes;
    const n = this.bigN;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (big[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    if (n === big.length) {
      const b = new Float64Array(n * 2);
      b.set(big);
      this.bigSizes = big = b;
    }
    big.copyWithin(lo + 1, lo, n);
    big[lo] = s;
    this.bigN = n + 1;
  }

  private removeBig(s: number): void {
    const big = this.bigSizes;
    const i = big.subarray(0, this.bigN).indexOf(s);
    big.copyWithin(i, i + 1, this.bigN);
    big[--this.bigN] = 0;
  }

  private siftUp(off: number, i: number, x: number): void {
    const pool = this.pool;
    const pos = this.pos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pu = pool[off + p]!;
      if (pu < x) break;
      pool[off + i] = pu;
      pos.set(pu, i);
      i = p;
    }
    pool[off + i] = x;
    pos.set(x, i);
  }

  /** Sifts `x` down from index `i` of the heap at `off` of `n` entries. */
  private siftDown(off: number, n: number, i: number, x: number): void {
    const pool = this.pool;
    const pos = this.pos;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && pool[off + r]! < pool[off + l]! ? r : l;
      const cu = pool[off + c]!;
      if (cu >= x) break;
      pool[off + i] = cu;
      pos.set(cu, i);
      i = c;
    }
    pool[off + i] = x;
    pos.set(x, i);
  }
}

function grownInt32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

export class GlibcMalloc implements RawAllocator {
  readonly space: AddressSpace;
  readonly memoryLimit: number | undefined;
  private readonly base: number;

  private mmapThreshold = DEFAULT_MMAP_THRESHOLD;
  private trimThreshold = DEFAULT_TRIM_THRESHOLD;
  private readonly topPad = DEFAULT_TOP_PAD;

  // ---- the brk heap, in 16-byte units from brkStart ----
  private topU = 0;
  /** Size of top in units; 0 before the first sbrk. */
  private topS = 0;
  /** Chunk start -> size * 4 + state, for every heap chunk but top. */
  private readonly meta = new IntTable();
  /** End of a bin chunk -> its start. */
  private readonly foot = new IntTable();
  /**
   * tcache bins, index i = (size - 32) / 16: stacks of chunk starts at
   * tcache[i * TCACHE_FILL_COUNT ..], tcacheCount[i] of them.
   */
  private readonly tcache = new Float64Array(TCACHE_MAX_BINS * TCACHE_FILL_COUNT);
  private readonly tcacheCount = new Uint8Array(TCACHE_MAX_BINS);
  /** fastbins (stacks of chunk starts), index size / 16 - 2. */
  private readonly fastbins: F64Stack[] = [];

  /** The best-fit index of bin chunks. */
  private readonly bins = new BinIndex();

  // ---- mmapped chunks: (mmapBase - chunk) / page -> length / page ----
  private readonly mmapped = new IntTable();
  private mmappedBytes = 0;

  // ---- counters (units) ----
  private inUseN = 0;
  private inUseU = 0;
  private tcacheN = 0;
  private tcacheU = 0;
  private fastN = 0;
  private fastU = 0;
  private binN = 0;
  private binU = 0;

  constructor(space: AddressSpace, options: GlibcMallocOptions = {}) {
    this.space = space;
    this.base = space.brkStart;
    this.memoryLimit = options.memoryLimit;
    for (let i = 0; i < MAX_FAST_U - 1; i++) this.fastbins.push(new F64Stack());
  }

  // =========================================================================================
  // Public entry points
  // =========================================================================================

  malloc(size: number): number {
    checkInt('malloc', 'size', size);
    const nb = requestUnits(size);
    if (nb < 0) return 0;
    const ti = nb - MIN_U;
    if (ti < TCACHE_MAX_BINS && this.tcacheCount[ti]! > 0) {
      const u = this.tcache[ti * TCACHE_FILL_COUNT + --this.tcacheCount[ti]!]!;
      this.tcacheN--;
      this.tcacheU -= nb;
      this.meta.set(u, nb * 4);
      this.inUseN++;
      this.inUseU += nb;
      return this.base + u * UNIT + CHUNK_HDR_SZ;
    }
    return this.intMalloc(nb);
  }

  calloc(nelem: number, elsize: number): number {
    checkInt('calloc', 'nelem', nelem);
    checkInt('calloc', 'elsize', elsize);
    if (nelem < 0 || elsize < 0) return 0; // a negative size_t is huge
    // A product >= 2^64 overflows (NULL); one that does not but is > MAX_REQUEST fails too.
    const bytes = nelem * elsize;
    const nb = requestUnits(bytes);
    if (nb < 0) return 0;
    // __libc_calloc calls _int_malloc: the tcache is not consulted.
    return this.intMalloc(nb);
  }

  realloc(address: number, size: number): number {
    checkInt('realloc', 'address', address);
    checkInt('realloc', 'size', size);
    if (size === 0 && address !== 0) {
      this.free(address); // REALLOC_ZERO_BYTES_FREES
      return 0;
    }
    if (address === 0) return this.malloc(size);
    const c = address - CHUNK_HDR_SZ;
    const off = c - this.base;
    if (off >= 0 && off < this.topU * UNIT) {
      const u = off / UNIT;
      const v = this.meta.get(u);
      if (v < 0 || v % 4 !== ST_INUSE) throw new Error(this.deadMessage('realloc', address, v));
      const nb = requestUnits(size);
      if (nb < 0) return 0;
      return this.reallocHeap(address, u, v / 4, nb);
    }
    const len = this.mmappedLength(c);
    if (len < 0) throw new Error(this.deadMessage('realloc', address, -1));
    const nb = requestUnits(size);
    if (nb < 0) return 0;
    const moved = this.mremapChunk(c, len, pageAlignUp(nb * UNIT + SIZE_SZ));
    if (moved !== 0) return moved + CHUNK_HDR_SZ;
    if (len - SIZE_SZ >= nb * UNIT) return address;
    const n = this.malloc(size);
    if (n === 0) return 0;
    this.munmapChunk(c, len); // munmap_chunk: no dynamic-threshold update here
    return n;
  }

  free(address: number): void {
    checkInt('free', 'address', address);
    if (address === 0) return;
    const c = address - CHUNK_HDR_SZ;
    const off = c - this.base;
    if (off >= 0 && off < this.topU * UNIT) {
      const u = off / UNIT;
      const v = this.meta.get(u);
      if (v < 0 || v % 4 !== ST_INUSE) throw new Error(this.deadMessage('free', address, v));
      const s = v / 4;
      this.inUseN--;
      this.inUseU -= s;
      this.intFree(u, s);
      return;
    }
    const len = this.mmappedLength(c);
    if (len < 0) throw new Error(this.deadMessage('free', address, -1));
    const nomask = len + IS_MMAPPED;
    if (nomask > this.mmapThreshold && nomask <= DEFAULT_MMAP_THRESHOLD_MAX) {
      this.mmapThreshold = len;
      this.trimThreshold = 2 * len;
    }
    this.munmapChunk(c, len);
  }

  // =========================================================================================
  // Introspection
  // =========================================================================================

  /** Blocks owned by the program: in-use heap chunks + mmapped chunks. */
  get liveBlocks(): number {
    return this.inUseN + this.mmapped.size;
  }

  /** malloc_usable_size of a live block (0 for NULL); throws for any other address. */
  usableSize(address: number): number {
    checkInt('usableSize', 'address', address);
    if (address === 0) return 0;
    const c = address - CHUNK_HDR_SZ;
    const off = c - this.base;
    if (off >= 0 && off < this.topU * UNIT) {
      const v = this.meta.get(off / UNIT);
      if (v < 0 || v % 4 !== ST_INUSE) throw new Error(this.deadMessage('usableSize', address, v));
      return (v / 4) * UNIT - SIZE_SZ;
    }
    const len = this.mmappedLength(c);
    if (len < 0) throw new Error(this.deadMessage('usableSize', address, -1));
    return len - CHUNK_HDR_SZ;
  }

  /**
   * The chunk containing `address` (a chunk address, a user pointer or any byte inside): a
   * heap chunk, top or an mmapped chunk; null elsewhere. O(1) for chunk addresses and user
   * pointers; other addresses inside the heap cost a walk from brkStart.
   */
  chunkAt(address: number): RawChunkInfo | null {
    const off = address - this.base;
    if (off >= 0 && off < (this.topU + this.topS) * UNIT) {
      const q = Math.floor(off / UNIT);
      if (q >= this.topU) return this.topInfo();
      if (this.meta.has(q)) return this.heapInfo(q);
      if (this.meta.has(q - 1)) return this.heapInfo(q - 1);
      let u = 0;
      for (;;) {
        const s = Math.floor(this.heapMeta(u) / 4);
        if (u + s > q) return this.heapInfo(u);
        u += s;
      }
    }
    const m = this.space.find(address);
    if (m === null) return null;
    const len = this.mmappedLength(m.start);
    if (len < 0) return null;
    return { chunk: m.start, size: len, inUse: true, mmapped: true, prevInUse: false, bin: null };
  }

  /** Every chunk of the brk heap in address order (top last), then the mmapped chunks. */
  *chunks(): Generator<RawChunkInfo> {
    for (let u = 0; u < this.topU; ) {
      const info = this.heapInfo(u);
      yield info;
      u += info.size / UNIT;
    }
    if (this.topS > 0) yield this.topInfo();
    const starts: number[] = [];
    this.mmapped.forEach((k) => starts.push(this.space.mmapBase - k * PAGE_SIZE));
    starts.sort((a, b) => a - b);
    for (const c of starts) {
      yield { chunk: c, size: this.mmappedLength(c), inUse: true, mmapped: true, prevInUse: false, bin: null };
    }
  }

  /**
   * The chunks the program owns, in address order: the in-use chunks of the brk heap (not the
   * tcache, fastbin, bin or top chunks), then the mmapped chunks. `chunk[i]` is a chunk's
   * address (the user pointer is chunk + 16), `size[i]` its size without flags (an mmapped
   * chunk's is its mapping's length), `mmapped[i]` 1 for an mmapped chunk. Read-only: one walk
   * of the heap, three typed arrays of `liveBlocks` entries (the heap map's raw region).
   */
  liveChunks(): { chunk: Float64Array; size: Float64Array; mmapped: Uint8Array } {
    const n = this.inUseN + this.mmapped.size;
    const chunk = new Float64Array(n);
    const size = new Float64Array(n);
    const mmapped = new Uint8Array(n);
    let i = 0;
    for (let u = 0; u < this.topU; ) {
      const v = this.heapMeta(u);
      const st = v % 4;
      const s = (v - st) / 4;
      if (st === ST_INUSE) {
        chunk[i] = this.base + u * UNIT;
        size[i] = s * UNIT;
        i++;
      }
      u += s;
    }
    if (i !== this.inUseN) throw new Error(`glibc malloc: ${i} in-use chunks found, counted ${this.inUseN} (corrupt state)`);
    const starts: number[] = [];
    this.mmapped.forEach((k) => starts.push(this.space.mmapBase - k * PAGE_SIZE));
    starts.sort((a, b) => a - b);
    for (const c of starts) {
      chunk[i] = c;
      size[i] = this.mmappedLength(c);
      mmapped[i] = 1;
      i++;
    }
    return { chunk, size, mmapped };
  }

  stats(): GlibcMallocStats {
    return {
      heapBytes: this.space.brk - this.base,
      topSize: this.topS * UNIT,
      inUseChunks: this.inUseN,
      inUseBytes: this.inUseU * UNIT,
      freeChunks: this.tcacheN + this.fastN + this.binN,
      freeBytes: (this.tcacheU + this.fastU + this.binU) * UNIT,
      tcacheChunks: this.tcacheN,
      fastbinChunks: this.fastN,
      binChunks: this.binN,
      mmappedChunks: this.mmapped.size,
      mmappedBytes: this.mmappedBytes,
      mmapThreshold: this.mmapThreshold,
      trimThreshold: this.trimThreshold,
    };
  }

  /** Verifies every internal invariant; throws an Error describing the first violation. */
  checkInvariants(): void {
    const fail = (msg: string): never => {
      throw new Error(`glibc malloc invariant: ${msg}`);
    };
    const heapEnd = this.base + (this.topU + this.topS) * UNIT;
    if (this.topS === 0 ? this.topU !== 0 || this.space.brk !== this.base : this.space.brk !== heapEnd) {
      fail(`brk ${hex(this.space.brk)} is not the end of top ${hex(heapEnd)}`);
    }
    if (this.topS !== 0 && this.topS < MIN_U) fail(`top of ${this.topS * UNIT} bytes`);
    const n = [0, 0, 0, 0];
    const units = [0, 0, 0, 0];
    let prevBin = false;
    let count = 0;
    for (const [name, t] of [['meta', this.meta], ['foot', this.foot], ['mmapped', this.mmapped]] as const) {
      const e = t.check();
      if (e !== null) fail(`${name}: ${e}`);
    }
    const binsError = this.bins.check();
    if (binsError !== null) fail(`bin index: ${binsError}`);
    for (let u = 0; u < this.topU; ) {
      const v = this.meta.get(u);
      if (v < 0) return fail(`no chunk at ${hex(this.base + u * UNIT)}`);
      const s = Math.floor(v / 4);
      const st = v % 4;
      if (s < MIN_U) fail(`chunk ${hex(this.base + u * UNIT)} of ${s * UNIT} bytes`);
      n[st]!++;
      units[st]! += s;
      count++;
      if (st === ST_BIN) {
        if (prevBin) fail(`adjacent free chunks at ${hex(this.base + u * UNIT)}`);
        if (this.foot.get(u + s) !== u) fail(`bad footer of ${hex(this.base + u * UNIT)}`);
        if (!this.bins.holds(u, s)) fail(`bin chunk ${hex(this.base + u * UNIT)} not indexed`);
      } else if (this.foot.has(u + s)) fail(`footer after non-bin chunk ${hex(this.base + u * UNIT)}`);
      prevBin = st === ST_BIN;
      u += s;
      if (u > this.topU) fail(`chunk overlaps top at ${hex(this.base + (u - s) * UNIT)}`);
    }
    if (prevBin) fail('a bin chunk borders top');
    if (count !== this.meta.size) fail(`${this.meta.size - count} chunks outside the heap walk`);
    if (this.foot.size !== this.binN || this.bins.pos.size !== this.binN) fail('bin index size');
    const expect: [string, number, number, number, number][] = [
      ['in-use', n[ST_INUSE]!, units[ST_INUSE]!, this.inUseN, this.inUseU],
      ['tcache', n[ST_TCACHE]!, units[ST_TCACHE]!, this.tcacheN, this.tcacheU],
      ['fastbin', n[ST_FAST]!, units[ST_FAST]!, this.fastN, this.fastU],
      ['bin', n[ST_BIN]!, units[ST_BIN]!, this.binN, this.binU],
    ];
    for (const [name, cn, cu, en, eu] of expect) {
      if (cn !== en || cu !== eu) fail(`${name} counters ${en}/${eu} but walk found ${cn}/${cu}`);
    }
    let tn = 0;
    for (let i = 0; i < TCACHE_MAX_BINS; i++) {
      const k = this.tcacheCount[i]!;
      if (k > TCACHE_FILL_COUNT) fail(`tcache bin ${i} holds ${k}`);
      for (let j = 0; j < k; j++) {
        if (this.meta.get(this.tcache[i * TCACHE_FILL_COUNT + j]!) !== (i + MIN_U) * 4 + ST_TCACHE) fail(`tcache bin ${i} entry`);
      }
      tn += k;
    }
    let fn = 0;
    this.fastbins.forEach((f, i) => {
      for (let j = 0; j < f.length; j++) if (this.meta.get(f.data[j]!) !== (i + MIN_U) * 4 + ST_FAST) fail(`fastbin ${i} entry`);
      fn += f.length;
    });
    if (tn !== this.tcacheN || fn !== this.fastN) fail('tcache/fastbin list lengths');
    let bytes = 0;
    this.mmapped.forEach((k, pages) => {
      const c = this.space.mmapBase - k * PAGE_SIZE;
      const len = pages * PAGE_SIZE;
      const m = this.space.find(c);
      if (m === null || m.start !== c || m.length !== len || m.kind !== 'mmap-chunk') fail(`mapping of ${hex(c)}`);
      bytes += len;
    });
    if (bytes !== this.mmappedBytes) fail('mmapped byte count');
  }

  // =========================================================================================
  // _int_malloc, sysmalloc
  // =========================================================================================

  /** _int_malloc for a chunk of `nb` units: returns the user address or 0. */
  private intMalloc(nb: number): number {
    if (nb <= MAX_FAST_U) {
      const ti = nb - MIN_U;
      const f = this.fastbins[ti]!;
      if (f.length > 0) {
        const u = f.pop();
        this.fastN--;
        this.fastU -= nb;
        // Stash the other chunks of this fastbin into the tcache (head first).
        while (this.tcacheCount[ti]! < TCACHE_FILL_COUNT && f.length > 0) {
          const v = f.pop();
          this.fastN--;
          this.fastU -= nb;
          this.tcache[ti * TCACHE_FILL_COUNT + this.tcacheCount[ti]++] = v;
          this.tcacheN++;
          this.tcacheU += nb;
          this.meta.set(v, nb * 4 + ST_TCACHE);
        }
        return this.giveHeapChunk(u, nb);
      }
    } else if (nb >= MIN_LARGE_U && this.fastN > 0) {
      this.consolidate();
    }
    for (;;) {
      const s = this.bins.findBest(nb);
      if (s >= 0) {
        const u = this.bins.first(s);
        this.binUnlink(u, s);
        if (s - nb >= MIN_U) {
          this.binInsert(u + nb, s - nb);
          return this.giveHeapChunk(u, nb);
        }
        const ti = nb - MIN_U;
        if (s === nb && ti < TCACHE_MAX_BINS) {
          let v: number;
          while (this.tcacheCount[ti]! < TCACHE_FILL_COUNT && (v = this.bins.first(nb)) >= 0) {
            this.binUnlink(v, nb);
            this.tcache[ti * TCACHE_FILL_COUNT + this.tcacheCount[ti]++] = v;
            this.tcacheN++;
            this.tcacheU += nb;
            this.meta.set(v, nb * 4 + ST_TCACHE);
          }
        }
        return this.giveHeapChunk(u, s);
      }
      if (this.topS >= nb + MIN_U) {
        const u = this.topU;
        this.topU += nb;
        this.topS -= nb;
        return this.giveHeapChunk(u, nb);
      }
      if (this.fastN > 0) {
        this.consolidate();
        continue;
      }
      return this.sysmalloc(nb);
    }
  }

  private giveHeapChunk(u: number, s: number): number {
    this.meta.set(u, s * 4);
    this.inUseN++;
    this.inUseU += s;
    return this.base + u * UNIT + CHUNK_HDR_SZ;
  }

  private sysmalloc(nb: number): number {
    const nbBytes = nb * UNIT;
    let triedMmap = false;
    if (nbBytes >= this.mmapThreshold && this.mmapped.size < DEFAULT_MMAP_MAX) {
      triedMmap = true;
      const a = this.mmapChunk(nbBytes);
      if (a !== 0) return a;
    }
    const heapEnd = this.base + (this.topU + this.topS) * UNIT;
    if (this.space.brk !== heapEnd) {
      throw new Error(`glibc malloc: brk ${hex(this.space.brk)} moved away from the heap end ${hex(heapEnd)}`);
    }
    const size = pageAlignUp(nbBytes + this.topPad + MINSIZE - this.topS * UNIT);
    if (heapEnd + size <= this.space.mmapBase && this.withinLimit(size) && this.space.sbrk(size) !== -1) {
      this.topS += size / UNIT;
      const u = this.topU;
      this.topU += nb;
      this.topS -= nb;
      return this.giveHeapChunk(u, nb);
    }
    // Approximation of MMAP_AS_MORECORE: the request gets its own mapping.
    return triedMmap ? 0 : this.mmapChunk(nbBytes);
  }

  private mmapChunk(nbBytes: number): number {
    const len = pageAlignUp(nbBytes + SIZE_SZ);
    if (!this.withinLimit(len)) return 0;
    const a = this.space.mmap(len, 'mmap-chunk');
    if (a === 0) return 0;
    this.setMmapped(a, len);
    this.mmappedBytes += len;
    return a + CHUNK_HDR_SZ;
  }

  private munmapChunk(c: number, len: number): void {
    this.space.munmap(c, len);
    this.mmapped.delete(this.mmapKey(c));
    this.mmappedBytes -= len;
  }

  /** The key of mmapped chunk `c` in `mmapped`: its distance below mmapBase in pages. */
  private mmapKey(c: number): number {
    return (this.space.mmapBase - c) / PAGE_SIZE;
  }

  /** The mapping length of mmapped chunk `c`, or -1 when `c` is not one. */
  private mmappedLength(c: number): number {
    if (c % PAGE_SIZE !== 0) return -1;
    const pages = this.mmapped.get(this.mmapKey(c));
    return pages < 0 ? -1 : pages * PAGE_SIZE;
  }

  private setMmapped(c: number, len: number): void {
    this.mmapped.set(this.mmapKey(c), len / PAGE_SIZE);
  }

  /** mremap_chunk: returns the (possibly moved) chunk address, or 0 when mremap fails. */
  private mremapChunk(c: number, len: number, newLen: number): number {
    if (newLen === len) return c;
    const space = this.space;
    if (newLen < len) {
      space.munmap(c, len);
      space.mapFixed(c, newLen, 'mmap-chunk');
      this.setMmapped(c, newLen);
      this.mmappedBytes += newLen - len;
      return c;
    }
    if (!this.withinLimit(newLen - len)) return 0;
    space.munmap(c, len);
    if (c + newLen <= space.mmapBase && space.mapFixed(c, newLen, 'mmap-chunk')) {
      this.setMmapped(c, newLen);
      this.mmappedBytes += newLen - len;
      return c;
    }
    space.mapFixed(c, len, 'mmap-chunk');
    const n = space.mmap(newLen, 'mmap-chunk');
    if (n === 0) return 0;
    space.munmap(c, len);
    this.mmapped.delete(this.mmapKey(c));
    this.setMmapped(n, newLen);
    this.mmappedBytes += newLen - len;
    return n;
  }

  private withinLimit(extra: number): boolean {
    const limit = this.memoryLimit;
    if (limit === undefined) return true;
    return this.space.mappedBytes + (this.space.brk - this.space.brkStart) + extra <= limit;
  }

  // =========================================================================================
  // _int_free, malloc_consolidate, systrim
  // =========================================================================================

  /** _int_free of heap chunk `u` of `s` units (its meta entry exists; counters already moved). */
  private intFree(u: number, s: number): void {
    const ti = s - MIN_U;
    if (ti < TCACHE_MAX_BINS) {
      const k = this.tcacheCount[ti]!;
      if (k < TCACHE_FILL_COUNT) {
        this.tcache[ti * TCACHE_FILL_COUNT + k] = u;
        this.tcacheCount[ti] = k + 1;
        this.meta.set(u, s * 4 + ST_TCACHE);
        this.tcacheN++;
        this.tcacheU += s;
        return;
      }
    }
    if (s <= MAX_FAST_U) {
      this.fastbins[ti]!.push(u);
      this.meta.set(u, s * 4 + ST_FAST);
      this.fastN++;
      this.fastU += s;
      return;
    }
    const merged = this.mergeChunk(u, s);
    if (merged * UNIT >= FASTBIN_CONSOLIDATION_THRESHOLD) {
      if (this.fastN > 0) this.consolidate();
      if (this.topS * UNIT >= this.trimThreshold) this.systrim();
    }
  }

  /**
   * Coalesces chunk `u` (`s` units, not in any list) with a free previous and next chunk and
   * puts the result in the bins or into top. Returns the size of the resulting chunk (of top
   * when merged into it).
   */
  private mergeChunk(u: number, s: number): number {
    let p = u;
    let size = s;
    const pu = this.foot.get(u);
    if (pu >= 0) {
      const ps = (this.meta.get(pu) - ST_BIN) / 4;
      this.binUnlink(pu, ps);
      this.meta.delete(u);
      p = pu;
      size += ps;
    }
    const next = u + s;
    if (next === this.topU) {
      this.meta.delete(p);
      this.topU = p;
      this.topS += size;
      return this.topS;
    }
    const nv = this.meta.get(next);
    if (nv % 4 === ST_BIN) {
      const ns = (nv - ST_BIN) / 4;
      this.binUnlink(next, ns);
      this.meta.delete(next);
      size += ns;
    }
    this.binInsert(p, size);
    return size;
  }

  /** malloc_consolidate: every fastbin chunk is coalesced and moved to the bins (or top). */
  private consolidate(): void {
    for (let i = 0; i < this.fastbins.length; i++) {
      const f = this.fastbins[i]!;
      const s = i + MIN_U;
      while (f.length > 0) {
        const u = f.pop();
        this.fastN--;
        this.fastU -= s;
        this.mergeChunk(u, s);
      }
    }
  }

  /** systrim(top_pad): gives the top of the heap back with a negative sbrk, page by page. */
  private systrim(): void {
    const topArea = this.topS * UNIT - MINSIZE - 1;
    if (topArea <= this.topPad) return;
    const extra = Math.floor((topArea - this.topPad) / PAGE_SIZE) * PAGE_SIZE;
    if (extra === 0) return;
    if (this.space.brk !== this.base + (this.topU + this.topS) * UNIT) return; // foreign sbrk
    if (this.space.sbrk(-extra) === -1) return;
    this.topS -= extra / UNIT;
  }

  // =========================================================================================
  // _int_realloc
  // =========================================================================================

  private reallocHeap(address: number, u: number, s: number, nb: number): number {
    const next = u + s;
    let newsize: number;
    if (s >= nb) {
      newsize = s;
    } else if (next === this.topU && s + this.topS >= nb + MIN_U) {
      // Expand forward into top.
      this.meta.set(u, nb * 4);
      this.inUseU += nb - s;
      this.topS -= nb - s;
      this.topU = u + nb;
      return address;
    } else {
      const nv = next === this.topU ? -1 : this.meta.get(next);
      const ns = nv >= 0 && nv % 4 === ST_BIN ? (nv - ST_BIN) / 4 : -1;
      if (ns > 0 && s + ns >= nb) {
        // Expand forward into the free next chunk; the remainder is split off below.
        this.binUnlink(next, ns);
        this.meta.delete(next);
        newsize = s + ns;
      } else {
        const a = this.intMalloc(nb);
        if (a === 0) return 0;
        if (a - CHUNK_HDR_SZ === this.base + next * UNIT) {
          // The new chunk is the next one: no copy, just merge.
          const gs = this.meta.get(next) / 4;
          this.meta.delete(next);
          this.inUseN--;
          this.inUseU -= gs;
          newsize = s + gs;
        } else {
          this.inUseN--;
          this.inUseU -= s;
          this.intFree(u, s);
          return a;
        }
      }
    }
    const rem = newsize - nb;
    if (rem < MIN_U) {
      this.meta.set(u, newsize * 4);
      this.inUseU += newsize - s;
    } else {
      this.meta.set(u, nb * 4);
      this.inUseU += nb - s;
      this.meta.set(u + nb, rem * 4);
      this.intFree(u + nb, rem);
    }
    return address;
  }

  // =========================================================================================
  // The best-fit index
  // =========================================================================================

  private binInsert(u: number, s: number): void {
    this.meta.set(u, s * 4 + ST_BIN);
    this.foot.set(u + s, u);
    this.binN++;
    this.binU += s;
    this.bins.insert(u, s);
  }

  /** Removes bin chunk `u` of `s` units from the index and its footer (not from `meta`). */
  private binUnlink(u: number, s: number): void {
    this.foot.delete(u + s);
    this.binN--;
    this.binU -= s;
    this.bins.remove(u, s);
  }

  // =========================================================================================
  // Helpers
  // =========================================================================================

  /** The meta value of heap chunk `u`, which must exist (a walk of a corrupt heap throws). */
  private heapMeta(u: number): number {
    const v = this.meta.get(u);
    if (v < 0) throw new Error(`glibc malloc: no chunk at ${hex(this.base + u * UNIT)} (corrupt state)`);
    return v;
  }

  private heapInfo(u: number): RawChunkInfo {
    const v = this.heapMeta(u);
    const st = v % 4;
    return {
      chunk: this.base + u * UNIT,
      size: ((v - st) / 4) * UNIT,
      inUse: st === ST_INUSE,
      mmapped: false,
      prevInUse: !this.foot.has(u),
      bin: STATE_BIN[st]!,
    };
  }

  private topInfo(): RawChunkInfo {
    return {
      chunk: this.base + this.topU * UNIT,
      size: this.topS * UNIT,
      inUse: false,
      mmapped: false,
      prevInUse: !this.foot.has(this.topU),
      bin: 'top',
    };
  }

  /** `v`: the chunk's meta value, -1 when there is no chunk there. */
  private deadMessage(fn: string, address: number, v: number): string {
    const what =
      v < 0
        ? 'not a block allocated by this malloc'
        : `a free chunk (double free: it is in the ${STATE_BIN[v % 4]})`;
    return `${fn}(${hex(address)}): ${what}`;
  }
}

/** checked_request2size in units, or -1 when the request cannot be served (NULL). */
function requestUnits(size: number): number {
  if (size < 0 || size > MAX_REQUEST) return -1;
  return request2size(size) / UNIT;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
