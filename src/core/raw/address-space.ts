/**
 * The x64 user address space of one simulated process: mappings made by `mmap` and the
 * `brk` heap, with page granularity (4 KiB).
 *
 * Model (approximates Linux's mm/mmap.c; the approximations are named):
 *   - user space is [0x10000, 2^47 - 4096) (TASK_SIZE on x86-64 with 4-level paging);
 *   - `mmap(NULL, len)` is top-down: the highest free gap below `mmapBase` that fits `len`
 *     (unmapped_area_topdown). Linux also leaves a guard gap only for stacks, so adjacent
 *     anonymous mappings touch, as here. Linux merges adjacent anonymous mappings into one VMA;
 *     this model keeps each mapping separate so that each can be named and shown.
 *   - `mmapBase` is page-aligned and, in the realistic mode, drawn from a seeded generator in
 *     the range Linux uses with ASLR (28 bits of page-granular entropy below the stack);
 *   - `brk` starts at a page-aligned `brkStart` above the program image and grows upward.
 *
 * Key invariant: mappings never overlap, and are kept sorted by start address.
 */

export const PAGE_SIZE = 4096;
export const USER_SPACE_START = 0x10000;
export const USER_SPACE_END = 2 ** 47 - PAGE_SIZE;

export type MappingKind = 'arena' | 'mmap-chunk' | 'brk-heap' | 'reserved';

export interface Mapping {
  start: number;
  length: number;
  kind: MappingKind;
}

export function pageAlignUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** A small deterministic generator (mulberry32) so that seeded layouts replay exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AddressSpaceOptions {
  /** Top of the mmap area (exclusive), page-aligned. */
  mmapBase: number;
  /** Start of the brk heap, page-aligned. */
  brkStart: number;
}

/** The default layout of a non-PIE-randomised x86-64 process (ASLR off). */
export const FIXED_LAYOUT: AddressSpaceOptions = {
  mmapBase: 0x7fff_f7ff_f000,
  brkStart: 0x0000_5555_5557_9000,
};

/** A layout with Linux-like randomisation, reproducible from `seed`. */
export function randomizedLayout(seed: number): AddressSpaceOptions {
  const rnd = mulberry32(seed);
  // mmap_base = STACK_TOP - gap - rnd, with rnd up to 2^28 pages (mmap_rnd_bits = 28).
  const pages = Math.floor(rnd() * 2 ** 28);
  const mmapBase = 0x7fff_f7ff_f000 - pages * PAGE_SIZE;
  // PIE load base + brk randomisation (up to 32 MiB, arch_randomize_brk).
  const exe = 0x5555_5555_4000 + Math.floor(rnd() * 2 ** 20) * PAGE_SIZE;
  const brkStart = exe + 0x2_5000 + Math.floor(rnd() * 8192) * PAGE_SIZE;
  return { mmapBase, brkStart };
}

export class AddressSpace {
  readonly mmapBase: number;
  readonly brkStart: number;
  /** Current program break. */
  brk: number;
  /** Mapped regions, sorted by start. */
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private readonly kinds: MappingKind[] = [];
  /** Bytes mapped by mmap (not counting brk). */
  mappedBytes = 0;
  /**
   * RLIMIT_AS: mmap, mapFixed and sbrk fail when mapped bytes plus the brk heap would exceed
   * it. Infinity by default.
   */
  limit = Infinity;

  constructor(options: AddressSpaceOptions = FIXED_LAYOUT) {
    if (options.mmapBase % PAGE_SIZE !== 0 || options.brkStart % PAGE_SIZE !== 0) {
      throw new Error('address space: mmapBase and brkStart must be page-aligned');
    }
    this.mmapBase = options.mmapBase;
    this.brkStart = options.brkStart;
    this.brk = options.brkStart;
  }

  /** mmap(NULL, length) top-down below mmapBase; returns the start, or 0 (MAP_FAILED). */
  mmap(length: number, kind: MappingKind): number {
    const len = pageAlignUp(length);
    if (!(len > 0) || len > USER_SPACE_END || !this.fits(len)) return 0;
    // Walk gaps from the top: between mapping i and i+1, and above the last below mmapBase.
    let hi = this.mmapBase;
    for (let i = this.upperBound(this.mmapBase) - 1; i >= -1; i--) {
      const lo = i >= 0 ? this.starts[i]! + this.lengths[i]! : Math.max(USER_SPACE_START, this.brk);
      if (hi - lo >= len) {
        const start = hi - len;
        this.insert(start, len, kind);
        this.mappedBytes += len;
        return start;
      }
      if (i >= 0) hi = Math.min(hi, this.starts[i]!);
    }
    return 0;
  }

  /** Map exactly at `start` (MAP_FIXED_NOREPLACE); false when it overlaps. */
  mapFixed(start: number, length: number, kind: MappingKind): boolean {
    const len = pageAlignUp(length);
    if (start % PAGE_SIZE !== 0 || start < USER_SPACE_START || start + len > USER_SPACE_END) return false;
    if (this.overlaps(start, len) || !this.fits(len)) return false;
    this.insert(start, len, kind);
    if (kind !== 'brk-heap') this.mappedBytes += len;
    return true;
  }

  /** munmap of a whole mapping made earlier. */
  munmap(start: number, length: number): void {
    const i = this.indexOf(start);
    const len = pageAlignUp(length);
    if (i < 0 || this.lengths[i] !== len) {
      throw new Error(`munmap(0x${start.toString(16)}, ${length}): no such mapping`);
    }
    this.starts.splice(i, 1);
    this.lengths.splice(i, 1);
    this.kinds.splice(i, 1);
    this.mappedBytes -= len;
  }

  /** sbrk(increment): grows or shrinks the heap; returns the old break, or -1 on failure. */
  sbrk(increment: number): number {
    const old = this.brk;
    const next = old + increment;
    if (next < this.brkStart) return -1;
    if (increment > 0) {
      if (!this.fits(pageAlignUp(next) - pageAlignUp(old))) return -1;
      const lo = pageAlignUp(old);
      const hi = pageAlignUp(next);
      if (hi > lo && this.overlaps(lo, hi - lo)) return -1;
    }
    this.brk = next;
    return old;
  }

  /** The mapping containing `addr`, or null. */
  find(addr: number): Mapping | null {
    const i = this.upperBound(addr) - 1;
    if (i < 0) return null;
    const start = this.starts[i]!;
    if (addr >= start + this.lengths[i]!) return null;
    return { start, length: this.lengths[i]!, kind: this.kinds[i]! };
  }

  mappings(): Mapping[] {
    return this.starts.map((start, i) => ({ start, length: this.lengths[i]!, kind: this.kinds[i]! }));
  }

  get mappingCount(): number {
    return this.starts.length;
  }

  /** Whether `extra` more bytes stay within `limit`. */
  private fits(extra: number): boolean {
    return this.mappedBytes + (this.brk - this.brkStart) + extra <= this.limit;
  }

  private overlaps(start: number, len: number): boolean {
    const i = this.upperBound(start + len - 1) - 1;
    if (i < 0) return false;
    return this.starts[i]! + this.lengths[i]! > start;
  }

  private insert(start: number, len: number, kind: MappingKind): void {
    const i = this.upperBound(start);
    this.starts.splice(i, 0, start);
    this.lengths.splice(i, 0, len);
    this.kinds.splice(i, 0, kind);
  }

  /** Index of the first mapping starting after `addr`. */
  private upperBound(addr: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(start: number): number {
    const i = this.upperBound(start) - 1;
    return i >= 0 && this.starts[i] === start ? i : -1;
  }
}
