/**
 * The operation log of a session: every allocator call, in order, whatever made it (Python
 * code in the console, an imported trace, a workload). Operation `i` of the log is the
 * timeline's index `i`; the heap "at position p" is the heap after operations `0 .. p-1`.
 *
 * Each entry keeps what is needed to redo the call on a fresh heap: the kind, the handle it
 * was given (realloc, free) and the size. The handle a call returns is not stored: a heap
 * built with the same options and fed the same calls returns the same handles (the whole
 * simulation is deterministic), so a replay can hand the recorded argument handles straight
 * back to the heap.
 *
 * Key invariant: replaying `0 .. n-1` on `createReplayHeap(options)` of the session's options
 * yields the session's live heap, block for block (tested in test/trace/oplog.test.ts).
 *
 * Storage is a struct of typed arrays (13 bytes per operation): `kind` (Uint8), `arg`
 * (Float64: the input handle for realloc/free, nelem for calloc; raw handles are addresses)
 * and `size` (Uint32, with sizes of 2^32-1 and more, or bigints, in `bigSizes`).
 *
 * `RecordingAllocator` is the one door through which a session touches its heap: it performs
 * each call on the live heap and appends it to the log.
 */
import type { PymallocHeap, Size } from '../pymalloc/heap';

/** PyObject_Malloc / PyMem_Malloc (pymalloc and its raw fallback). */
export const LOG_MALLOC = 0;
export const LOG_CALLOC = 1;
export const LOG_REALLOC = 2;
export const LOG_FREE = 3;
/** PyMem_RawMalloc & co. (the RAW domain, and every domain under PYTHONMALLOC=malloc). */
export const LOG_RAW_MALLOC = 4;
export const LOG_RAW_REALLOC = 5;
export const LOG_RAW_FREE = 6;

export const LOG_KIND_NAMES = ['malloc', 'calloc', 'realloc', 'free', 'raw_malloc', 'raw_realloc', 'raw_free'] as const;

const BIG = 0xffff_ffff;

export class OpLog {
  length = 0;
  kind = new Uint8Array(1024);
  arg = new Float64Array(1024);
  size = new Uint32Array(1024);
  /** Sizes that do not fit the Uint32 column, by operation index. */
  readonly bigSizes = new Map<number, Size>();
  /** calloc counts that are bigints, by operation index (`arg` is NaN there). */
  readonly bigCounts = new Map<number, bigint>();

  private grow(): void {
    const n = this.kind.length * 2;
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    const a = new Float64Array(n);
    a.set(this.arg);
    this.arg = a;
    const s = new Uint32Array(n);
    s.set(this.size);
    this.size = s;
  }

  push(kind: number, arg: number, size: Size): number {
    if (this.length === this.kind.length) this.grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.arg[i] = arg;
    if (typeof size === 'number' && size < BIG) {
      this.size[i] = size;
    } else {
      this.size[i] = BIG;
      this.bigSizes.set(i, size);
    }
    return i;
  }

  /** The nelem of a calloc. */
  countAt(i: number): Size {
    const a = this.arg[i]!;
    return Number.isNaN(a) ? this.bigCounts.get(i)! : a;
  }

  sizeAt(i: number): Size {
    const s = this.size[i]!;
    return s === BIG ? this.bigSizes.get(i)! : s;
  }

  /** Drops operations `n ..` (used when a run fails half-way and the session rolls back). */
  truncate(n: number): void {
    if (n >= this.length) return;
    for (const k of this.bigSizes.keys()) if (k >= n) this.bigSizes.delete(k);
    for (const k of this.bigCounts.keys()) if (k >= n) this.bigCounts.delete(k);
    this.length = n;
  }

  /** Bytes held by the columns (for memory budgets). */
  byteSize(): number {
    return this.kind.byteLength + this.arg.byteLength + this.size.byteLength;
  }
}

/**
 * Applies operations `from .. to-1` of `log` to `heap`, which must be the heap as it was at
 * position `from`. Returns `to`.
 */
export function replayLog(heap: PymallocHeap, log: OpLog, from: number, to: number): number {
  const kind = log.kind;
  const arg = log.arg;
  const size = log.size;
  const raw = heap.raw;
  for (let i = from; i < to; i++) {
    const k = kind[i]!;
    const z = size[i]!;
    const n: Size = z === BIG ? log.bigSizes.get(i)! : z;
    switch (k) {
      case LOG_MALLOC:
        heap.malloc(n);
        break;
      case LOG_FREE:
        heap.free(arg[i]!);
        break;
      case LOG_REALLOC:
        heap.realloc(arg[i]!, n);
        break;
      case LOG_CALLOC:
        heap.calloc(log.countAt(i), n);
        break;
      case LOG_RAW_MALLOC:
        raw.malloc(Number(n));
        break;
      case LOG_RAW_REALLOC:
        raw.realloc(arg[i]!, Number(n));
        break;
      case LOG_RAW_FREE:
        raw.free(arg[i]!);
        break;
      default:
        throw new Error(`operation log: unknown kind ${k} at ${i}`);
    }
  }
  return to;
}

/** The allocator calls an object space makes (handles for pymalloc, addresses for raw). */
export interface Allocator {
  readonly heap: PymallocHeap;
  malloc(n: Size): number;
  calloc(nelem: Size, elsize: Size): number;
  realloc(h: number, n: Size): number;
  free(h: number): void;
  rawMalloc(n: number): number;
  rawRealloc(address: number, n: number): number;
  rawFree(address: number): void;
}

/** Calls straight to the heap, logging nothing. */
export class DirectAllocator implements Allocator {
  readonly heap: PymallocHeap;
  constructor(heap: PymallocHeap) {
    this.heap = heap;
  }
  malloc(n: Size): number {
    return this.heap.malloc(n);
  }
  calloc(nelem: Size, elsize: Size): number {
    return this.heap.calloc(nelem, elsize);
  }
  realloc(h: number, n: Size): number {
    return this.heap.realloc(h, n);
  }
  free(h: number): void {
    this.heap.free(h);
  }
  rawMalloc(n: number): number {
    return this.heap.raw.malloc(n);
  }
  rawRealloc(address: number, n: number): number {
    return this.heap.raw.realloc(address, n);
  }
  rawFree(address: number): void {
    this.heap.raw.free(address);
  }
}

/**
 * Thrown by a RecordingAllocator instead of making an allocation when the user cancelled the
 * work (or, when a session is rebuilt, at the call where the user had cancelled it). It is
 * raised only where an allocation may also fail, so the object space stays consistent, and
 * Python code sees it as KeyboardInterrupt.
 */
export class SimInterrupt extends Error {
  /** Log length when it was raised. */
  readonly at: number;
  constructor(at: number) {
    super('interrupted');
    this.at = at;
  }
}

/** How often (in allocation calls) `poll` runs. */
export const POLL_EVERY = 1024;

/**
 * The allocator entry points of a session: each call is made on the live heap and logged.
 * The `raw*` calls take and return addresses, like `PyMem_RawMalloc`; the others handles.
 *
 * Allocation calls pass a gate first: at log length `interruptAt`, or when `poll` (run every
 * POLL_EVERY allocation calls, for progress and cancellation) returns true, SimInterrupt.
 */
export class RecordingAllocator implements Allocator {
  readonly heap: PymallocHeap;
  readonly log: OpLog;

  /** Log length at which the next allocation call raises SimInterrupt; -1 for none. */
  interruptAt = -1;
  /** Called every POLL_EVERY allocation calls; returning true interrupts. */
  poll: (() => boolean) | null = null;
  /** Log length at the last SimInterrupt raised (-1: none yet). */
  lastInterrupt = -1;
  private countdown = POLL_EVERY;

  constructor(heap: PymallocHeap, log: OpLog = new OpLog()) {
    this.heap = heap;
    this.log = log;
  }

  private gate(): void {
    const n = this.log.length;
    if (n === this.interruptAt) this.interrupt(n);
    if (--this.countdown <= 0) {
      this.countdown = POLL_EVERY;
      if (this.poll !== null && this.poll()) this.interrupt(n);
    }
  }

  private interrupt(n: number): never {
    this.lastInterrupt = n;
    this.interruptAt = -1;
    throw new SimInterrupt(n);
  }

  malloc(n: Size): number {
    this.gate();
    this.log.push(LOG_MALLOC, 0, n);
    return this.heap.malloc(n);
  }

  calloc(nelem: Size, elsize: Size): number {
    this.gate();
    if (typeof nelem === 'number') {
      this.log.push(LOG_CALLOC, nelem, elsize);
    } else {
      this.log.bigCounts.set(this.log.push(LOG_CALLOC, Number.NaN, elsize), nelem);
    }
    return this.heap.calloc(nelem, elsize);
  }

  realloc(h: number, n: Size): number {
    this.gate();
    this.log.push(LOG_REALLOC, h, n);
    return this.heap.realloc(h, n);
  }

  free(h: number): void {
    this.log.push(LOG_FREE, h, 0);
    this.heap.free(h);
  }

  rawMalloc(n: number): number {
    this.gate();
    this.log.push(LOG_RAW_MALLOC, 0, n);
    return this.heap.raw.malloc(n);
  }

  rawRealloc(address: number, n: number): number {
    this.gate();
    this.log.push(LOG_RAW_REALLOC, address, n);
    return this.heap.raw.realloc(address, n);
  }

  rawFree(address: number): void {
    this.log.push(LOG_RAW_FREE, address, 0);
    this.heap.raw.free(address);
  }
}
