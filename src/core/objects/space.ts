/**
 * The object space: Python objects living on the simulated heap, byte for byte.
 *
 * Every object that CPython allocates on the heap occupies a real block here, requested through
 * the PEP 445 domain CPython uses for it (OBJ: PyObject_Malloc for objects and dict keys; MEM:
 * PyMem_Malloc for list item arrays and large set tables; RAW for what bypasses both), with the
 * request size of the chosen version (GC header and pre-header included). Static objects (None,
 * True, False, the small ints -5..256, the empty tuple and string, Ellipsis, ...) are not on
 * the heap and are shown as static.
 *
 * Organisation: object classes (one JavaScript object per Python object, which is fine: Python
 * objects are few next to blocks and pools), the ObjectSpace with constructors per type,
 * reference counting with deallocation cascades and free lists, and `sizeOf` (the value of
 * `sys.getsizeof`).
 *
 * Approximation: the simulated interpreter starts with an empty heap; the objects CPython
 * creates at start-up (on <= 3.10 the small ints too) are not modelled.
 */
import type { PymallocHeap } from '../pymalloc/heap';
import { DirectAllocator, type Allocator } from '../trace/oplog';
import {
  DICT_MINSIZE,
  dictKeysSize,
  intDigits,
  listResizeAllocation,
  objectRules,
  usableFraction,
  type ObjectRules,
} from './rules';

export type Domain = 'OBJ' | 'MEM' | 'RAW';

/** One thing that happened to memory or objects, in order. */
export type HeapEvent = { line: number } & (
  | { kind: 'alloc'; domain: Domain; size: number; handle: number; address: number; what: string }
  | { kind: 'realloc'; domain: Domain; size: number; oldHandle: number; oldAddress: number; handle: number; address: number; what: string }
  | { kind: 'free'; domain: Domain; handle: number; address: number; what: string }
  | { kind: 'create'; type: string; address: number; static: boolean; freelist: boolean }
  | { kind: 'destroy'; type: string; address: number; freelist: boolean }
);

export type TypeName =
  | 'NoneType'
  | 'bool'
  | 'int'
  | 'float'
  | 'complex'
  | 'str'
  | 'bytes'
  | 'bytearray'
  | 'tuple'
  | 'list'
  | 'dict'
  | 'set'
  | 'frozenset'
  | 'object'
  | 'range'
  | 'slice'
  | 'type'
  | 'instance'
  | 'iterator'
  | 'ellipsis'
  | 'NotImplementedType';

/** Types whose objects carry a GC header. */
const GC_TYPES = new Set<TypeName>(['tuple', 'list', 'dict', 'set', 'frozenset', 'slice']);

export class PyObj {
  readonly type: TypeName;
  /** Address of the PyObject (after the GC header and pre-header). 0 until placed. */
  address = 0;
  /** The heap block holding the object (0 for static objects). */
  handle = 0;
  refcnt = 1;
  /** Statically allocated (not on the heap); immortal from 3.12. */
  isStatic = false;
  gcTracked = false;
  /**
   * For objects whose own memory is not simulated (bound methods): what to release when the
   * last reference goes. No heap events.
   */
  onRelease: (() => void) | null = null;
  /** Created by the compiler (a constant of a code object), not by running code. */
  compileTime = false;
  /**
   * For heap objects the simulation allocates without modelling their contents (functions):
   * tp_basicsize and the type name events show; 0 otherwise.
   */
  opaqueSize = 0;
  opaqueType = '';
  constructor(type: TypeName) {
    this.type = type;
  }
}

export class IntObj extends PyObj {
  readonly value: bigint;
  constructor(value: bigint, type: 'int' | 'bool' = 'int') {
    super(type);
    this.value = value;
  }
}
export class FloatObj extends PyObj {
  readonly value: number;
  constructor(value: number) {
    super('float');
    this.value = value;
  }
}
export class ComplexObj extends PyObj {
  readonly real: number;
  readonly imag: number;
  constructor(real: number, imag: number) {
    super('complex');
    this.real = real;
    this.imag = imag;
  }
}
export class StrObj extends PyObj {
  readonly value: string;
  /** Code points. */
  readonly length: number;
  /** 1, 2 or 4 bytes per character; ascii when every code point < 128. */
  readonly kind: 1 | 2 | 4;
  readonly ascii: boolean;
  /** Length of a cached UTF-8 copy (+1 for its NUL), 0 when none. */
  utf8Cached = 0;
  constructor(value: string) {
    super('str');
    this.value = value;
    let max = 0;
    let n = 0;
    for (const ch of value) {
      const c = ch.codePointAt(0)!;
      if (c > max) max = c;
      n++;
    }
    this.length = n;
    this.ascii = max < 128;
    this.kind = max < 256 ? 1 : max < 65536 ? 2 : 4;
  }
}
export class BytesObj extends PyObj {
  readonly value: Uint8Array;
  constructor(value: Uint8Array) {
    super('bytes');
    this.value = value;
  }
}
export class ByteArrayObj extends PyObj {
  value: Uint8Array;
  /** ob_alloc: bytes allocated for the buffer (0 when none). */
  alloc = 0;
  bufHandle = 0;
  constructor(value: Uint8Array) {
    super('bytearray');
    this.value = value;
  }
}
export class TupleObj extends PyObj {
  readonly items: PyObj[];
  constructor(items: PyObj[]) {
    super('tuple');
    this.items = items;
  }
}
export class ListObj extends PyObj {
  items: PyObj[] = [];
  /** allocated: slots in the item array. */
  allocated = 0;
  /** The item array's block (MEM domain), 0 when ob_item is NULL. */
  itemsHandle = 0;
  /**
   * Leading slots of the current item array that may have been written since it was
   * allocated (items, or the stale pointers pop and del leave behind); the slots above were
   * never written (0xCD under the debug hooks). An upper bound: byte views only claim 0xCD
   * above it.
   */
  written = 0;
  constructor() {
    super('list');
  }
}
export class DictObj extends PyObj {
  readonly keys: PyObj[] = [];
  readonly values: PyObj[] = [];
  /** Table size (dk_size); 0 while the dict uses the shared empty keys. */
  tableSize = 0;
  /** Entries used in the table (dk_nentries, including deleted ones). */
  nentries = 0;
  /** Whether the keys object has 16-byte all-str entries (3.11+). */
  unicodeKeys = true;
  keysHandle = 0;
  /** <= 3.10 split (key-sharing) dicts: the values array (PyMem); the keys are the class's. */
  splitValuesHandle = 0;
  /** Value slots of a split table (0: combined). */
  splitSlots = 0;
  /**
   * A lookup aid of the simulation, not CPython state (see ObjectSpace.dictIndexOf): int or
   * str key value -> key object, valid while `indexLen` equals `keys.length`; null with a
   * valid length when some key is of another type.
   */
  index: Map<bigint | string, PyObj> | null = null;
  indexLen = -1;
  constructor() {
    super('dict');
  }
}
export class SetObj extends PyObj {
  readonly items: PyObj[] = [];
  /** Table slots (mask + 1); 8 means the inline small table. */
  tableSize = 8;
  /** fill: active + dummy entries. */
  fill = 0;
  tableHandle = 0;
  constructor(type: 'set' | 'frozenset') {
    super(type);
  }
}
/**
 * An iterator object (GET_ITER / PyObject_GetIter): list_iterator, tuple_iterator,
 * range_iterator, str(_ascii)_iterator, bytes/bytearray_iterator, dict_keyiterator,
 * set_iterator. Its position is the JavaScript generator `next` walks.
 */
export class IterObj extends PyObj {
  readonly kind: string;
  readonly seq: PyObj;
  next: Iterator<PyObj> | null = null;
  constructor(kind: string, seq: PyObj) {
    super('iterator');
    this.kind = kind;
    this.seq = seq;
  }
  /** Range iterators are not GC objects; the others are. */
  get isGC(): boolean {
    return !this.kind.endsWith('range_iterator');
  }
}

/** sizeof(PyFunctionObject) per minor version (3.14: assumed, see functionObject). */
export const FUNCTION_SIZE: Record<number, number> = { 7: 112, 8: 120, 9: 120, 10: 128, 11: 136, 12: 144, 13: 144, 14: 152 };

/** sizeof(PyHeapTypeObject) per minor version (type.__sizeof__ of a class without a dict). */
export const HEAP_TYPE_SIZE: Record<number, number> = { 7: 864, 8: 880, 9: 880, 10: 888, 11: 904, 12: 920, 13: 928, 14: 928 };

/**
 * The keys shared by the instance dicts of a class (PEP 412 key-sharing dictionaries).
 * <= 3.10: an 8-slot table holding up to 5 names. 3.11+: a 64-slot all-str table of up to 30
 * names whose `usable` shrinks by one with each new instance down to 1, so that later
 * instances get smaller values arrays.
 */
export interface SharedKeys {
  names: string[];
  usable: number;
  handle: number;
  size: number;
}

/** A class (heap type) made by a class statement. */
export class TypeObj extends PyObj {
  readonly name: string;
  /**
   * Member slots of instances, inherited ones first (the base's __slots__, then this class's),
   * or null when neither this class nor a base declares any.
   */
  readonly slots: string[] | null;
  readonly hasDict: boolean;
  readonly hasWeakref: boolean;
  /** The base class (single inheritance), or null for a direct subclass of object. */
  base: TypeObj | null = null;
  readonly attrs = new Map<string, PyObj>();
  shared: SharedKeys | null = null;
  /** Calling the class (set by the interpreter: instantiation and __init__). */
  call: ((args: PyObj[], kw: Map<string, PyObj>, pos: { line: number; col: number }) => PyObj) | null = null;
  /** An attribute of the class or of a base, in MRO order. */
  lookup(name: string): PyObj | undefined {
    for (let c: TypeObj | null = this; c !== null; c = c.base) {
      const v = c.attrs.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  constructor(name: string, slots: string[] | null, hasDict: boolean, hasWeakref: boolean) {
    super('type');
    this.name = name;
    this.slots = slots;
    this.hasDict = hasDict;
    this.hasWeakref = hasWeakref;
  }
}

/** An instance of a class. */
export class InstanceObj extends PyObj {
  readonly cls: TypeObj;
  readonly slotValues = new Map<string, PyObj>();
  /** <= 3.10: the instance dict (split or combined), created on first attribute store. */
  dict: DictObj | null = null;
  /** 3.11+: attribute values by shared-key name, stored in `valuesHandle` (or inline on 3.13+). */
  readonly values = new Map<string, PyObj>();
  /** Capacity of the values array (nentries + usable at creation). */
  valuesSize = 0;
  valuesHandle = 0;
  /** 3.13+: bytes of inline values after the object (0 when none). */
  inlineBytes = 0;
  constructor(cls: TypeObj) {
    super('instance');
    this.cls = cls;
  }
}

export class RangeObj extends PyObj {
  readonly start: bigint;
  readonly stop: bigint;
  readonly step: bigint;
  constructor(start: bigint, stop: bigint, step: bigint) {
    super('range');
    this.start = start;
    this.stop = stop;
    this.step = step;
  }
}

/**
 * PYTHONMALLOC. `malloc`: every domain goes to the C library. The debug modes put CPython's
 * debug hooks around every domain (pymalloc underneath for `debug` and `pymalloc_debug`, the C
 * library for `malloc_debug`): each block grows by the hooks' header and trailer (24 bytes from
 * 3.8, 32 in 3.7 with its serial number), which changes the size class of everything.
 */
export type PythonMallocMode = 'pymalloc' | 'malloc' | 'debug' | 'pymalloc_debug' | 'malloc_debug';
export const PYTHONMALLOC_MODES: readonly PythonMallocMode[] = ['pymalloc', 'malloc', 'debug', 'pymalloc_debug', 'malloc_debug'];

export class SliceObj extends PyObj {
  start: PyObj;
  stop: PyObj;
  step: PyObj;
  constructor(start: PyObj, stop: PyObj, step: PyObj) {
    super('slice');
    this.start = start;
    this.stop = stop;
    this.step = step;
  }
}

export interface ObjectSpaceOptions {
  pythonMalloc?: PythonMallocMode;
  /** The door to the heap (a RecordingAllocator logs every call); default: direct calls. */
  allocator?: Allocator;
}

/** Bytes before the user data in a debug-hooks block: 8-byte size, api id, 7 x 0xFD. */
export const DEBUG_HEAD = 16;

export class ObjectSpace {
  readonly heap: PymallocHeap;
  /** Every heap call of this space goes through here. */
  readonly alloc: Allocator;
  readonly rules: ObjectRules;
  readonly events: HeapEvent[] = [];
  /**
   * Whether `events` is kept. A long-lived session (the app's) turns it off: its operation
   * log already holds every allocator call, and millions of event objects would not fit.
   */
  recordEvents = true;
  private line = 0;
  /** Called when the source line being executed changes (the app's statement markers). */
  onLine: ((line: number) => void) | null = null;

  /** Source line of the statement being executed, stamped on every event (0: none). */
  get currentLine(): number {
    return this.line;
  }
  set currentLine(line: number) {
    if (line !== this.line) {
      this.line = line;
      if (this.onLine !== null) this.onLine(line);
    }
  }
  readonly pythonMalloc: PythonMallocMode;
  /** Bytes the debug hooks add to each block (0 without hooks). */
  readonly debugOverhead: number;
  /** Whether the domains bypass pymalloc (malloc, malloc_debug). */
  private readonly viaLibc: boolean;

  readonly None: PyObj;
  readonly True: IntObj;
  readonly False: IntObj;
  readonly Ellipsis: PyObj;
  readonly NotImplemented: PyObj;
  readonly emptyTuple: TupleObj;
  readonly emptyStr: StrObj;
  private readonly smallInts = new Map<number, IntObj>();
  /** Latin-1 one-character strings are shared singletons. */
  private readonly latin1 = new Map<number, StrObj>();

  // Free lists (objects kept for reuse, with their blocks).
  readonly floatFree: FloatObj[] = [];
  readonly intFree: IntObj[] = [];
  /** tupleFree[n]: tuples of length n kept for reuse. */
  readonly tupleFree: TupleObj[][] = [];
  readonly listFree: ListObj[] = [];
  readonly dictFree: DictObj[] = [];
  /** The one-slot slice cache (slice_cache). */
  sliceFree: SliceObj | null = null;
  /** Keys objects of 8 slots kept for reuse: their block handles. */
  readonly keysFree: number[] = [];

  /**
   * Requested size of the blocks this space allocated, by handle. Entries of freed blocks are
   * left in place (overwritten when the handle is reused): deleting from a large Map while
   * adding to it makes V8 rehash it again and again.
   */
  readonly requested = new Map<number, number>();

  /** Interned attribute names (not on the simulated heap: they belong to code objects). */
  private readonly interned = new Map<string, StrObj>();

  /** Live objects tracked by the cyclic garbage collector. */
  readonly tracked = new Set<PyObj>();

  /** Addresses for static objects (libpython's data segment). */
  private nextStatic = 0x7fff_f7f0_0000;

  constructor(heap: PymallocHeap, options: ObjectSpaceOptions = {}) {
    this.heap = heap;
    this.alloc = options.allocator ?? new DirectAllocator(heap);
    if (this.alloc.heap !== heap) throw new Error('ObjectSpace: the allocator serves another heap');
    this.rules = objectRules(heap.profile);
    this.pythonMalloc = options.pythonMalloc ?? 'pymalloc';
    this.debugOverhead = this.pythonMalloc.endsWith('debug') ? heap.profile.debugHookOverhead : 0;
    this.viaLibc = this.pythonMalloc === 'malloc' || this.pythonMalloc === 'malloc_debug';
    this.None = this.makeStatic(new PyObj('NoneType'), 16);
    this.True = this.makeStatic(new IntObj(1n, 'bool'), 32);
    this.False = this.makeStatic(new IntObj(0n, 'bool'), 32);
    this.Ellipsis = this.makeStatic(new PyObj('ellipsis'), 16);
    this.NotImplemented = this.makeStatic(new PyObj('NotImplementedType'), 16);
    this.emptyTuple = this.makeStatic(new TupleObj([]), 48);
    this.emptyStr = this.makeStatic(new StrObj(''), 64);
    for (let i = 0; i <= this.rules.tupleFreeMaxLen; i++) this.tupleFree.push([]);
  }

  private makeStatic<T extends PyObj>(o: T, bytes: number): T {
    o.isStatic = true;
    o.address = this.nextStatic + (GC_TYPES.has(o.type) ? this.rules.gcHead : 0);
    o.refcnt = this.rules.immortalRefcnt ?? (this.rules.minor === 11 ? 999_999_999 : 1);
    this.nextStatic += Math.ceil(bytes / 16) * 16 + 64;
    return o;
  }

  private emit(e: HeapEvent): void {
    if (this.recordEvents) this.events.push(e);
  }

  // =========================================================================================
  // Memory domains
  // =========================================================================================

  /** PyObject_Malloc / PyMem_Malloc / PyMem_RawMalloc; throws MemoryError when NULL. */
  allocate(domain: Domain, size: number, what: string): number {
    const h = this.domainMalloc(domain, size + this.debugOverhead);
    if (h === 0) throw new SimMemoryError(`cannot allocate ${size} bytes for ${what}`);
    this.requested.set(h, size);
    this.emit({ line: this.currentLine, kind: 'alloc', domain, size, handle: h, address: this.userAddress(h), what });
    return h;
  }

  /** The address the program sees for block `h` (after the debug hooks' header, if any). */
  userAddress(h: number): number {
    return h === 0 ? 0 : this.heap.addressOf(h) + (this.debugOverhead > 0 ? DEBUG_HEAD : 0);
  }

  private domainMalloc(domain: Domain, size: number): number {
    if (domain === 'RAW' || this.viaLibc) {
      const a = this.alloc.rawMalloc(size === 0 ? 1 : size);
      return a === 0 ? 0 : -a;
    }
    return this.alloc.malloc(size);
  }

  /**
   * Handles of blocks that a moving realloc freed (their bytes differ from those of a freed
   * block: the debug hooks erase only parts of them). An entry goes when the handle is freed.
   */
  readonly movedAway = new Set<number>();

  reallocate(domain: Domain, h: number, size: number, what: string): number {
    const old = this.userAddress(h);
    let nh: number;
    // With debug hooks, the underlying realloc gets the decorated size.
    const total = size + this.debugOverhead;
    if (domain === 'RAW' || this.viaLibc) {
      const a = h === 0 ? this.alloc.rawMalloc(total || 1) : this.alloc.rawRealloc(-h, total || 1);
      nh = a === 0 ? 0 : -a;
    } else {
      nh = this.alloc.realloc(h, total);
    }
    if (nh === 0) throw new SimMemoryError(`cannot reallocate ${size} bytes for ${what}`);
    if (nh !== h && h !== 0) this.movedAway.add(h);
    this.requested.set(nh, size);
    this.emit({ line: this.currentLine, kind: 'realloc', domain, size, oldHandle: h, oldAddress: old, handle: nh, address: this.userAddress(nh), what });
    return nh;
  }

  release(domain: Domain, h: number, what: string): void {
    if (h === 0) return;
    this.emit({ line: this.currentLine, kind: 'free', domain, handle: h, address: this.userAddress(h), what });
    if (this.movedAway.size > 0) this.movedAway.delete(h);
    this.domainFree(domain, h);
  }

  /** PyMem_RawFree for the raw domain (and PYTHONMALLOC=malloc), else PyObject_Free. */
  private domainFree(domain: Domain, h: number): void {
    if (domain === 'RAW' || this.viaLibc) this.alloc.rawFree(-h);
    else this.alloc.free(h);
  }

  // =========================================================================================
  // Object placement
  // =========================================================================================

  /** Bytes before the PyObject of a fresh object of this type (GC header, pre-header). */
  private preBytes(o: PyObj): number {
    return isGCObject(o) ? this.rules.gcHead : 0;
  }

  /** Allocates the object's block (OBJ domain) of `basic` bytes plus its headers. */
  private place<T extends PyObj>(o: T, basic: number): T {
    const pre = this.preBytes(o);
    o.handle = this.allocate('OBJ', pre + basic, o.type);
    o.address = this.userAddress(o.handle) + pre;
    o.gcTracked = isGCObject(o);
    if (o.gcTracked) this.tracked.add(o);
    this.emit({ line: this.currentLine, kind: 'create', type: typeLabel(o), address: o.address, static: false, freelist: false });
    return o;
  }

  private reuse<T extends PyObj>(o: T, from: T): T {
    o.handle = from.handle;
    o.address = from.address;
    o.gcTracked = isGCObject(o);
    if (o.gcTracked) this.tracked.add(o);
    this.emit({ line: this.currentLine, kind: 'create', type: typeLabel(o), address: o.address, static: false, freelist: true });
    return o;
  }

  // =========================================================================================
  // Constructors
  // =========================================================================================

  /**
   * An int. One-digit ints made at run time come from _PyLong_FromMedium on 3.11+, which asks
   * for sizeof(PyLongObject) = 32 bytes; literals go through _PyLong_New (28).
   */
  int(value: bigint, literal = false): IntObj {
    if (value >= -5n && value <= 256n) {
      const k = Number(value);
      let o = this.smallInts.get(k);
      if (o === undefined) {
        o = this.makeStatic(new IntObj(value), 32);
        this.smallInts.set(k, o);
      }
      return this.incref(o);
    }
    const nd = intDigits(value);
    const o = new IntObj(value);
    if (nd === 1 && this.intFree.length > 0) return this.reuse(o, this.intFree.pop()!);
    const medium = nd === 1 && !literal && this.rules.minor >= 11;
    return this.place(o, medium ? 32 : this.rules.intDigitsOffset + 4 * Math.max(nd, this.rules.intMinDigits));
  }

  bool(v: boolean): IntObj {
    return this.incref(v ? this.True : this.False);
  }

  float(value: number): FloatObj {
    const o = new FloatObj(value);
    if (this.floatFree.length > 0) return this.reuse(o, this.floatFree.pop()!);
    return this.place(o, 24);
  }

  complex(real: number, imag: number): ComplexObj {
    return this.place(new ComplexObj(real, imag), 32);
  }

  str(value: string): StrObj {
    if (value === '') return this.incref(this.emptyStr);
    const probe = new StrObj(value);
    if (probe.length === 1 && probe.kind === 1) {
      const c = value.codePointAt(0)!;
      let s = this.latin1.get(c);
      if (s === undefined) {
        s = this.makeStatic(probe, 64);
        // Measured on 3.12/3.13: the non-ASCII latin-1 singletons carry a UTF-8 copy.
        if (!probe.ascii && this.rules.minor >= 12) s.utf8Cached = 3;
        this.latin1.set(c, s);
      }
      return this.incref(s);
    }
    return this.place(probe, this.strBytes(probe));
  }

  /** The allocation of a compact string: header + (len + 1) * kind. */
  private strBytes(s: StrObj): number {
    return s.ascii ? this.rules.strAsciiHeader + s.length + 1 : this.rules.strCompactHeader + (s.length + 1) * s.kind;
  }

  bytes(value: Uint8Array): BytesObj {
    return this.place(new BytesObj(value), 33 + value.length);
  }

  bytearray(value: Uint8Array): ByteArrayObj {
    const o = this.place(new ByteArrayObj(value), 56);
    if (value.length > 0) {
      o.alloc = value.length + 1;
      o.bufHandle = this.allocate('OBJ', o.alloc, 'bytearray buffer');
    }
    return o;
  }

  object(): PyObj {
    return this.place(new PyObj('object'), 16);
  }

  range(start: bigint, stop: bigint, step: bigint): RangeObj {
    return this.place(new RangeObj(start, stop, step), 48);
  }

  /** A slice object (taking over the three references); reuses the one cached slice. */
  slice(start: PyObj, stop: PyObj, step: PyObj): SliceObj {
    const o = new SliceObj(start, stop, step);
    if (this.sliceFree !== null) {
      const f = this.sliceFree;
      this.sliceFree = null;
      return this.reuse(o, f);
    }
    return this.place(o, 40);
  }

  /**
   * An iterator over `seq` (taking a reference to it). Sizes measured on 3.7-3.13: sequence
   * iterators 32 bytes + GC header; range iterators 48 (40 from 3.12, no GC); dict key
   * iterators 56 + GC; set iterators 48 + GC. 3.14 keeps list and tuple iterators (10 each)
   * and range iterators (6) on free lists.
   */
  iterator(kind: string, seq: PyObj): IterObj {
    const o = new IterObj(kind, this.incref(seq));
    const fl = this.iterFree.get(kind);
    if (fl !== undefined && fl.length > 0) return this.reuse(o, fl.pop()!);
    return this.place(o, iteratorBasicSize(kind, this.rules.minor));
  }

  /** 3.14 iterator free lists: kind -> kept objects. */
  private readonly iterFree = new Map<string, IterObj[]>();

  private iterFreeMax(kind: string): number {
    if (this.rules.minor < 14) return 0;
    return kind === 'list_iterator' || kind === 'tuple_iterator' ? 10 : kind === 'range_iterator' ? 6 : 0;
  }

  /**
   * A function object (MAKE_FUNCTION -> PyFunction_New): a GC object of sizeof(PyFunctionObject),
   * 112 (3.7), 120 (3.8, 3.9), 128 (3.10), 136 (3.11), 144 (3.12, 3.13) bytes, measured;
   * 3.14 assumed 152 (3.13 plus PEP 649's func_annotate). Its code object is not simulated.
   */
  functionObject<T extends PyObj>(o: T): T {
    return this.opaqueObject(o, 'function', FUNCTION_SIZE[this.rules.minor]!);
  }

  /**
   * A method object, made when an attribute load yields a bound method that is not called
   * right away (LOAD_METHOD avoids it for calls): 'method' (PyMethodObject: 40 bytes in 3.7,
   * 48 from 3.8) or 'builtin_function_or_method' (PyCFunctionObject: 48 / 56), both GC objects,
   * as measured on 3.7-3.13. Free lists: 256 of each up to 3.8, none in 3.9-3.13, and in 3.14
   * 16 C functions and 20 methods.
   */
  methodObject<T extends PyObj>(o: T, builtin: boolean): T {
    const old = this.rules.minor <= 7;
    return builtin ? this.opaqueObject(o, 'builtin_function_or_method', old ? 48 : 56) : this.opaqueObject(o, 'method', old ? 40 : 48);
  }

  /** Free lists of opaque objects, by type name. */
  private readonly opaqueFree = new Map<string, PyObj[]>();

  private opaqueFreeMax(type: string): number {
    const m = this.rules.minor;
    if (type === 'function') return 0;
    if (m <= 8) return 256;
    if (m >= 14) return type === 'method' ? 20 : 16;
    return 0;
  }

  /** Places an object whose contents are not modelled: a GC block of `basic` bytes. */
  private opaqueObject<T extends PyObj>(o: T, type: string, basic: number): T {
    o.isStatic = false;
    o.refcnt = 1;
    o.opaqueSize = basic;
    o.opaqueType = type;
    o.gcTracked = true;
    this.tracked.add(o);
    const fl = this.opaqueFree.get(type);
    const prev = fl !== undefined && fl.length > 0 ? fl.pop()! : null;
    if (prev !== null) {
      o.handle = prev.handle;
      o.address = prev.address;
    } else {
      o.handle = this.allocate('OBJ', this.rules.gcHead + basic, type);
      o.address = this.userAddress(o.handle) + this.rules.gcHead;
    }
    this.emit({ line: this.currentLine, kind: 'create', type, address: o.address, static: false, freelist: prev !== null });
    return o;
  }

  /** A tuple that takes over the references in `items`. */
  tuple(items: PyObj[]): TupleObj {
    if (items.length === 0) return this.incref(this.emptyTuple);
    const o = new TupleObj(items);
    const fl = this.tupleFree[items.length];
    if (fl !== undefined && fl.length > 0) return this.reuse(o, fl.pop()!);
    return this.place(o, 24 + this.rules.tupleHashField + 8 * items.length);
  }

  /** An empty list (PyList_New(0)). */
  list(): ListObj {
    const o = new ListObj();
    if (this.listFree.length > 0) return this.reuse(o, this.listFree.pop()!);
    return this.place(o, 40);
  }

  /** PyList_New(n) filled with `items` (references taken over): an exact item array. */
  listExact(items: PyObj[]): ListObj {
    const o = this.list();
    if (items.length > 0) this.setListAllocation(o, items.length);
    o.items = items;
    return o;
  }

  /**
   * list_resize(o, newsize): grow or shrink the item array as CPython does. The caller then
   * stores up to `newsize` items.
   */
  listResize(o: ListObj, newsize: number): void {
    // Fast path: the array is big enough and not less than half used.
    if (!(o.allocated >= newsize && newsize >= o.allocated >> 1)) {
      this.resizeItems(o, listResizeAllocation(this.rules, o.allocated, o.items.length, newsize));
    }
    if (newsize > o.written) o.written = newsize;
  }

  /**
   * Sets the item array to `n` slots (PyMem_Realloc; 0 slots is a realloc to 0 bytes) for a
   * caller that then stores items without list_resize: all `n` slots count as written.
   */
  setListAllocation(o: ListObj, n: number): void {
    this.resizeItems(o, n);
    o.written = n;
  }

  /** The realloc of the item array: a new array was never written, a moved one keeps its slots. */
  private resizeItems(o: ListObj, n: number): void {
    const fresh = o.itemsHandle === 0;
    o.itemsHandle = fresh && n > 0 ? this.allocate('MEM', 8 * n, 'list items') : this.reallocate('MEM', o.itemsHandle, 8 * n, 'list items');
    o.allocated = n;
    o.written = fresh ? 0 : Math.min(o.written, n);
  }

  listAppend(o: ListObj, item: PyObj): void {
    this.listResize(o, o.items.length + 1);
    o.items.push(item);
  }

  /**
   * An empty dict. PyDict_New: 3.7 allocates an 8-slot keys object at once; from 3.8 the dict
   * shares the static empty keys until the first insertion. `typeCall` is `dict()` (dict_new),
   * which on 3.8 and 3.9 still allocates the 8-slot keys object.
   */
  dict(typeCall = false): DictObj {
    const d = this.dictObject();
    if (this.rules.minor === 7 || (typeCall && this.rules.minor <= 9)) this.newKeys(d, DICT_MINSIZE);
    return d;
  }

  /**
   * A dict object without a keys table of its own (new_dict with shared or empty keys). Dicts
   * start untracked by the GC and are tracked once they hold something that may be tracked
   * (MAINTAIN_TRACKING).
   */
  private dictObject(): DictObj {
    const o = new DictObj();
    const d = this.dictFree.length > 0 ? this.reuse(o, this.dictFree.pop()!) : this.place(o, 48);
    this.untrack(d);
    return d;
  }

  /** _PyObject_GC_MAY_BE_TRACKED: a GC object, and for a tuple only while it is tracked. */
  mayBeTracked(o: PyObj): boolean {
    if (o instanceof TupleObj) return o.gcTracked;
    return isGCObject(o) && !o.isStatic;
  }

  private untrack(o: PyObj): void {
    o.gcTracked = false;
    this.tracked.delete(o);
  }

  private track(o: PyObj): void {
    o.gcTracked = true;
    this.tracked.add(o);
  }

  /**
   * The domain of dict keys objects: PyObject_Malloc up to 3.12. Changed in 3.13:
   * new_keys_object uses PyMem_Malloc (measured: the debug hooks' api id is 'm').
   */
  get keysDomain(): Domain {
    return this.rules.minor >= 13 ? 'MEM' : 'OBJ';
  }

  /** Allocates a keys object of `size` slots for `d` (3.11: with all-str entries or not). */
  private newKeys(d: DictObj, size: number): void {
    const bytes = dictKeysSize(this.rules, size, d.unicodeKeys);
    if (size === DICT_MINSIZE && this.keysFree.length > 0 && this.keysFreeFits(d)) {
      d.keysHandle = this.keysFree.pop()!;
    } else {
      d.keysHandle = this.allocate(this.keysDomain, bytes, 'dict keys');
    }
    d.tableSize = size;
  }

  /** The keys free list holds 8-slot tables; from 3.11 only all-str ones. */
  private keysFreeFits(d: DictObj): boolean {
    return !this.rules.unicodeKeysEntries || d.unicodeKeys;
  }

  /** d[key] = value, taking over both references. */
  dictSet(d: DictObj, key: PyObj, value: PyObj): void {
    if (!d.gcTracked && (this.mayBeTracked(key) || this.mayBeTracked(value))) this.track(d);
    const i = this.dictIndexOf(d, key);
    if (i >= 0) {
      // An existing key keeps its key object; the new key reference and the old value go.
      const old = d.values[i]!;
      d.values[i] = value;
      this.decref(key);
      this.decref(old);
      return;
    }
    const strKey = key.type === 'str';
    if (d.splitSlots > 0) this.unsplit(d);
    if (d.tableSize === 0) {
      d.unicodeKeys = strKey;
      this.newKeys(d, DICT_MINSIZE);
    } else if (!strKey && d.unicodeKeys && this.rules.unicodeKeysEntries) {
      // 3.11+: a non-str key converts all-str entries to general ones (insertion_resize).
      this.dictResize(d, this.growthRate(d), false);
    }
    if (d.nentries >= usableFraction(d.tableSize)) this.dictResize(d, this.growthRate(d), d.unicodeKeys);
    if (d.indexLen === d.keys.length) {
      const pk = indexKey(key);
      if (pk === null) d.index = null;
      else d.index?.set(pk, key);
      d.indexLen++;
    }
    d.keys.push(key);
    d.values.push(value);
    d.nentries++;
  }

  /**
   * The entry of `key` in `d` (pyEqualsKey), or -1. Large dicts whose keys are all ints or strs
   * are searched through `d.index` (key value -> key object, then its position from the end),
   * so that filling or emptying a dict of a million keys is not quadratic.
   */
  dictIndexOf(d: DictObj, key: PyObj): number {
    const pk = indexKey(key);
    if (pk !== null && d.keys.length >= 32) {
      if (d.indexLen !== d.keys.length) buildDictIndex(d);
      if (d.index !== null) {
        const k = d.index.get(pk);
        return k === undefined ? -1 : d.keys.lastIndexOf(k);
      }
    }
    return d.keys.findIndex((k) => pyEqualsKey(k, key));
  }

  /** GROWTH_RATE: used*2 + size/2 up to 3.8; used*3 from 3.9. */
  /** A split (key-sharing) table gets a new key through the generic path: it becomes combined. */
  private unsplit(d: DictObj): void {
    if (d.splitValuesHandle !== 0) this.release('MEM', d.splitValuesHandle, 'split dict values');
    d.splitValuesHandle = 0;
    d.splitSlots = 0;
    d.unicodeKeys = true;
    const size = this.tableSizeFor(this.growthRate(d));
    d.keysHandle = this.allocate(this.keysDomain, dictKeysSize(this.rules, size, true), 'dict keys');
    d.tableSize = size;
    d.nentries = d.keys.length;
  }

  /** GROWTH_RATE(d) = ma_used * 3 (measured: a table refilled after deletions shrinks). */
  private growthRate(d: DictObj): number {
    return d.keys.length * 3;
  }

  /**
   * The table size dictresize picks for `minsize`. Up to 3.10: the smallest power of two >= 8
   * and >= minsize. Changed in 3.11 (calculate_log2_keysize): bit_length(((minsize | 8) - 1) | 7),
   * which gives 16 for minsize 1..7 (so a one-entry all-str table converted for a non-str key
   * gets 16 slots) and doubles exact powers of two from 16.
   */
  tableSizeFor(minsize: number): number {
    if (this.rules.minor >= 11) {
      const m = ((minsize | DICT_MINSIZE) - 1) | (DICT_MINSIZE - 1);
      return 2 ** m.toString(2).length;
    }
    let size = DICT_MINSIZE;
    while (size < minsize) size *= 2;
    return size;
  }

  private dictResize(d: DictObj, minsize: number, unicode: boolean): void {
    const size = this.tableSizeFor(minsize);
    const old = d.keysHandle;
    const oldSize = d.tableSize;
    d.unicodeKeys = unicode;
    this.newKeys(d, size);
    this.freeKeys(old, oldSize, d);
    d.nentries = d.keys.length;
  }

  private freeKeys(h: number, size: number, d: DictObj): void {
    if (h === 0) return;
    if (size === DICT_MINSIZE && this.keysFree.length < this.rules.dictKeysFreeMax && this.keysFreeFits(d)) {
      this.keysFree.push(h);
      return;
    }
    this.release(this.keysDomain, h, 'dict keys');
  }

  /** Deletes entry `i` (the slot becomes a dummy; the table is not shrunk, as in CPython). */
  dictDelete(d: DictObj, i: number): void {
    if (d.indexLen === d.keys.length) {
      const pk = indexKey(d.keys[i]!);
      if (pk !== null) d.index?.delete(pk);
      d.indexLen--;
    }
    const [k] = d.keys.splice(i, 1);
    const [v] = d.values.splice(i, 1);
    this.decref(k!);
    this.decref(v!);
  }

  /** dict.clear(): back to the shared empty keys. */
  dictClear(d: DictObj): void {
    this.releaseDictTables(d);
    d.keysHandle = 0;
    d.tableSize = 0;
    d.nentries = 0;
    d.unicodeKeys = true;
  }

  /**
   * dictkeys_decref / free_values: each entry's key then value, in entry order, then the
   * split values array and the keys object (to the keys free list when it fits).
   */
  private releaseDictTables(d: DictObj): void {
    d.index = null;
    d.indexLen = -1;
    const keys = d.keys.splice(0);
    const values = d.values.splice(0);
    for (let i = 0; i < keys.length; i++) {
      this.decref(keys[i]!);
      this.decref(values[i]!);
    }
    if (d.splitValuesHandle !== 0) this.release('MEM', d.splitValuesHandle, 'split dict values');
    d.splitValuesHandle = 0;
    d.splitSlots = 0;
    this.freeKeys(d.keysHandle, d.tableSize, d);
  }

  /**
   * _list_clear (list.clear(), del a[:], the GC's tp_clear) and list_dealloc: the items are
   * released last to first, then the item array is freed.
   */
  listClear(l: ListObj): void {
    const items = l.items;
    const h = l.itemsHandle;
    l.items = [];
    l.itemsHandle = 0;
    l.allocated = 0;
    for (let i = items.length - 1; i >= 0; i--) this.decref(items[i]!);
    if (h !== 0) this.release('MEM', h, 'list items');
  }

  set(type: 'set' | 'frozenset' = 'set'): SetObj {
    return this.place(new SetObj(type), 200);
  }

  setAdd(s: SetObj, item: PyObj): void {
    if (s.items.some((x) => pyEqualsKey(x, item))) {
      this.decref(item);
      return;
    }
    s.items.push(item);
    s.fill++;
    const mask = s.tableSize - 1;
    if (s.fill * 5 < mask * 3) return;
    const used = s.items.length;
    this.setResize(s, used > 50000 ? used * 2 : used * 4);
  }

  private setResize(s: SetObj, minused: number): void {
    let size = 8;
    while (size <= minused) size <<= 1;
    const old = s.tableHandle;
    s.tableHandle = size === 8 ? 0 : this.allocate('MEM', 16 * size, 'set table');
    if (old !== 0) this.release('MEM', old, 'set table');
    s.tableSize = size;
    s.fill = s.items.length;
  }

  /**
   * set_merge (set.update / set(x) with a set or frozenset): one big resize first when
   * (fill + other.used) * 5 >= mask * 3, to (used + other.used) * 2, then plain insertions.
   */
  setMerge(s: SetObj, items: PyObj[]): void {
    if (items.length === 0) return;
    if ((s.fill + items.length) * 5 >= (s.tableSize - 1) * 3) this.setResize(s, (s.items.length + items.length) * 2);
    for (const x of items) {
      if (s.items.some((y) => pyEqualsKey(y, x))) {
        this.decref(x);
        continue;
      }
      s.items.push(x);
      s.fill++;
    }
  }

  /** Removes item `i` (its slot becomes a dummy: fill is unchanged). */
  setDiscardAt(s: SetObj, i: number): void {
    const [x] = s.items.splice(i, 1);
    this.decref(x!);
  }

  /** set.clear(): back to the inline small table. */
  setClear(s: SetObj): void {
    const items = s.items.splice(0);
    if (s.tableHandle !== 0) this.release('MEM', s.tableHandle, 'set table');
    s.tableHandle = 0;
    s.tableSize = 8;
    s.fill = 0;
    for (const x of items) this.decref(x);
  }

  /** PyByteArray_Resize to the contents `value` (bytearray_resize's growth strategy). */
  bytearrayResize(b: ByteArrayObj, value: Uint8Array): void {
    const requested = value.length;
    const unchanged = requested === b.value.length;
    b.value = value;
    if (unchanged) return; // a zero-length extend does not resize
    let alloc = b.alloc;
    if (requested + 1 <= alloc) {
      // Large enough: a major downsize (size < alloc / 2, in integers) goes to the exact size,
      // a minor one changes nothing.
      if (requested >= alloc >> 1) return;
      alloc = requested + 1;
    } else if (requested <= alloc * 1.125) {
      // Moderate upsize: overallocate like list_resize.
      alloc = requested + (requested >> 3) + (requested < 9 ? 3 : 6);
    } else {
      // Major upsize: exact.
      alloc = requested + 1;
    }
    b.bufHandle = b.bufHandle === 0 ? this.allocate('OBJ', alloc, 'bytearray buffer') : this.reallocate('OBJ', b.bufHandle, alloc, 'bytearray buffer');
    b.alloc = alloc;
  }

  /** A set built from an iterable with a known length (set_update_internal presizes dicts only). */
  setFromItems(type: 'set' | 'frozenset', items: PyObj[]): SetObj {
    const s = this.set(type);
    for (const x of items) this.setAdd(s, x);
    return s;
  }

  // =========================================================================================
  // Reference counting
  // =========================================================================================

  incref<T extends PyObj>(o: T): T {
    if (!(o.isStatic && this.rules.immortalRefcnt !== null)) o.refcnt++;
    return o;
  }

  decref(o: PyObj): void {
    if (o.isStatic) {
      if (this.rules.immortalRefcnt === null) o.refcnt--;
      return;
    }
    if (--o.refcnt === 0) this.dealloc(o);
  }

  /** The type's tp_dealloc: releases what the object owns, then its block or a free-list slot. */
  private dealloc(o: PyObj): void {
    if (o.onRelease !== null) o.onRelease();
    if (o.opaqueSize > 0) {
      this.emit({ line: this.currentLine, kind: 'destroy', type: o.opaqueType, address: o.address, freelist: false });
      this.tracked.delete(o);
      let fl = this.opaqueFree.get(o.opaqueType);
      if (this.opaqueFreeMax(o.opaqueType) > (fl?.length ?? 0)) {
        if (fl === undefined) this.opaqueFree.set(o.opaqueType, (fl = []));
        fl.push(o);
        return;
      }
      this.release('OBJ', o.handle, o.opaqueType);
      return;
    }
    if (o.onRelease !== null) return;
    this.emit({ line: this.currentLine, kind: 'destroy', type: typeLabel(o), address: o.address, freelist: false });
    o.gcTracked = false;
    this.tracked.delete(o);
    if (o instanceof TupleObj) {
      for (let i = o.items.length - 1; i >= 0; i--) this.decref(o.items[i]!); // last to first, as tupledealloc
      const fl = this.tupleFree[o.items.length];
      if (fl !== undefined && fl.length < this.rules.tupleFreeMax) {
        fl.push(o);
        return;
      }
    } else if (o instanceof ListObj) {
      this.listClear(o);
      if (this.listFree.length < this.rules.listFreeMax) {
        this.listFree.push(o);
        return;
      }
    } else if (o instanceof DictObj) {
      this.releaseDictTables(o);
      if (this.dictFree.length < this.rules.dictFreeMax) {
        this.dictFree.push(o);
        return;
      }
    } else if (o instanceof SetObj) {
      for (const x of o.items) this.decref(x);
      if (o.tableHandle !== 0) this.release('MEM', o.tableHandle, 'set table');
    } else if (o instanceof IterObj) {
      this.decref(o.seq);
      o.next = null;
      const max = this.iterFreeMax(o.kind);
      if (max > 0) {
        let fl = this.iterFree.get(o.kind);
        if (fl === undefined) this.iterFree.set(o.kind, (fl = []));
        if (fl.length < max) {
          fl.push(o);
          return;
        }
      }
    } else if (o instanceof InstanceObj) {
      for (const v of o.slotValues.values()) this.decref(v);
      for (const v of o.values.values()) this.decref(v);
      if (o.valuesHandle !== 0) this.release('MEM', o.valuesHandle, 'instance values');
      if (o.dict !== null) this.decref(o.dict);
      this.decref(o.cls);
    } else if (o instanceof SliceObj) {
      this.decref(o.start);
      this.decref(o.stop);
      this.decref(o.step);
      if (this.sliceFree === null) {
        this.sliceFree = o;
        return;
      }
    } else if (o instanceof ByteArrayObj) {
      if (o.bufHandle !== 0) this.release('OBJ', o.bufHandle, 'bytearray buffer');
    } else if (o instanceof FloatObj) {
      if (this.floatFree.length < this.rules.floatFreeMax) {
        this.floatFree.push(o);
        return;
      }
    } else if (o instanceof IntObj && this.rules.intFreeMax > 0 && intDigits(o.value) === 1) {
      if (this.intFree.length < this.rules.intFreeMax) {
        this.intFree.push(o);
        return;
      }
    }
    this.release('OBJ', o.handle, o.type);
  }

  // =========================================================================================
  // Classes and instances
  // =========================================================================================

  /** Whether instances of `cls` carry a GC header (3.7: only with slots, dict or weakref). */
  instanceIsGC(cls: TypeObj): boolean {
    return this.rules.minor >= 8 || (cls.slots !== null && cls.slots.length > 0) || cls.hasDict || cls.hasWeakref;
  }

  /** tp_basicsize of instances: PyObject + slots + inline __dict__ (<= 3.10) and __weakref__ (<= 3.11). */
  instanceBasicSize(cls: TypeObj): number {
    const m = this.rules.minor;
    return 16 + 8 * (cls.slots?.length ?? 0) + (cls.hasDict && m <= 10 ? 8 : 0) + (cls.hasWeakref && m <= 11 ? 8 : 0);
  }

  /** Bytes before the GC header: 3.11 managed dict (16), 3.12+ dict and/or weakref (16). */
  instancePreheader(cls: TypeObj): number {
    const m = this.rules.minor;
    if (m === 11) return cls.hasDict ? 16 : 0;
    if (m >= 12) return cls.hasDict || cls.hasWeakref ? 16 : 0;
    return 0;
  }

  /** 3.13+: plain classes keep attribute values inline after the object. */
  private inlineValues(cls: TypeObj): boolean {
    return this.rules.minor >= 13 && cls.hasDict && cls.slots === null;
  }

  /**
   * A class statement's type object: PyType_GenericAlloc of sizeof(PyHeapTypeObject) plus one
   * PyMemberDef (40 bytes) per slot and a sentinel, and for classes whose instances have a
   * __dict__ the shared keys object. (The class's own dict, MRO and descriptors are not
   * simulated.)
   */
  newClass(name: string, slots: string[] | null, hasDict: boolean, hasWeakref: boolean, base: TypeObj | null = null, ownSlots = slots?.length ?? 0): TypeObj {
    const cls = new TypeObj(name, slots, hasDict, hasWeakref);
    cls.base = base;
    if (base !== null) this.incref(base);
    const members = ownSlots;
    const gc = this.rules.gcHead;
    cls.handle = this.allocate('OBJ', gc + HEAP_TYPE_SIZE[this.rules.minor]! + 40 * (members + 1), `class ${name}`);
    cls.address = this.userAddress(cls.handle) + gc;
    cls.gcTracked = true;
    this.emit({ line: this.currentLine, kind: 'create', type: 'type', address: cls.address, static: false, freelist: false });
    if (hasDict) {
      const size = this.rules.minor >= 11 ? 64 : DICT_MINSIZE;
      const usable = this.rules.minor >= 11 ? 30 : usableFraction(size);
      const handle = this.allocate(this.keysDomain, dictKeysSize(this.rules, size, this.rules.minor >= 11), `shared keys of ${name}`);
      cls.shared = { names: [], usable, handle, size };
    }
    return cls;
  }

  /** type.__sizeof__ + GC header. */
  classSizeOf(cls: TypeObj): number {
    const keys = cls.shared === null ? 0 : dictKeysSize(this.rules, cls.shared.size, this.rules.minor >= 11);
    return this.rules.gcHead + HEAP_TYPE_SIZE[this.rules.minor]! + keys;
  }

  /** A new instance (object.__new__): its block and, on 3.11/3.12, its values array. */
  instantiate(cls: TypeObj): InstanceObj {
    const o = new InstanceObj(cls);
    const gc = this.instanceIsGC(cls) ? this.rules.gcHead : 0;
    const pre = this.instancePreheader(cls);
    const sh = cls.shared;
    let size = 0;
    if (sh !== null && this.rules.minor >= 11) {
      // "Shrink by one before each new object", down to 1.
      if (sh.usable > 1) sh.usable--;
      size = sh.names.length + sh.usable;
    }
    if (this.inlineValues(cls) && sh !== null) {
      o.inlineBytes = Math.ceil(size / 8) * 8 + (size + 1) * 8;
    }
    o.handle = this.allocate('OBJ', pre + gc + this.instanceBasicSize(cls) + o.inlineBytes, cls.name);
    o.address = this.userAddress(o.handle) + pre + gc;
    o.gcTracked = gc > 0;
    if (o.gcTracked) this.tracked.add(o);
    this.emit({ line: this.currentLine, kind: 'create', type: cls.name, address: o.address, static: false, freelist: false });
    if (sh !== null && this.rules.minor >= 11) {
      o.valuesSize = size;
      if (!this.inlineValues(cls)) o.valuesHandle = this.allocate('MEM', Math.ceil((size + 2) / 8) * 8 + size * 8, 'instance values');
    }
    this.incref(cls);
    return o;
  }

  /** Reads attribute `name` of an instance (its slots, dict or values), or undefined. */
  instanceAttr(o: InstanceObj, name: string): PyObj | undefined {
    if (o.slotValues.has(name)) return o.slotValues.get(name);
    if (o.dict !== null) {
      const i = o.dict.keys.findIndex((k) => k instanceof StrObj && k.value === name);
      return i >= 0 ? o.dict.values[i] : undefined;
    }
    return o.values.get(name);
  }

  /** Stores attribute `name` (taking over `v`); false when the instance cannot hold it. */
  setInstanceAttr(o: InstanceObj, name: string, v: PyObj): boolean {
    const cls = o.cls;
    if (cls.slots !== null && cls.slots.includes(name)) {
      const old = o.slotValues.get(name);
      o.slotValues.set(name, v);
      if (old !== undefined) this.decref(old);
      return true;
    }
    if (!cls.hasDict) return false;
    if (this.rules.minor >= 11 && o.dict === null) {
      const sh = cls.shared!;
      const known = sh.names.indexOf(name);
      const idx = known >= 0 ? known : sh.names.length;
      if (idx < o.valuesSize && (known >= 0 || sh.usable > 0)) {
        if (known < 0) sh.names.push(name);
        const old = o.values.get(name);
        o.values.set(name, v);
        if (old !== undefined) this.decref(old);
        return true;
      }
      // No room in this instance's values: its dict is materialized as a combined table.
      this.materializeInstanceDict(o);
    }
    if (o.dict === null) o.dict = this.newInstanceDict(cls);
    this.dictSetShared(o, name, v);
    return true;
  }

  /** <= 3.10: the instance dict on first store: split (shared keys + a values array) if possible. */
  private newInstanceDict(cls: TypeObj): DictObj {
    if (cls.shared === null || this.rules.minor >= 11) return this.dict();
    const d = this.dictObject();
    {
      d.tableSize = 0; // uses the class's shared keys
      d.splitValuesHandle = this.allocate('MEM', 8 * usableFraction(cls.shared.size), 'split dict values');
      d.splitSlots = usableFraction(cls.shared.size);
    }
    return d;
  }

  /** Stores into the instance dict, sharing keys while the split table has room (<= 3.10). */
  private dictSetShared(o: InstanceObj, name: string, v: PyObj): void {
    const d = o.dict!;
    const sh = o.cls.shared;
    if (this.rules.minor >= 11 && d.splitSlots > 0 && sh !== null) {
      const i = d.keys.findIndex((k) => k instanceof StrObj && k.value === name);
      if (i >= 0) {
        const old = d.values[i]!;
        d.values[i] = v;
        this.decref(old);
        return;
      }
      const known = sh.names.indexOf(name);
      const idx = known >= 0 ? known : sh.names.length;
      if (idx < d.splitSlots && (known >= 0 || sh.usable > 0)) {
        if (known < 0) sh.names.push(name);
        d.keys.push(this.internedName(name));
        d.values.push(v);
        return;
      }
      // No room in the split table: it becomes a combined table of its own.
      this.dictSet(d, this.internedName(name), v);
      return;
    }
    if (d.splitValuesHandle !== 0 && sh !== null) {
      const i = d.keys.findIndex((k) => k instanceof StrObj && k.value === name);
      if (i >= 0) {
        const old = d.values[i]!;
        d.values[i] = v;
        this.decref(old);
        return;
      }
      if (sh.names.includes(name) || sh.names.length < usableFraction(sh.size)) {
        if (!sh.names.includes(name)) sh.names.push(name);
        d.keys.push(this.internedName(name));
        d.values.push(v);
        return;
      }
      // The shared keys are full: this dict becomes a combined table, and the class stops
      // sharing keys (CACHED_KEYS(tp) = NULL).
      this.unsplit(d);
      o.cls.shared = null;
    }
    this.dictSet(d, this.internedName(name), v);
  }

  /**
   * An attribute name as a dict key: the interned str the compiler made for the name (a
   * constant of the code), so storing an attribute allocates no string.
   */
  internedName(name: string): StrObj {
    let o = this.interned.get(name);
    if (o === undefined) {
      o = this.makeStatic(new StrObj(name), 64);
      this.interned.set(name, o);
    }
    return o;
  }

  /**
   * 3.11+: `obj.__dict__` materializes the managed dict: one new dict object that shares the
   * class's keys and takes over the instance's values (3.11/3.12: the values array block; 3.13:
   * the values stay inline in the object). Nothing is copied.
   */
  instanceDict(o: InstanceObj): DictObj {
    if (o.dict !== null) return o.dict;
    const d = this.dictObject();
    d.splitSlots = o.valuesSize;
    d.splitValuesHandle = o.valuesHandle;
    for (const [k, v] of o.values) {
      d.keys.push(this.internedName(k)); // the shared keys' own (interned) name
      d.values.push(v);
    }
    o.values.clear();
    o.valuesHandle = 0;
    o.dict = d;
    return d;
  }

  private materializeInstanceDict(o: InstanceObj): void {
    const d = this.dict();
    for (const [k, v] of o.values) this.dictSet(d, this.internedName(k), v);
    o.values.clear();
    if (o.valuesHandle !== 0) this.release('MEM', o.valuesHandle, 'instance values');
    o.valuesHandle = 0;
    o.dict = d;
  }

  /** sys.getsizeof of an instance. */
  instanceSizeOf(o: InstanceObj): number {
    return this.instanceBasicSize(o.cls) + (this.instanceIsGC(o.cls) ? this.rules.gcHead : 0) + this.instancePreheader(o.cls);
  }

  /**
   * The blocks `o` owns, recursively, as [requested size, ...]: its own block and the arrays,
   * tables and buffers hanging off it, and those of the objects it references, except static
   * objects and compile-time constants (what tracemalloc sees after `x = <expr>`).
   */
  ownedBlocks(o: PyObj, seen = new Set<PyObj>()): number[] {
    if (seen.has(o) || o.isStatic || o.compileTime || o.handle === 0) return [];
    seen.add(o);
    const out: number[] = [this.requested.get(o.handle) ?? 0];
    const aux = (h: number): void => {
      if (h !== 0) out.push(this.requested.get(h) ?? 0);
    };
    if (o instanceof ListObj) aux(o.itemsHandle);
    else if (o instanceof DictObj) {
      aux(o.keysHandle);
      aux(o.splitValuesHandle);
    } else if (o instanceof SetObj) aux(o.tableHandle);
    else if (o instanceof ByteArrayObj) aux(o.bufHandle);
    else if (o instanceof InstanceObj) aux(o.valuesHandle);
    for (const r of this.referents(o)) out.push(...this.ownedBlocks(r, seen));
    return out;
  }

  // =========================================================================================
  // The cyclic garbage collector
  // =========================================================================================

  /** The objects `o` holds references to (tp_traverse). */
  referents(o: PyObj): PyObj[] {
    if (o instanceof TupleObj || o instanceof ListObj) return o.items;
    if (o instanceof DictObj) return [...o.keys, ...o.values];
    if (o instanceof SetObj) return o.items;
    if (o instanceof SliceObj) return [o.start, o.stop, o.step];
    if (o instanceof IterObj) return [o.seq];
    if (o instanceof InstanceObj) return [...o.slotValues.values(), ...o.values.values(), ...(o.dict === null ? [] : [o.dict]), o.cls];
    return [];
  }

  /**
   * gc.collect(): finds tracked objects that only reference each other (their reference
   * counts are all explained by references from other tracked objects, and nothing reachable
   * from outside points at them), clears them (tp_clear) so their counts drop to zero, and
   * returns how many were unreachable. `roots` are extra references held outside objects.
   */
  collectGarbage(): number {
    const objs = [...this.tracked];
    const gcRefs = new Map<PyObj, number>();
    for (const o of objs) gcRefs.set(o, o.refcnt);
    for (const o of objs) {
      for (const r of this.referents(o)) {
        const n = gcRefs.get(r);
        if (n !== undefined) gcRefs.set(r, n - 1);
      }
    }
    const reachable = new Set<PyObj>();
    const stack = objs.filter((o) => gcRefs.get(o)! > 0);
    while (stack.length > 0) {
      const o = stack.pop()!;
      if (reachable.has(o)) continue;
      reachable.add(o);
      for (const r of this.referents(o)) if (gcRefs.has(r) && !reachable.has(r)) stack.push(r);
    }
    const garbage = objs.filter((o) => !reachable.has(o));
    for (const o of garbage) o.refcnt++; // keep them alive while clearing
    for (const o of garbage) {
      if (o instanceof ListObj) {
        this.listClear(o);
      } else if (o instanceof DictObj) {
        this.dictClear(o);
      } else if (o instanceof SetObj) {
        this.setClear(o);
      }
    }
    for (const o of garbage) this.decref(o);
    // Survivors: tuples and dicts that can no longer take part in a cycle leave the GC's lists
    // (_PyTuple_MaybeUntrack, _PyDict_MaybeUntrack).
    for (const o of [...this.tracked]) {
      if ((o instanceof TupleObj || o instanceof DictObj) && !this.referents(o).some((r) => this.mayBeTracked(r))) this.untrack(o);
    }
    // gc.collect() is a collection of the oldest generation, which ends by emptying the free
    // lists (clear_freelists in 3.7/3.8, _PyGC_ClearAllFreeLists from 3.9).
    this.clearFreeLists();
    return garbage.length;
  }

  /**
   * Frees the objects the free lists keep, in CPython's order: each list from its head (the
   * object freed last goes first). 3.7-3.12 clear tuples before floats, 3.13+
   * (_PyObject_ClearFreeLists) floats first; dicts before their keys objects. The one-slot
   * slice cache stays: only finalization clears it.
   */
  clearFreeLists(): void {
    const m = this.rules.minor;
    const drain = (fl: PyObj[] | undefined, what: string): void => {
      if (fl === undefined) return;
      while (fl.length > 0) this.release('OBJ', fl.pop()!.handle, what);
    };
    const tuples = (): void => {
      for (let n = 1; n < this.tupleFree.length; n++) drain(this.tupleFree[n], 'tuple');
    };
    drain(this.opaqueFree.get('method'), 'method');
    drain(this.opaqueFree.get('builtin_function_or_method'), 'builtin_function_or_method');
    if (m >= 13) {
      drain(this.floatFree, 'float');
      drain(this.intFree, 'int');
      tuples();
    } else {
      tuples();
      drain(this.floatFree, 'float');
    }
    drain(this.listFree, 'list');
    drain(this.dictFree, 'dict');
    while (this.keysFree.length > 0) this.release(this.keysDomain, this.keysFree.pop()!, 'dict keys');
  }

  // =========================================================================================
  // Sizes
  // =========================================================================================

  /** `o.__sizeof__()`. */
  basicSizeOf(o: PyObj): number {
    const r = this.rules;
    if (o.opaqueSize > 0) return o.opaqueSize;
    if (o instanceof IntObj) {
      if (o.type === 'bool') return o.value === 0n && r.minor <= 10 ? 24 : 28;
      return r.intDigitsOffset + 4 * Math.max(intDigits(o.value), r.intMinDigits);
    }
    if (o instanceof StrObj) return this.strBytes(o) + o.utf8Cached;
    if (o instanceof ByteArrayObj) return 56 + o.alloc;
    if (o instanceof BytesObj) return 33 + o.value.length;
    if (o instanceof TupleObj) return 24 + r.tupleHashField + 8 * o.items.length;
    if (o instanceof ListObj) return 40 + 8 * o.allocated;
    if (o instanceof DictObj) {
      if (o.splitSlots > 0) return 48 + 8 * o.splitSlots; // split table: the values; the keys are the class's
      return 48 + (o.tableSize === 0 ? 0 : dictKeysSize(r, o.tableSize, o.unicodeKeys));
    }
    if (o instanceof InstanceObj) return this.instanceBasicSize(o.cls);
    if (o instanceof TypeObj) return this.classSizeOf(o) - r.gcHead;
    if (o instanceof IterObj) return iteratorBasicSize(o.kind, r.minor);
    if (o instanceof SetObj) return 200 + (o.tableSize > 8 ? 16 * o.tableSize : 0);
    switch (o.type) {
      case 'float':
        return 24;
      case 'complex':
        return 32;
      case 'range':
        return 48;
      case 'slice':
        return 40;
      default:
        return 16;
    }
  }

  /** sys.getsizeof(o): __sizeof__ plus the GC header of GC types (3.11+: the pre-header). */
  sizeOf(o: PyObj): number {
    if (o.opaqueSize > 0) return o.opaqueSize + this.rules.gcHead;
    if (o instanceof InstanceObj) return this.instanceSizeOf(o);
    if (o instanceof TypeObj) return this.classSizeOf(o);
    return this.basicSizeOf(o) + (isGCObject(o) ? this.rules.gcHead : 0);
  }
}

/** The type name events show: the iterator kind, the class name, or the built-in type. */
function typeLabel(o: PyObj): string {
  if (o instanceof IterObj) return o.kind;
  if (o instanceof InstanceObj) return o.cls.name;
  return o.type;
}

function isGCObject(o: PyObj): boolean {
  return o instanceof IterObj ? o.isGC : GC_TYPES.has(o.type);
}

function iteratorBasicSize(kind: string, minor: number): number {
  if (kind.endsWith('range_iterator')) return minor >= 12 ? 40 : 48;
  if (kind === 'dict_keyiterator') return 56;
  if (kind === 'set_iterator') return 48;
  return 32;
}

/** The value a dict index files a key under: ints (bools too) and strs; null for others. */
function indexKey(k: PyObj): bigint | string | null {
  if (k instanceof IntObj) return k.value;
  if (k instanceof StrObj) return k.value;
  return null;
}

function buildDictIndex(d: DictObj): void {
  const m = new Map<bigint | string, PyObj>();
  d.index = null;
  d.indexLen = d.keys.length;
  for (const k of d.keys) {
    const pk = indexKey(k);
    if (pk === null) return;
    m.set(pk, k);
  }
  d.index = m;
}

/** Equality of hashable keys by value (ints, strs, floats, bytes, tuples, None/bools). */
export function pyEqualsKey(a: PyObj, b: PyObj): boolean {
  if (a === b) return true;
  if (a instanceof IntObj && b instanceof IntObj) return a.value === b.value;
  if (a instanceof StrObj && b instanceof StrObj) return a.value === b.value;
  if (a instanceof FloatObj && b instanceof FloatObj) return a.value === b.value;
  if (a instanceof FloatObj && b instanceof IntObj) return Number.isInteger(a.value) && BigInt(a.value) === b.value;
  if (a instanceof IntObj && b instanceof FloatObj) return pyEqualsKey(b, a);
  if (a instanceof BytesObj && b instanceof BytesObj) {
    return a.value.length === b.value.length && a.value.every((x, i) => x === b.value[i]);
  }
  if (a instanceof TupleObj && b instanceof TupleObj) {
    return a.items.length === b.items.length && a.items.every((x, i) => pyEqualsKey(x, b.items[i]!));
  }
  return false;
}

/** A MemoryError raised inside the simulated program. */
export class SimMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryError';
  }
}
