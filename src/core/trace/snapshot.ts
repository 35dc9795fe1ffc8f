/**
 * Snapshots of the whole simulator state: the pymalloc heap with everything it reaches (the
 * raw allocator, the address space, the arena placer), for the timeline's checkpoints.
 *
 * How it works. The state is a graph of class instances holding scalars, typed arrays,
 * arrays, Maps and Sets (heap.ts, glibc-malloc.ts, address-space.ts, arenas.ts keep no
 * closures, no `#private` fields and no views sharing a buffer). `snapshotHeap` copies that
 * graph structurally, memoised so that an object reached twice (the AddressSpace is held by
 * both the raw allocator and the arena placer) is copied once and stays shared in the copy.
 * Frozen objects (the version profiles) and functions are immutable and shared, not copied.
 *
 *   - In a snapshot, typed arrays are copies; arrays, Maps and Sets whose contents are all
 *     numbers are packed into Float64Arrays (`PackedArray`, `PackedMap`, `PackedSet`), so a
 *     checkpoint is mostly flat memory that the garbage collector never has to scan; other
 *     arrays, Maps and Sets are copied element by element. Objects keep their prototype.
 *   - `restoreHeap(snapshot, into)` writes the snapshot back into an existing heap: every
 *     object, typed array, array, Map and Set of `into` found at the same place is reused
 *     (typed arrays of the same length by `set`, a memcpy), so a restore allocates almost
 *     nothing and the heap keeps the hidden classes V8 gave it at construction (its methods
 *     stay monomorphic and fast). What does not match is made anew.
 *
 * Key invariant: the heap restored from a snapshot taken at position p behaves exactly like
 * the heap at p: the same handles and addresses for every further call, the same dumps
 * (test/trace/snapshot.test.ts continues both with the same random calls and compares).
 * A snapshot shares no mutable object with the heap it came from or with any heap restored
 * from it, so none of them can change another.
 *
 * Cost: a restore copies the typed arrays (a memcpy) and walks each packed Map once to see
 * whether the live one already holds the same entries; a Map that differs is rebuilt, ~0.1 s
 * per million entries. With pymalloc that is poolByPage (a few thousand pages): ~0.3-0.9 ms for
 * a heap of 1M blocks. Under PYTHONMALLOC=malloc every block is a chunk of the glibc model,
 * whose state is typed arrays too (the `wide` Maps of its tables stay empty): a heap of 1M
 * chunks (22 MiB) snapshots in ~10 ms and restores in ~3 ms.
 *
 * `bytes` is an estimate of the memory a snapshot holds (for the timeline's budget): the exact
 * byte length of every typed array plus V8's layout on 64-bit (8-byte slots) for the objects:
 * 16 bytes of header per object and 8 per field or element.
 */
import type { PymallocHeap } from '../pymalloc/heap';

/** Bytes of an object header in the estimate (map + properties/elements pointers). */
const OBJECT_BYTES = 24;
/** Bytes of a typed array object besides its backing store. */
const TYPED_ARRAY_BYTES = 96;
const SLOT_BYTES = 8;

/** An array of numbers only, kept as doubles. */
class PackedArray {
  constructor(readonly values: Float64Array) {}
}

/** A Map whose keys and values are all numbers: keys and values in insertion order. */
class PackedMap {
  constructor(
    readonly keys: Float64Array,
    readonly values: Float64Array,
  ) {}
}

/** A Set of numbers only, in insertion order. */
class PackedSet {
  constructor(readonly values: Float64Array) {}
}

type AnyTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type Bag = Record<string | symbol, unknown>;

function isTypedArray(x: object): x is AnyTypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

function isShared(x: object): boolean {
  return typeof x === 'function' || Object.isFrozen(x);
}

/** A copy of the simulator state at one moment. Never run: only restored from. */
export class HeapSnapshot {
  /** @internal The copied graph (a PymallocHeap in shape, with packed collections). */
  readonly root: object;
  /** Estimated bytes held (see the file header). */
  readonly bytes: number;

  constructor(root: object, bytes: number) {
    this.root = root;
    this.bytes = bytes;
  }
}

/** Copies a live state graph into snapshot form, counting bytes. */
class Capture {
  private readonly memo = new Map<object, unknown>();
  bytes = 0;

  value(v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    if (isShared(v)) return v;
    const m = this.memo.get(v);
    if (m !== undefined) return m;
    let out: unknown;
    if (isTypedArray(v)) {
      if (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength) {
        throw new Error('snapshot: a typed array that is a view of a larger buffer cannot be copied');
      }
      out = v.slice();
      this.bytes += TYPED_ARRAY_BYTES + v.byteLength;
      this.memo.set(v, out);
    } else if (Array.isArray(v)) {
      out = this.array(v);
    } else if (v instanceof Map) {
      out = this.map(v);
    } else if (v instanceof Set) {
      out = this.set(v);
    } else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v) || v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise || v instanceof Date || v instanceof RegExp) {
      throw new Error(`snapshot: cannot copy a ${Object.prototype.toString.call(v)}`);
    } else {
      const src = v as Bag;
      const dst = Object.create(Object.getPrototypeOf(src) as object | null) as Bag;
      this.memo.set(v, dst);
      const keys = Object.keys(src);
      this.bytes += OBJECT_BYTES + SLOT_BYTES * keys.length;
      for (const k of keys) dst[k] = this.value(src[k]);
      out = dst;
    }
    return out;
  }

  private array(v: unknown[]): unknown {
    const n = v.length;
    let numbers = true;
    for (let i = 0; i < n; i++) {
      if (typeof v[i] !== 'number') {
        numbers = false;
        break;
      }
    }
    // (A hole reads as undefined, so an array with holes is never taken for numbers.)
    if (numbers && n > 0) {
      const out = new PackedArray(Float64Array.from(v as number[]));
      this.bytes += OBJECT_BYTES + TYPED_ARRAY_BYTES + 8 * n;
      this.memo.set(v, out);
      return out;
    }
    const out: unknown[] = [];
    this.memo.set(v, out);
    this.bytes += OBJECT_BYTES + SLOT_BYTES * n;
    for (let i = 0; i < n; i++) out.push(this.value(v[i]));
    return out;
  }

  private map(v: Map<unknown, unknown>): unknown {
    let numbers = true;
    for (const [k, x] of v) {
      if (typeof k !== 'number' || typeof x !== 'number') {
        numbers = false;
        break;
      }
    }
    if (numbers) {
      const keys = new Float64Array(v.size);
      const values = new Float64Array(v.size);
      let i = 0;
      for (const [k, x] of v) {
        keys[i] = k as number;
        values[i++] = x as number;
      }
      const out = new PackedMap(keys, values);
      this.bytes += OBJECT_BYTES + 2 * TYPED_ARRAY_BYTES + 16 * v.size;
      this.memo.set(v, out);
      return out;
    }
    const out = new Map<unknown, unknown>();
    this.memo.set(v, out);
    // OrderedHashMap: 3 slots per entry, a bucket per 2 entries, capacity up to twice the size.
    this.bytes += OBJECT_BYTES + 56 * v.size;
    for (const [k, x] of v) out.set(this.value(k), this.value(x));
    return out;
  }

  private set(v: Set<unknown>): unknown {
    let numbers = true;
    for (const k of v) {
      if (typeof k !== 'number') {
        numbers = false;
        break;
      }
    }
    if (numbers) {
      const out = new PackedSet(Float64Array.from(v as Set<number>));
      this.bytes += OBJECT_BYTES + TYPED_ARRAY_BYTES + 8 * v.size;
      this.memo.set(v, out);
      return out;
    }
    const out = new Set<unknown>();
    this.memo.set(v, out);
    this.bytes += OBJECT_BYTES + 40 * v.size;
    for (const k of v) out.add(this.value(k));
    return out;
  }
}

/** Whether `m` holds exactly the entries `keys[i] -> values[i]`, in that order. */
function samePackedMap(m: Map<unknown, unknown>, keys: Float64Array, values: Float64Array): boolean {
  if (m.size !== keys.length) return false;
  let i = 0;
  for (const [k, x] of m) {
    if (k !== keys[i] || x !== values[i]) return false;
    i++;
  }
  return true;
}

/**
 * Writes a snapshot graph into a live graph, reusing the live graph's objects where they sit
 * at the same place and are of the same kind (see the file header).
 */
class Restore {
  /** Snapshot object -> live object that stands for it. */
  private readonly memo = new Map<unknown, unknown>();
  /** Live objects already standing for some snapshot object (never reused twice). */
  private readonly claimed = new Set<unknown>();

  private take<T>(src: unknown, dst: T): T {
    this.memo.set(src, dst);
    this.claimed.add(dst);
    return dst;
  }

  private reusable(old: unknown): boolean {
    return typeof old === 'object' && old !== null && !this.claimed.has(old) && !isShared(old);
  }

  /** The live value for snapshot value `v`; `old` is what the live graph holds there now. */
  value(v: unknown, old: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    if (isShared(v)) return v;
    const m = this.memo.get(v);
    if (m !== undefined) return m;
    const reuse = this.reusable(old);
    if (isTypedArray(v)) {
      const o = old as AnyTypedArray;
      if (reuse && Object.getPrototypeOf(o) === Object.getPrototypeOf(v) && o.length === v.length) {
        (o as Uint8Array).set(v as Uint8Array);
        return this.take(v, o);
      }
      return this.take(v, v.slice());
    }
    if (v instanceof PackedArray) {
      const out = reuse && Array.isArray(old) ? (old as unknown[]) : [];
      out.length = 0;
      const src = v.values;
      for (let i = 0; i < src.length; i++) out.push(src[i]!);
      return this.take(v, out);
    }
    if (Array.isArray(v)) {
      const prev = reuse && Array.isArray(old) ? (old as unknown[]).slice() : [];
      const out = reuse && Array.isArray(old) ? (old as unknown[]) : [];
      this.take(v, out);
      out.length = 0;
      for (let i = 0; i < v.length; i++) out.push(this.value(v[i], prev[i]));
      return out;
    }
    if (v instanceof PackedMap) {
      const out = reuse && old instanceof Map ? (old as Map<unknown, unknown>) : new Map<number, number>();
      const keys = v.keys;
      const values = v.values;
      // Maps like poolByPage seldom change between neighbouring positions: when the live Map
      // already holds the same entries in the same order, a walk is all it costs.
      if (!samePackedMap(out, keys, values)) {
        out.clear();
        for (let i = 0; i < keys.length; i++) out.set(keys[i]!, values[i]!);
      }
      return this.take(v, out);
    }
    if (v instanceof Map) {
      const out = reuse && old instanceof Map ? old : new Map<unknown, unknown>();
      this.take(v, out);
      out.clear();
      for (const [k, x] of v) out.set(this.value(k, undefined), this.value(x, undefined));
      return out;
    }
    if (v instanceof PackedSet) {
      const out = reuse && old instanceof Set ? old : new Set<number>();
      out.clear();
      const values = v.values;
      for (let i = 0; i < values.length; i++) out.add(values[i]!);
      return this.take(v, out);
    }
    if (v instanceof Set) {
      const out = reuse && old instanceof Set ? old : new Set<unknown>();
      this.take(v, out);
      out.clear();
      for (const k of v) out.add(this.value(k, undefined));
      return out;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    const src = v as Bag;
    const dst = (
      reuse && !Array.isArray(old) && !isTypedArray(old as object) && !(old instanceof Map) && !(old instanceof Set) && Object.getPrototypeOf(old) === proto
        ? old
        : Object.create(proto)
    ) as Bag;
    this.take(v, dst);
    this.object(src, dst);
    return dst;
  }

  /** Makes the own fields of `dst` those of `src` (values restored recursively). */
  object(src: Bag, dst: Bag): void {
    const keys = Object.keys(src);
    for (const k of keys) dst[k] = this.value(src[k], dst[k]);
    const own = Object.keys(dst);
    if (own.length !== keys.length) {
      const want = new Set(keys);
      for (const k of own) if (!want.has(k)) delete dst[k];
    }
  }

  /** Restores the root into `into`, which becomes the restored heap. */
  root(src: object, into: object): void {
    if (Object.getPrototypeOf(src) !== Object.getPrototypeOf(into)) {
      throw new Error('restoreHeap: the target is not of the snapshot heap class');
    }
    this.take(src, into);
    this.object(src as Bag, into as Bag);
  }
}

/** A snapshot of `heap` and everything it reaches; `heap` is not changed. */
export function snapshotHeap(heap: PymallocHeap): HeapSnapshot {
  const cap = new Capture();
  const root = cap.value(heap) as object;
  return new HeapSnapshot(root, cap.bytes);
}

/**
 * Makes `into` (any PymallocHeap, typically one made by the same factory, or a heap this
 * function restored before) the state of `snapshot`, and returns it. The snapshot is not
 * changed and can be restored again. Whatever `into` shared with other heaps must not be
 * in use elsewhere (its raw allocator, address space and placer are overwritten too).
 */
export function restoreHeap(snapshot: HeapSnapshot, into: PymallocHeap): PymallocHeap {
  new Restore().root(snapshot.root, into);
  return into;
}

/** A copy of `heap` written into `into` (snapshot + restore, without keeping the snapshot). */
export function copyHeapInto(heap: PymallocHeap, into: PymallocHeap): PymallocHeap {
  return restoreHeap(snapshotHeap(heap), into);
}
