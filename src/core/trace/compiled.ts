/**
 * A parsed trace in typed arrays, for replaying many times (benchmarks, timelines).
 *
 * IDs are renamed to dense slots at parse time (a slot is reused after its block is freed), so
 * a replay keeps the live handles in one Float64Array instead of a Map. Sizes that fit in 32
 * bits are stored inline; rarer large sizes and calloc counts live in side arrays.
 *
 * Liveness is decided at parse time with CPython's static NULL rules (size > PY_SSIZE_T_MAX,
 * calloc overflow). A NULL that only a replay can produce (an out-of-memory raw allocator)
 * leaves handle 0 in the slot, and freeing it is then PyObject_Free(NULL), a no-op.
 */
import { PY_SSIZE_T_MAX } from '../profiles';
import type { PymallocHeap } from '../pymalloc/heap';
import { LiveTable } from './live-table';
import { OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, TraceError, TraceReader, idText, type TraceSink } from './reader';

/** Marks a size stored in `bigSizes` (index in the low bits of `sizeOrRef`). */
const BIG = 0x8000_0000;

export class CompiledTrace {
  length = 0;
  kind = new Uint8Array(1024);
  slot = new Int32Array(1024);
  /** The size, or BIG | index into bigSizes. For calloc: index into callocArgs. */
  size = new Uint32Array(1024);
  readonly bigSizes: (number | bigint)[] = [];
  readonly callocArgs: (number | bigint)[] = [];
  /** Number of slots ever used. */
  nslots = 0;

  push(kind: number, slot: number, size: number): void {
    if (this.length === this.kind.length) {
      const n = this.length * 2;
      const k = new Uint8Array(n);
      k.set(this.kind);
      this.kind = k;
      const s = new Int32Array(n);
      s.set(this.slot);
      this.slot = s;
      const z = new Uint32Array(n);
      z.set(this.size);
      this.size = z;
    }
    this.kind[this.length] = kind;
    this.slot[this.length] = slot;
    this.size[this.length] = size;
    this.length++;
  }

  sizeAt(i: number): number | bigint {
    const s = this.size[i]!;
    return s >= BIG ? this.bigSizes[s - BIG]! : s;
  }
}

function isNullRequest(r: TraceReader): boolean {
  const size = r.size;
  if (r.kind === OP_CALLOC) {
    const es = BigInt(size);
    return es !== 0n && BigInt(r.count) > PY_SSIZE_T_MAX / es;
  }
  return typeof size === 'bigint' && size > PY_SSIZE_T_MAX;
}

/** Builds a CompiledTrace from a TraceReader, checking liveness as a replay would. */
export class TraceCompiler implements TraceSink {
  readonly trace = new CompiledTrace();
  /** Live ids -> slot + 1 (LiveTable: no Map churn for the usual dense ids). */
  private readonly slots = new LiveTable();
  private readonly freeSlots: number[] = [];

  op(r: TraceReader): void {
    const t = this.trace;
    const id = r.id;
    const got = this.slots.get(id);
    let slot: number | undefined = got === 0 ? undefined : got - 1;
    if (r.kind === OP_FREE) {
      if (slot === undefined) throw new TraceError(r.line, `free of id ${idText(id)}, which is not live`);
      this.slots.delete(id);
      this.freeSlots.push(slot);
      t.push(OP_FREE, slot, 0);
      return;
    }
    if (r.kind !== OP_REALLOC && slot !== undefined) throw new TraceError(r.line, `id ${idText(id)} is already live`);
    const isNull = isNullRequest(r);
    const fresh = slot === undefined;
    if (fresh) slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : t.nslots++;
    let size: number;
    if (r.kind === OP_CALLOC) {
      size = t.callocArgs.length;
      t.callocArgs.push(r.count, r.size);
    } else if (typeof r.size === 'number' && r.size < BIG) {
      size = r.size;
    } else {
      size = BIG + t.bigSizes.length;
      t.bigSizes.push(r.size);
    }
    t.push(r.kind, slot!, size);
    if (isNull) {
      // A NULL result leaves the id as it was: not live for a/c, still the old block for r.
      if (fresh) this.freeSlots.push(slot!);
    } else if (fresh) {
      this.slots.set(id, slot! + 1);
    }
  }
}

export function compileTrace(text: string): CompiledTrace {
  const c = new TraceCompiler();
  const r = new TraceReader(c);
  r.push(text);
  r.end();
  return c.trace;
}

/**
 * Replays a compiled trace on `heap`. `handles` (length >= nslots, zeroed) receives the live
 * handles. Returns the number of operations applied.
 */
export function replayCompiled(heap: PymallocHeap, t: CompiledTrace, handles: Float64Array): number {
  const n = t.length;
  const kind = t.kind;
  const slot = t.slot;
  const size = t.size;
  for (let i = 0; i < n; i++) {
    const k = kind[i]!;
    const s = slot[i]!;
    if (k === OP_MALLOC) {
      const z = size[i]!;
      handles[s] = heap.malloc(z >= BIG ? t.bigSizes[z - BIG]! : z);
    } else if (k === OP_FREE) {
      heap.free(handles[s]!);
      handles[s] = 0;
    } else if (k === OP_REALLOC) {
      const z = size[i]!;
      const h = heap.realloc(handles[s]!, z >= BIG ? t.bigSizes[z - BIG]! : z);
      if (h !== 0) handles[s] = h;
    } else {
      const j = size[i]!;
      handles[s] = heap.calloc(t.callocArgs[j]!, t.callocArgs[j + 1]!);
    }
  }
  return n;
}
