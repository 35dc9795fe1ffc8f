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
  const add = (name: string, size: number, value: LayoutField['value'], meaning: string): void => {
    f.push({ name, offset: off, size, value, meaning });
    off += size;
  };
  const debug = space.debugOverhead > 0 && o.handle !== 0;
  if (debug) {
    add('debug: size', 8, null, 'debug hooks: the requested size, big-endian');
    add('debug: api id', 1, null, "debug hooks: 'o' (PyObject_Malloc), 'm' (PyMem_Malloc) or 'r' (raw)");
    add('debug: pad', 7, '0xfd x 7', 'debug hooks: forbidden bytes before the data');
  }
  if (o instanceof InstanceObj) {
    const pre = space.instancePreheader(o.cls);
    if (pre > 0 && r.minor === 11) {
      add('(pre) values', 8, o.valuesHandle === 0 ? 0 : `0x${space.userAddress(o.valuesHandle).toString(16)}`, 'managed dict: pointer to the values array (3.11)');
      add('(pre) dict', 8, o.dict === null ? 0 : `0x${o.dict.address.toString(16)}`, 'managed dict: the materialized __dict__, or NULL');
    } else if (pre > 0) {
      add('(pre) weakref', 8, 0, 'managed weakref list (3.12+)');
      add('(pre) dict_or_values', 8, o.dict === null ? (o.valuesHandle === 0 ? 0 : `0x${space.userAddress(o.valuesHandle).toString(16)}`) : `0x${o.dict.address.toString(16)}`, 'managed dict: the __dict__ or the values (3.12+)');
    }
  }
  const gc =
    o instanceof TupleObj ||
    o instanceof ListObj ||
    o instanceof DictObj ||
    o instanceof SetObj ||
    (o instanceof InstanceObj && space.instanceIsGC(o.cls)) ||
    (o instanceof IterObj && o.isGC) ||
    o instanceof TypeObj;
  if (gc) {
    if (r.gcHead === 32) {
      add('gc.gc_next', 8, null, 'PyGC_Head: next object in its GC generation list');
      add('gc.gc_prev', 8, null, 'PyGC_Head: previous object in the list');
      add('gc.gc_refs', 8, null, 'PyGC_Head: reference count copy used during collection');
      add('(padding)', 8, null, "PyGC_Head is a union with long double: padded to 32 bytes");
    } else {
      add('_gc_next', 8, null, 'PyGC_Head: next object in its GC generation list (tagged)');
      add('_gc_prev', 8, null, 'PyGC_Head: previous object, plus collector flags in the low bits');
    }
  }
  const refcnt = o.isStatic && r.immortalRefcnt !== null ? `${o.refcnt} (immortal)` : o.refcnt;
  add('ob_refcnt', 8, refcnt, 'reference count');
  add('ob_type', 8, `0x${typeAddress(o.type).toString(16)}`, `pointer to the type object (${o.type})`);
  if (o instanceof IntObj) {
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
    add('hash', 8, -1, 'cached hash (-1: not computed yet)');
    add('state', 4, `kind=${o.kind} compact=1 ascii=${o.ascii ? 1 : 0}`, 'interned, kind, compact, ascii bits');
    add('(padding)', 4, null, 'alignment');
    if (r.minor <= 11) add('wstr', 8, 0, 'wchar_t representation (NULL)');
    if (!o.ascii) {
      add('utf8_length', 8, o.utf8Cached > 0 ? o.utf8Cached - 1 : 0, 'bytes of the cached UTF-8 copy');
      add('utf8', 8, o.utf8Cached > 0 ? 'cached' : 0, 'pointer to the UTF-8 copy (NULL when none)');
      if (r.minor <= 11) add('wstr_length', 8, 0, 'length of wstr');
    }
    add('data', (o.length + 1) * o.kind, JSON.stringify(o.value.length > 40 ? o.value.slice(0, 40) + '...' : o.value), `characters, ${o.kind} byte${o.kind === 1 ? '' : 's'} each, plus a NUL`);
  } else if (o instanceof BytesObj) {
    add('ob_size', 8, o.value.length, 'number of bytes');
    add('ob_shash', 8, -1, 'cached hash (-1: not computed yet)');
    add('ob_sval', o.value.length + 1, `${o.value.length} bytes + NUL`, 'the bytes, NUL-terminated');
  } else if (o instanceof ByteArrayObj) {
    add('ob_size', 8, o.value.length, 'number of bytes');
    add('ob_alloc', 8, o.alloc, 'bytes allocated for the buffer');
    add('ob_bytes', 8, o.bufHandle === 0 ? 0 : `0x${space.userAddress(o.bufHandle).toString(16)}`, 'pointer to the buffer (a separate block)');
    add('ob_start', 8, o.bufHandle === 0 ? 0 : `0x${space.userAddress(o.bufHandle).toString(16)}`, 'logical start of the data');
    add('ob_exports', 8, 0, 'number of buffer exports');
  } else if (o instanceof TupleObj) {
    add('ob_size', 8, o.items.length, 'number of items');
    if (r.tupleHashField > 0) add('ob_hash', 8, -1, 'cached hash (3.14)');
    o.items.forEach((x, i) => add(`ob_item[${i}]`, 8, `0x${x.address.toString(16)}`, `pointer to item ${i} (${x.type})`));
  } else if (o instanceof ListObj) {
    add('ob_size', 8, o.items.length, 'number of items');
    add('ob_item', 8, o.itemsHandle === 0 ? 0 : `0x${space.userAddress(o.itemsHandle).toString(16)}`, `pointer to the item array (${o.allocated} slots, a separate PyMem block)`);
    add('allocated', 8, o.allocated, 'slots in the item array');
  } else if (o instanceof DictObj) {
    add('ma_used', 8, o.keys.length, 'number of items');
    add(r.minor >= 12 ? '_ma_watcher_tag' : 'ma_version_tag', 8, null, 'version tag');
    add('ma_keys', 8, o.keysHandle === 0 ? 'Py_EMPTY_KEYS (static)' : `0x${space.userAddress(o.keysHandle).toString(16)}`, `pointer to the keys object (${o.tableSize} slots)`);
    add('ma_values', 8, 0, 'split-table values (NULL: combined table)');
  } else if (o instanceof SetObj) {
    add('fill', 8, o.fill, 'active + dummy entries');
    add('used', 8, o.items.length, 'active entries');
    add('mask', 8, o.tableSize - 1, 'table size - 1');
    add('table', 8, o.tableHandle === 0 ? 'smalltable' : `0x${space.userAddress(o.tableHandle).toString(16)}`, 'pointer to the table');
    add('hash', 8, -1, 'frozenset hash');
    add('finger', 8, 0, 'search finger for pop()');
    add('smalltable', 128, `${Math.min(o.items.length, 8)} of 8 entries`, 'inline table of 8 (key, hash) entries');
    add('weakreflist', 8, 0, 'weak references');
  } else if (o instanceof InstanceObj) {
    for (const name of o.cls.slots ?? []) {
      const v = o.slotValues.get(name);
      add(name, 8, v === undefined ? 0 : `0x${v.address.toString(16)}`, `__slots__ member '${name}' (${v === undefined ? 'unset: NULL' : v.type})`);
    }
    if (o.cls.hasDict && r.minor <= 10) add('__dict__', 8, o.dict === null ? 0 : `0x${o.dict.address.toString(16)}`, 'pointer to the instance dict (NULL until the first attribute)');
    if (o.cls.hasWeakref && r.minor <= 11) add('__weakref__', 8, 0, 'list of weak references (NULL)');
    if (o.inlineBytes > 0) {
      const n = o.valuesSize;
      add('(values) prefix', Math.ceil(n / 8) * 8, `capacity ${n}`, 'inline values: capacity, size, valid and insertion order bytes (3.13+)');
      const names = o.cls.shared?.names ?? [];
      for (let i = 0; i < n + 1; i++) {
        const key = names[i];
        const v = key === undefined ? undefined : o.values.get(key);
        add(i < n ? `values[${i}]` : '(values) end', 8, v === undefined ? 0 : `0x${v.address.toString(16)}`, key === undefined ? 'free value slot' : `value of '${key}'`);
      }
    }
  } else if (o instanceof IterObj) {
    if (o.kind.endsWith('range_iterator')) {
      add(r.minor >= 12 ? 'start' : 'index', 8, null, 'next value / position');
      if (r.minor <= 11) add('start', 8, null, 'start');
      add('step', 8, null, 'step');
      add('len', 8, null, 'items left');
    } else if (o.kind === 'dict_keyiterator') {
      add('di_dict', 8, `0x${o.seq.address.toString(16)}`, 'the dict');
      add('di_used', 8, null, 'size at creation (detects changes)');
      add('di_pos', 8, null, 'position in the entries');
      add('di_result', 8, 0, 'reused result tuple (items iterators)');
      add('len', 8, null, 'items left');
    } else if (o.kind === 'set_iterator') {
      add('si_set', 8, `0x${o.seq.address.toString(16)}`, 'the set');
      add('si_used', 8, null, 'size at creation');
      add('si_pos', 8, null, 'position in the table');
      add('len', 8, null, 'items left');
    } else {
      add('it_index', 8, null, 'position');
      add('it_seq', 8, `0x${o.seq.address.toString(16)}`, `the ${o.seq.type} being iterated`);
    }
  } else if (o instanceof RangeObj) {
    add('start', 8, o.start, 'pointer to the start int');
    add('stop', 8, o.stop, 'pointer to the stop int');
    add('step', 8, o.step, 'pointer to the step int');
    add('length', 8, null, 'pointer to the length int');
  }
  if (debug) {
    add('debug: tail pad', 8, '0xfd x 8', 'debug hooks: forbidden bytes after the data');
    if (space.debugOverhead === 32) add('debug: serial', 8, null, 'debug hooks (3.7): serial number of the allocation');
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
 * The object's bytes from the start of its block (`layoutOf(...).requested` bytes), as far as
 * the simulation knows them: header words, counts, digits, characters, item pointers and the
 * debug hooks' guard bytes. What the simulation does not model (GC list links, hash values,
 * set table entries) reads as zero.
 */
export function objectBytes(space: ObjectSpace, o: PyObj): Uint8Array {
  const L = layoutOf(space, o);
  const out = new Uint8Array(L.requested);
  for (const f of L.fields) {
    const v = f.value;
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
    } else if (f.name === 'ob_fval' || f.name === 'cval.real' || f.name === 'cval.imag') {
      new DataView(out.buffer).setFloat64(f.offset, Number(v), true);
    } else if (f.name === 'data' && o instanceof StrObj) {
      let at = f.offset;
      for (const ch of o.value) {
        writeLE(out, at, o.kind, BigInt(ch.codePointAt(0)!));
        at += o.kind;
      }
    } else if (f.name === 'ob_sval' && o instanceof BytesObj) {
      out.set(o.value, f.offset);
    } else if (f.name === 'state' && o instanceof StrObj) {
      const last = space.rules.minor <= 11 ? 1 : o.isStatic ? 1 : 0; // ready (<= 3.11) / statically_allocated
      out[f.offset] = (o.kind << 2) | (1 << 5) | ((o.ascii ? 1 : 0) << 6) | (last << 7);
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      writeLE(out, f.offset, Math.min(f.size, 8), BigInt(v));
    } else if (typeof v === 'string') {
      const m = /^(0x[0-9a-f]+|\d+)/.exec(v);
      if (m !== null && f.size <= 8) writeLE(out, f.offset, f.size, BigInt(m[1]!));
    }
  }
  return out;
}
