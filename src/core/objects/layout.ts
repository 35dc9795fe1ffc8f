/**
 * Object layouts as data: every field of an object's memory (name, offset from the start of
 * its block, size, value, meaning) as the chosen CPython version lays it out on 64-bit Linux.
 * `explain` uses this to show the talk's "why 5 takes 28 bytes" for any object.
 *
 * Offsets count from the start of the heap block (or of the static object), so the GC header
 * of a GC object comes first: 3.7's PyGC_Head is a 24-byte union padded to 32 by its `long
 * double` member; from 3.8 it is two words (_gc_next, _gc_prev).
 */
import {
  ByteArrayObj,
  BytesObj,
  ComplexObj,
  DictObj,
  FloatObj,
  InstanceObj,
  IntObj,
  IterObj,
  ListObj,
  type ObjectSpace,
  type PyObj,
  RangeObj,
  SetObj,
  StrObj,
  TupleObj,
  TypeObj,
} from './space';
import { intDigits } from './rules';

export interface LayoutField {
  name: string;
  offset: number;
  size: number;
  /** Number, bigint or text shown for the field; null when not meaningful (padding). */
  value: number | bigint | string | null;
  meaning: string;
  /**
   * What a byte view can say of the field's bytes (absent: 'value', written from `value`):
   * - 'pointer': an address, the simulated one in `value` ('0x...'), or not modelled when
   *   `value` is null or not an address; `target` says what it points to;
   * - 'unwritten': allocated but never written by CPython (0xCD under the debug hooks,
   *   whatever the block held before otherwise);
   * - 'unknown': written by CPython with a value the simulation does not model (GC list
   *   links, hash caches, version tags, table entries).
   */
  bytes?: 'value' | 'pointer' | 'unwritten' | 'unknown';
  /**
   * For pointers: 'type' (the type object), 'item:i' (the i-th referenced object: tuple/list
   * item, iterated sequence, slot or attribute value), 'block' (a heap block the object
   * owns), 'gc' (a GC list neighbour), 'self' (into the object itself), 'static' (a static
   * object of libpython).
   */
  target?: string;
  /** Leading bytes of the field that CPython writes; the rest are never written. */
  written?: number;
}

/** Static addresses of the type objects (libpython's data segment). */
const TYPE_ADDRESS: Record<string, number> = {
  int: 0x7fff_f7d9_0a40,
  bool: 0x7fff_f7d9_0c20,
  float: 0x7fff_f7d9_1e00,
  complex: 0x7fff_f7d9_2160,
  str: 0x7fff_f7d9_4ae0,
  bytes: 0x7fff_f7d9_5040,
  bytearray: 0x7fff_f7d9_53a0,
  tuple: 0x7fff_f7d9_6e20,
  list: 0x7fff_f7d9_7380,
  dict: 0x7fff_f7d9_8b00,
  set: 0x7fff_f7d9_a280,
  frozenset: 0x7fff_f7d9_a5e0,
  object: 0x7fff_f7d9_c1a0,
  range: 0x7fff_f7d9_d240,
  NoneType: 0x7fff_f7d9_e5a0,
  ellipsis: 0x7fff_f7d9_e900,
  NotImplementedType: 0x7fff_f7d9_ec60,
};

export function typeAddress(type: string): number {
  return TYPE_ADDRESS[type] ?? 0x7fff_f7d9_0000;
}

export interface ObjectLayout {
  /** Bytes of the block the object lives in (0 for static objects). */
  blockSize: number;
  /** Bytes CPython asked the allocator for. */
  requested: number;
  /** sys.getsizeof(o). */
  getsizeof: number;
  fields: LayoutField[];
}

export function layoutOf(space: ObjectSpace, o: PyObj): ObjectLayout {
  const r = space.rules;
  const f: LayoutField[] = [];
  let off = 0;
  const add = (name: string, size: number, value: LayoutField['value'], meaning: string, meta: Pick<LayoutField, 'bytes' | 'target' | 'written'> = {}): void => {
    f.push({ name, offset: off, size, value, meaning, ...meta });
    off += size;
  };
  const ptr = (target: string): Pick<LayoutField, 'bytes' | 'target'> => ({ bytes: 'pointer', target });
  const unknown = { bytes: 'unknown' } as const;
  /** A pointer field to another object, or NULL. */
  const objPtr = (name: string, x: PyObj | null | undefined, target: string, meaning: string): void =>
    add(name, 8, x === null || x === undefined ? 0 : `0x${x.address.toString(16)}`, meaning, x === null || x === undefined ? {} : ptr(target));
  const debug = space.debugOverhead > 0 && o.handle !== 0;
  if (debug) {
    add('debug: size', 8, space.requested.get(o.handle) ?? null, 'debug hooks: the requested size, big-endian');
    add('debug: api id', 1, "'o'", "debug hooks: 'o' (PyObject_Malloc), 'm' (PyMem_Malloc) or 'r' (raw)");
    add('debug: pad', 7, '0xfd x 7', 'debug hooks: forbidden bytes before the data');
  }
  const start = off;
  if (o instanceof InstanceObj) {
    const pre = space.instancePreheader(o.cls);
    const values = o.valuesHandle === 0 ? 0 : `0x${space.userAddress(o.valuesHandle).toString(16)}`;
    if (pre > 0 && r.minor === 11) {
      add('(pre) values', 8, values, 'managed dict: pointer to the values array (3.11)', values === 0 ? {} : ptr('block'));
      objPtr('(pre) dict', o.dict, 'block', 'managed dict: the materialized __dict__, or NULL');
    } else if (pre > 0) {
      add('(pre) weakref', 8, 0, 'managed weakref list (3.12+)');
      // The values pointer is stored tagged (3.12) or points into the object (3.13 inline values).
      const dv = o.dict !== null ? `0x${o.dict.address.toString(16)}` : values;
      add('(pre) dict_or_values', 8, dv, 'managed dict: the __dict__ or the values (3.12+)', o.dict !== null ? ptr('block') : o.valuesHandle !== 0 || o.inlineBytes > 0 ? unknown : {});
    }
  }
  const gc =
    o instanceof TupleObj ||
    o instanceof ListObj ||
    o instanceof DictObj ||
    o instanceof SetObj ||
    (o instanceof InstanceObj && space.instanceIsGC(o.cls)) ||
    (o instanceof IterObj && o.isGC) ||
    o instanceof TypeObj ||
    o.opaqueSize > 0;
  if (gc) {
    // Tracked objects sit in a generation list (links not modelled); untracked ones hold
    // NULLs from 3.8 (_PyObject_GC_Alloc, _PyObject_GC_UNTRACK). 3.7 leaves the links of a
    // never-tracked object unwritten and stores the state in gc_refs: _PyGC_REFS_REACHABLE
    // (-3) or _PyGC_REFS_UNTRACKED (-2), shifted left by one.
    const t = o.gcTracked;
    if (r.gcHead === 32) {
      const link = t ? ptr('gc') : { bytes: 'unknown' as const };
      add('gc.gc_next', 8, null, `PyGC_Head: next object in its GC generation list${t ? '' : ' (untracked: unwritten, or NULL once untracked)'}`, link);
      add('gc.gc_prev', 8, null, `PyGC_Head: previous object in the list${t ? '' : ' (untracked: unwritten, or stale once untracked)'}`, link);
      add('gc.gc_refs', 8, t ? -6 : -4, `PyGC_Head: ${t ? '_PyGC_REFS_REACHABLE' : '_PyGC_REFS_UNTRACKED'} << 1 (a copy of the refcount during collection)`);
      add('(padding)', 8, null, 'PyGC_Head is a union with long double: padded to 32 bytes, never written', { bytes: 'unwritten' });
    } else {
      add('_gc_next', 8, t ? null : 0, `PyGC_Head: next object in its GC generation list (tagged)${t ? '' : '; NULL: untracked'}`, t ? ptr('gc') : {});
      add('_gc_prev', 8, t ? null : 0, `PyGC_Head: previous object, plus collector flags in the low bits${t ? '' : '; 0: untracked'}`, t ? ptr('gc') : {});
    }
  }
  const refcnt = o.isStatic && r.immortalRefcnt !== null ? `${o.refcnt} (immortal)` : o.refcnt;
  add('ob_refcnt', 8, refcnt, 'reference count');
  add('ob_type', 8, `0x${typeAddress(o.type).toString(16)}`, `pointer to the type object (${o.opaqueType || o.type})`, ptr('type'));
  if (o.opaqueSize > 0) {
    // Functions, methods: only the header is modelled.
  } else if (o instanceof IntObj) {
    const nd = intDigits(o.value);
    const ndAlloc = Math.max(nd, r.intMinDigits);
    if (r.minor >= 12) {
      const sign = o.value === 0n ? 1 : o.value < 0n ? 2 : 0;
      add('lv_tag', 8, BigInt(nd) * 8n + BigInt(sign), `number of digits << 3 | sign (${nd} digit${nd === 1 ? '' : 's'}, ${['positive', 'zero', 'negative'][sign]})`);
    } else {
      add('ob_size', 8, o.value < 0n ? -nd : nd, 'number of 30-bit digits, negative for negative numbers');
    }
    let a = o.value < 0n ? -o.value : o.value;
    for (let i = 0; i < ndAlloc; i++) {
      add(`ob_digit[${i}]`, 4, a & 0x3fff_ffffn, `30-bit digit ${i} (least significant first)`);
      a >>= 30n;
    }
  } else if (o instanceof FloatObj) {
    add('ob_fval', 8, o.value, 'the double value');
  } else if (o instanceof ComplexObj) {
    add('cval.real', 8, o.real, 'real part (double)');
    add('cval.imag', 8, o.imag, 'imaginary part (double)');
  } else if (o instanceof StrObj) {
    add('length', 8, o.length, 'number of code points');
    add('hash', 8, -1, 'cached hash (-1 until hash() is computed; then the randomised hash)', unknown);
    // The state bit-field: interned:2, kind:3, compact:1, ascii:1 and ready (<= 3.11) or
    // statically_allocated (3.12+): one byte is written, the other 3 bytes of the unsigned
    // int are not (measured: 0xCD under the debug hooks on 3.7-3.13).
    add('state', 4, `kind=${o.kind} compact=1 ascii=${o.ascii ? 1 : 0}`, 'interned, kind, compact, ascii bits (one byte written)', { written: 1 });
    add('(padding)', 4, null, 'alignment, never written', { bytes: 'unwritten' });
    if (r.minor <= 11) add('wstr', 8, 0, 'wchar_t representation (NULL)');
    if (!o.ascii) {
      add('utf8_length', 8, o.utf8Cached > 0 ? o.utf8Cached - 1 : 0, 'bytes of the cached UTF-8 copy');
      add('utf8', 8, o.utf8Cached > 0 ? 'cached' : 0, 'pointer to the UTF-8 copy (NULL when none)', o.utf8Cached > 0 ? ptr('block') : {});
      if (r.minor <= 11) add('wstr_length', 8, 0, 'length of wstr');
    }
    add('data', (o.length + 1) * o.kind, JSON.stringify(o.value.length > 40 ? o.value.slice(0, 40) + '...' : o.value), `characters, ${o.kind} byte${o.kind === 1 ? '' : 's'} each, plus a NUL`);
  } else if (o instanceof BytesObj) {
    add('ob_size', 8, o.value.length, 'number of bytes');
    add('ob_shash', 8, -1, 'cached hash (-1 until hash() is computed)', unknown);
    add('ob_sval', o.value.length + 1, `${o.value.length} bytes + NUL`, 'the bytes, NUL-terminated');
  } else if (o instanceof ByteArrayObj) {
    const buf = o.bufHandle === 0 ? 0 : `0x${space.userAddress(o.bufHandle).toString(16)}`;
    add('ob_size', 8, o.value.length, 'number of bytes');
    add('ob_alloc', 8, o.alloc, 'bytes allocated for the buffer');
    add('ob_bytes', 8, buf, 'pointer to the buffer (a separate block)', buf === 0 ? {} : ptr('block'));
    add('ob_start', 8, buf, 'logical start of the data', buf === 0 ? {} : ptr('block'));
    add('ob_exports', 8, 0, 'number of buffer exports');
  } else if (o instanceof TupleObj) {
    add('ob_size', 8, o.items.length, 'number of items');
    if (r.tupleHashField > 0) add('ob_hash', 8, -1, 'cached hash (3.14; -1 until hash() is computed)', unknown);
    o.items.forEach((x, i) => objPtr(`ob_item[${i}]`, x, `item:${i}`, `pointer to item ${i} (${x.type})`));
  } else if (o instanceof ListObj) {
    const items = o.itemsHandle === 0 ? 0 : `0x${space.userAddress(o.itemsHandle).toString(16)}`;
    add('ob_size', 8, o.items.length, 'number of items');
    add('ob_item', 8, items, `pointer to the item array (${o.allocated} slots, a separate PyMem block)`, items === 0 ? {} : ptr('block'));
    add('allocated', 8, o.allocated, 'slots in the item array');
  } else if (o instanceof DictObj) {
    add('ma_used', 8, o.keys.length, 'number of items');
    if (r.minor >= 14) add('_ma_watcher_tag', 8, 0, 'watcher bits (3.14: no version counter)');
    else add('ma_version_tag', 8, null, 'version tag: a global counter (not modelled)', unknown);
    if (o.splitSlots > 0) {
      add('ma_keys', 8, null, "pointer to the class's shared keys", unknown);
      const v = o.splitValuesHandle === 0 ? null : `0x${space.userAddress(o.splitValuesHandle).toString(16)}`;
      add('ma_values', 8, v, `split table: pointer to the values (${o.splitSlots} slots)`, v === null ? unknown : ptr('block'));
    } else {
      const keys = o.keysHandle === 0 ? null : `0x${space.userAddress(o.keysHandle).toString(16)}`;
      add('ma_keys', 8, keys ?? 'Py_EMPTY_KEYS (static)', `pointer to the keys object (${o.tableSize} slots)`, keys === null ? { bytes: 'pointer', target: 'static' } : ptr('block'));
      add('ma_values', 8, 0, 'split-table values (NULL: combined table)');
    }
  } else if (o instanceof SetObj) {
    add('fill', 8, o.fill, 'active + dummy entries');
    add('used', 8, o.items.length, 'active entries');
    add('mask', 8, o.tableSize - 1, 'table size - 1');
    const small = space.userAddress(o.handle) + off + 8 + 16 - start;
    add('table', 8, o.tableHandle === 0 ? (o.handle === 0 ? 'smalltable' : `0x${small.toString(16)}`) : `0x${space.userAddress(o.tableHandle).toString(16)}`, 'pointer to the table', o.tableHandle === 0 ? ptr('self') : ptr('block'));
    add('hash', 8, -1, o.type === 'set' ? 'hash (-1: sets are unhashable)' : 'frozenset hash (-1 until computed)', o.type === 'set' ? {} : unknown);
    add('finger', 8, 0, 'search finger for pop()', unknown);
    add('smalltable', 128, `${Math.min(o.items.length, 8)} of 8 entries`, 'inline table of 8 (key, hash) entries', unknown);
    add('weakreflist', 8, 0, 'weak references');
  } else if (o instanceof InstanceObj) {
    for (const name of o.cls.slots ?? []) {
      const v = o.slotValues.get(name);
      objPtr(name, v, `item:${name}`, `__slots__ member '${name}' (${v === undefined ? 'unset: NULL' : v.type})`);
    }
    if (o.cls.hasDict && r.minor <= 10) objPtr('__dict__', o.dict, 'block', 'pointer to the instance dict (NULL until the first attribute)');
    if (o.cls.hasWeakref && r.minor <= 11) add('__weakref__', 8, 0, 'list of weak references (NULL)');
    if (o.inlineBytes > 0) {
      const n = o.valuesSize;
      add('(values) prefix', Math.ceil(n / 8) * 8, `capacity ${n}`, 'inline values: capacity, size, valid and insertion order bytes (3.13+)', unknown);
      const names = o.cls.shared?.names ?? [];
      for (let i = 0; i < n + 1; i++) {
        const key = names[i];
        const v = key === undefined ? undefined : o.values.get(key);
        objPtr(i < n ? `values[${i}]` : '(values) end', v, `item:${key ?? i}`, key === undefined ? 'free value slot' : `value of '${key}'`);
      }
    }
  } else if (o instanceof IterObj) {
    if (o.kind.endsWith('range_iterator')) {
      add(r.minor >= 12 ? 'start' : 'index', 8, null, 'next value / position', unknown);
      if (r.minor <= 11) add('start', 8, null, 'start', unknown);
      add('step', 8, null, 'step', unknown);
      add('len', 8, null, 'items left', unknown);
    } else if (o.kind === 'dict_keyiterator') {
      objPtr('di_dict', o.seq, 'item:0', 'the dict');
      add('di_used', 8, null, 'size at creation (detects changes)', unknown);
      add('di_pos', 8, null, 'position in the entries', unknown);
      add('di_result', 8, 0, 'reused result tuple (items iterators)');
      add('len', 8, null, 'items left', unknown);
    } else if (o.kind === 'set_iterator') {
      objPtr('si_set', o.seq, 'item:0', 'the set');
      add('si_used', 8, null, 'size at creation', unknown);
      add('si_pos', 8, null, 'position in the table', unknown);
      add('len', 8, null, 'items left', unknown);
    } else {
      add('it_index', 8, null, 'position', unknown);
      objPtr('it_seq', o.seq, 'item:0', `the ${o.seq.type} being iterated`);
    }
  } else if (o instanceof RangeObj) {
    // Pointers to int objects the simulation does not allocate; the values are shown.
    add('start', 8, o.start, 'pointer to the start int', unknown);
    add('stop', 8, o.stop, 'pointer to the stop int', unknown);
    add('step', 8, o.step, 'pointer to the step int', unknown);
    add('length', 8, null, 'pointer to the length int', unknown);
  }
  // The request may be larger than the fields: a medium int made at run time asks for
  // sizeof(PyLongObject) = 32 bytes (3.11+) and writes 28; objects whose contents are not
  // modelled (classes, functions) get one field for the rest.
  const data = o.handle === 0 ? off - start : space.requested.get(o.handle) ?? off - start;
  if (data > off - start) {
    const unwritten = o instanceof IntObj;
    add(unwritten ? '(unused)' : '(not modelled)', data - (off - start), null, unwritten ? 'allocated but never written' : 'the rest of the object (contents not modelled)', { bytes: unwritten ? 'unwritten' : 'unknown' });
  }
  if (debug) {
    add('debug: tail pad', 8, '0xfd x 8', 'debug hooks: forbidden bytes after the data');
    if (space.debugOverhead === 32) add('debug: serial', 8, null, 'debug hooks (3.7): serial number of the allocation (not modelled)', unknown);
  }
  const requested = off;
  const blockSize = o.handle > 0 ? space.heap.blockSizeOfPool(Math.floor(o.handle / 2048)) : o.handle < 0 ? requested : 0;
  return { blockSize, requested, getsizeof: space.sizeOf(o), fields: f };
}

/** Writes `v` (an integer) little-endian into `n` bytes, two's complement. */
function writeLE(out: Uint8Array, at: number, n: number, v: bigint): void {
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) {
    out[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/**
 * Writes the bytes of field `f` of object `o` at `out[at..]`, as far as its value says them:
 * integers little-endian, doubles, characters, bytes, the str state byte, simulated
 * addresses. Returns false when the field has no value to write (unknown, unwritten, or a
 * pointer whose address is not modelled). The debug hooks' fields are not handled here.
 */
export function writeFieldValue(space: ObjectSpace, o: PyObj, f: LayoutField, out: Uint8Array, at: number): boolean {
  const v = f.value;
  if (f.bytes === 'unwritten') return false;
  if (f.name === 'ob_fval' || f.name === 'cval.real' || f.name === 'cval.imag') {
    new DataView(out.buffer, out.byteOffset).setFloat64(at, Number(v), true);
  } else if (f.name === 'data' && o instanceof StrObj) {
    let p = at;
    for (const ch of o.value) {
      writeLE(out, p, o.kind, BigInt(ch.codePointAt(0)!));
      p += o.kind;
    }
    writeLE(out, p, o.kind, 0n);
  } else if (f.name === 'ob_sval' && o instanceof BytesObj) {
    out.set(o.value, at);
    out[at + o.value.length] = 0;
  } else if (f.name === 'state' && o instanceof StrObj) {
    const last = space.rules.minor <= 11 ? 1 : o.isStatic ? 1 : 0; // ready (<= 3.11) / statically_allocated
    out[at] = (o.kind << 2) | (1 << 5) | ((o.ascii ? 1 : 0) << 6) | (last << 7);
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    if (f.size > 8) return false;
    writeLE(out, at, f.size, BigInt(v));
  } else if (typeof v === 'string') {
    const m = /^(0x[0-9a-f]+|\d+)/.exec(v);
    if (m === null || f.size > 8) return false;
    writeLE(out, at, f.size, BigInt(m[1]!));
  } else {
    return false;
  }
  return true;
}

/**
 * The object's bytes from the start of its block (`layoutOf(...).requested` bytes), as far as
 * the simulation knows them: header words, counts, digits, characters, item pointers and the
 * debug hooks' guard bytes (0xCD where CPython never writes). What the simulation does not
 * model (GC list links, version tags, set table entries) reads as zero; `blockBytes` in
 * bytes.ts says which bytes are known.
 */
export function objectBytes(space: ObjectSpace, o: PyObj): Uint8Array {
  const L = layoutOf(space, o);
  const out = new Uint8Array(L.requested);
  const debug = space.debugOverhead > 0 && o.handle !== 0;
  for (const f of L.fields) {
    if (f.name === 'debug: size') {
      // Big-endian requested size (without the hooks' own bytes).
      let x = BigInt(L.requested - space.debugOverhead);
      for (let i = 7; i >= 0; i--) {
        out[f.offset + i] = Number(x & 0xffn);
        x >>= 8n;
      }
    } else if (f.name === 'debug: api id') {
      out[f.offset] = 0x6f; // 'o': PyObject_Malloc
    } else if (f.name === 'debug: pad' || f.name === 'debug: tail pad') {
      out.fill(0xfd, f.offset, f.offset + f.size);
    } else if (f.name === 'debug: serial') {
      // not modelled
    } else if (f.bytes === 'unwritten') {
      if (debug) out.fill(0xcd, f.offset, f.offset + f.size);
    } else {
      writeFieldValue(space, o, f, out, f.offset);
      if (debug && f.written !== undefined) out.fill(0xcd, f.offset + f.written, f.offset + f.size);
    }
  }
  return out;
}
