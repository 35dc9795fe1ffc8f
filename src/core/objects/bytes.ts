/**
 * The bytes of a heap block, as CPython leaves them, with what each range is.
 *
 * For any block the object space owns (an object, a list's item array, a dict's keys object,
 * a bytearray's buffer, ...) in any PYTHONMALLOC mode, and for a block the program freed,
 * `BlockBytes` holds the block's bytes from its first byte to its last (the pymalloc block,
 * or malloc_usable_size of a C library block), a mask of the bytes that are exactly what the
 * real interpreter holds, and labelled ranges. Every byte is one of:
 *
 *   exact    the value CPython writes: counts, digits, characters, state bits, the debug
 *            hooks' size word, api id and 0xFD guards, 0xCD where memory was allocated under
 *            the hooks and never written, 0xDD where the hooks freed it;
 *   pointer  an address, with what it points to (`target`: 'type', 'item:i', 'key:i',
 *            'value:i', 'block', 'gc', 'link', 'static', 'code', ...): the simulated address
 *            in `value` (a real process has others), or none where the simulation does not
 *            place the target (GC list neighbours, libpython's functions);
 *   unknown  not modelled: hash caches, version tags, GC links whose value is not simulated,
 *            stale item pointers, and whatever a block held before it was handed out (the
 *            bytes lost to rounding up to the size class, the unwritten parts of a block
 *            without the debug hooks). These read as 0 in `bytes` and are never invented.
 *
 * The debug hooks (Objects/obmalloc.c, `_PyMem_DebugRawAlloc`, measured on 3.7-3.13 with
 * scripts/measure-bytes.py, fixtures in test/fixtures/measured/bytes-3.X.json):
 *   [0, 8)       the requested size n, big-endian (write_size_t);
 *   [8]          the api id: 'r' (PyMem_RawMalloc), 'm' (PyMem_Malloc), 'o' (PyObject_Malloc);
 *   [9, 16)      FORBIDDENBYTE 0xFD;
 *   [16, 16+n)   the data, 0xCD (CLEANBYTE) where never written (not after calloc);
 *   [16+n, +8)   0xFD;
 *   3.7 only:    [24+n, 32+n) the serial number of the allocation (big-endian; not modelled:
 *                it counts every allocation of the process). Compiled out from 3.8.
 * Free (`_PyMem_DebugRawFree`): the whole n + overhead bytes become 0xDD (DEADBYTE), then the
 * allocator underneath writes its free-list link: pymalloc its `freeblock` pointer into the
 * first word (NULL or the next free block of the pool), glibc its tcache/fastbin/bin words
 * (safe-linked pointers and the tcache key: not modelled).
 * Realloc (`_PyMem_DebugRawRealloc`, the same in the 3.7.3 source and measured alike on 3.7.16
 * and 3.8-3.13): the grown tail of
 * the data is 0xCD. Before the underlying realloc the hooks erase the header, the trailer and
 * the data with 0xDD when n <= 128, else only its first and last 64 bytes (ERASED_SIZE); the
 * data is restored in the new block, so a block the realloc moved away from keeps the old
 * data in its middle (not modelled) and pymalloc's link in its first word. The bytes a block
 * keeps past its new end after an in-place shrink lie in the rounding region (not modelled).
 */
import type { PymallocHeap } from '../pymalloc/heap';
import { BLOCK_MUL } from '../pymalloc/heap';
import { GlibcMalloc } from '../raw/glibc-malloc';
import { layoutOf, writeFieldValue } from './layout';
import { dictIndexBytes, usableFraction } from './rules';
import {
  ByteArrayObj,
  DictObj,
  type Domain,
  InstanceObj,
  IntObj,
  ListObj,
  type ObjectSpace,
  type PyObj,
  SetObj,
} from './space';

export const CLEANBYTE = 0xcd;
export const DEADBYTE = 0xdd;
export const FORBIDDENBYTE = 0xfd;
/** The debug hooks' api ids: 'r', 'm', 'o'. */
export const API_ID: Readonly<Record<Domain, number>> = { RAW: 0x72, MEM: 0x6d, OBJ: 0x6f };
/** Bytes of a realloc'd block the debug hooks erase at each end when it is larger than 128. */
const ERASED_SIZE = 64;

export type ByteKnowledge = 'exact' | 'pointer' | 'unknown';

export interface ByteRange {
  /** Offsets from the block's first byte, end exclusive. */
  start: number;
  end: number;
  label: string;
  known: ByteKnowledge;
  /** What a pointer points to (see the file note). */
  target?: string;
  /** A pointer's simulated address; absent when the address is not modelled (GC links). */
  value?: number;
  note?: string;
}

export interface BlockBytes {
  handle: number;
  /** Address of the block's first byte (before the debug hooks' header, if any). */
  address: number;
  /** Address the program sees (after the debug hooks' header). */
  dataAddress: number;
  state: 'live' | 'freed';
  /** What the block holds: 'int object', 'list items', 'dict keys', 'freed block', ... */
  what: string;
  /** The domain it was allocated from; null for freed blocks (the hooks erased the api id). */
  domain: Domain | null;
  /** Bytes the program asked for. */
  requested: number;
  /** requested + the debug hooks' bytes: what the allocator underneath was asked for. */
  total: number;
  /** Bytes of the block: the pool block size, or malloc_usable_size. */
  size: number;
  bytes: Uint8Array;
  /** 1 where `bytes` holds exactly what the real interpreter holds. */
  exact: Uint8Array;
  /** In address order, covering [0, size) without gaps. */
  ranges: ByteRange[];
}

/** Collects bytes and ranges; every range is added once, in order. */
class Builder {
  readonly bytes: Uint8Array;
  readonly exact: Uint8Array;
  readonly ranges: ByteRange[] = [];
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.exact = new Uint8Array(size);
  }

  private push(r: ByteRange): void {
    const end = Math.min(r.end, this.size);
    if (end > r.start) this.ranges.push({ ...r, end });
  }

  /** Exact bytes written by `write` (at an absolute offset). */
  value(start: number, len: number, label: string, write: (out: Uint8Array, at: number) => void, note?: string): void {
    if (start >= this.size) return;
    const tmp = new Uint8Array(len);
    write(tmp, 0);
    this.bytes.set(tmp.subarray(0, Math.min(len, this.size - start)), start);
    this.exact.fill(1, start, Math.min(start + len, this.size));
    this.push({ start, end: start + len, label, known: 'exact', ...(note === undefined ? {} : { note }) });
  }

  int(start: number, len: number, label: string, v: number | bigint, note?: string): void {
    this.value(start, len, label, (out, at) => writeLE(out, at, len, BigInt(v)), note);
  }

  fill(start: number, len: number, byte: number, label: string, note?: string): void {
    this.value(start, len, label, (out, at) => out.fill(byte, at, at + len), note);
  }

  /** A pointer to `target`: the simulated address, or null when it is not modelled (0 bytes). */
  pointer(start: number, label: string, address: number | null, target: string, note?: string): void {
    if (address !== null && start + 8 <= this.size) writeLE(this.bytes, start, 8, BigInt(address));
    this.push({ start, end: start + 8, label, known: 'pointer', target, ...(address === null ? {} : { value: address }), ...(note === undefined ? {} : { note }) });
  }

  unknown(start: number, len: number, label: string, note?: string): void {
    this.push({ start, end: start + len, label, known: 'unknown', ...(note === undefined ? {} : { note }) });
  }

  /** Ranges sorted, with the uncovered gaps reported as unknown (there should be none). */
  finish(): ByteRange[] {
    const rs = this.ranges.sort((a, b) => a.start - b.start);
    const out: ByteRange[] = [];
    let at = 0;
    for (const r of rs) {
      if (r.start > at) out.push({ start: at, end: r.start, label: '(not modelled)', known: 'unknown' });
      if (r.end <= at) continue;
      out.push(r.start < at ? { ...r, start: at } : r);
      at = r.end;
    }
    if (at < this.size) out.push({ start: at, end: this.size, label: '(not modelled)', known: 'unknown' });
    return out;
  }
}

function writeLE(out: Uint8Array, at: number, n: number, v: bigint): void {
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) {
    out[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function writeBE(out: Uint8Array, at: number, n: number, v: bigint): void {
  let x = BigInt.asUintN(n * 8, v);
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

// =============================================================================================
// Block geometry
// =============================================================================================

interface Geometry {
  address: number;
  size: number;
}

/** Where a block is and how big: the pool block, or the malloc'd chunk's usable bytes. */
function geometry(heap: PymallocHeap, h: number, total: number): Geometry {
  if (h > 0) return { address: heap.addressOf(h), size: heap.blockSizeOfPool(Math.floor(h / BLOCK_MUL)) };
  const address = -h;
  let size = total;
  if (heap.raw instanceof GlibcMalloc) {
    try {
      size = Math.max(total, heap.raw.usableSize(address));
    } catch {
      size = total;
    }
  }
  return { address, size };
}

/** The debug hooks' header, trailer and serial; returns the offset of the data. */
function decorate(space: ObjectSpace, b: Builder, domain: Domain, n: number): number {
  if (space.debugOverhead === 0) return 0;
  b.value(0, 8, 'debug: size', (out, at) => writeBE(out, at, 8, BigInt(n)), `requested size ${n}, big-endian`);
  b.int(8, 1, 'debug: api id', API_ID[domain], `'${String.fromCharCode(API_ID[domain])}': ${domain === 'OBJ' ? 'PyObject_Malloc' : domain === 'MEM' ? 'PyMem_Malloc' : 'PyMem_RawMalloc'}`);
  b.fill(9, 7, FORBIDDENBYTE, 'debug: forbidden bytes');
  b.fill(16 + n, 8, FORBIDDENBYTE, 'debug: trailing forbidden bytes');
  if (space.debugOverhead === 32) b.unknown(24 + n, 8, 'debug: serial number', 'the serial number of the allocation, big-endian (3.7; not modelled)');
  return 16;
}

function rounding(b: Builder, total: number, pool: boolean): void {
  if (b.size > total) {
    b.unknown(total, b.size - total, pool ? 'rounding' : 'malloc slack', `${b.size - total} bytes lost to rounding up to the ${pool ? 'size class' : 'chunk size'}: whatever the block held before (not modelled)`);
  }
}

// =============================================================================================
// Owners
// =============================================================================================

/** What a live block holds. */
export type BlockOwner =
  | { kind: 'object'; obj: PyObj; freeList?: boolean }
  | { kind: 'list items'; list: ListObj }
  | { kind: 'dict keys'; dict: DictObj }
  | { kind: 'dict values'; dict: DictObj }
  | { kind: 'set table'; set: SetObj }
  | { kind: 'bytearray buffer'; obj: ByteArrayObj }
  | { kind: 'instance values'; obj: InstanceObj };

/** The blocks an object owns besides its own, with their owners. */
function auxOwners(o: PyObj): [number, BlockOwner][] {
  const out: [number, BlockOwner][] = [];
  if (o instanceof ListObj && o.itemsHandle !== 0) out.push([o.itemsHandle, { kind: 'list items', list: o }]);
  else if (o instanceof DictObj) {
    if (o.keysHandle !== 0) out.push([o.keysHandle, { kind: 'dict keys', dict: o }]);
    if (o.splitValuesHandle !== 0) out.push([o.splitValuesHandle, { kind: 'dict values', dict: o }]);
  } else if (o instanceof SetObj && o.tableHandle !== 0) out.push([o.tableHandle, { kind: 'set table', set: o }]);
  else if (o instanceof ByteArrayObj && o.bufHandle !== 0) out.push([o.bufHandle, { kind: 'bytearray buffer', obj: o }]);
  else if (o instanceof InstanceObj && o.valuesHandle !== 0) out.push([o.valuesHandle, { kind: 'instance values', obj: o }]);
  return out;
}

/**
 * Owners of the live blocks reachable from `roots` (and from the GC's tracked objects and the
 * public free lists), by handle.
 */
export function indexOwners(space: ObjectSpace, roots: Iterable<PyObj>): Map<number, BlockOwner> {
  const owners = new Map<number, BlockOwner>();
  const seen = new Set<PyObj>();
  const stack: PyObj[] = [...roots, ...space.tracked];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    if (o.handle !== 0 && !owners.has(o.handle)) owners.set(o.handle, { kind: 'object', obj: o });
    for (const [h, w] of auxOwners(o)) owners.set(h, w);
    for (const r of space.referents(o)) if (!seen.has(r)) stack.push(r);
    if (o instanceof InstanceObj) stack.push(o.cls);
  }
  const freeListed: PyObj[] = [...space.floatFree, ...space.intFree, ...space.listFree, ...space.dictFree, ...space.tupleFree.flat()];
  if (space.sliceFree !== null) freeListed.push(space.sliceFree);
  for (const o of freeListed) if (o.handle !== 0) owners.set(o.handle, { kind: 'object', obj: o, freeList: true });
  return owners;
}

// =============================================================================================
// Live blocks
// =============================================================================================

/** The bytes of the object's own block (null for static objects). */
export function objectBlockBytes(space: ObjectSpace, o: PyObj): BlockBytes | null {
  if (o.handle === 0) return null;
  return blockBytes(space, o.handle, { kind: 'object', obj: o });
}

/** The object's own block and the blocks it owns (item array, keys, table, buffer, values). */
export function objectBlocks(space: ObjectSpace, o: PyObj): BlockBytes[] {
  const out: BlockBytes[] = [];
  const own = objectBlockBytes(space, o);
  if (own !== null) out.push(own);
  for (const [h, w] of auxOwners(o)) out.push(blockBytes(space, h, w));
  return out;
}

function ownerDomain(space: ObjectSpace, w: BlockOwner | null, h: number): Domain {
  if (h < 0 && space.pythonMalloc !== 'malloc' && space.pythonMalloc !== 'malloc_debug' && w === null) return 'RAW';
  if (w === null) return 'OBJ';
  switch (w.kind) {
    case 'object':
    case 'bytearray buffer':
      return 'OBJ';
    case 'dict keys':
      return space.keysDomain;
    default:
      return 'MEM';
  }
}

function ownerName(w: BlockOwner | null): string {
  if (w === null) return 'block (contents not modelled)';
  if (w.kind === 'object') return `${w.obj.opaqueType || (w.obj instanceof InstanceObj ? w.obj.cls.name : w.obj.type)} object${w.freeList ? ' (on its free list)' : ''}`;
  return w.kind;
}

/**
 * The bytes of live block `h` holding `owner` (null: a block whose contents are not modelled,
 * only its debug decoration). Throws if the space has no request recorded for `h`.
 */
export function blockBytes(space: ObjectSpace, h: number, owner: BlockOwner | null): BlockBytes {
  const n = space.requested.get(h);
  if (n === undefined) throw new Error(`block ${h}: not allocated by this object space`);
  const domain = ownerDomain(space, owner, h);
  const total = n + space.debugOverhead;
  const g = geometry(space.heap, h, total);
  const b = new Builder(g.size);
  const data = decorate(space, b, domain, n);
  const debug = space.debugOverhead > 0;
  const unwritten = (start: number, len: number, label: string, note: string): void => {
    if (len <= 0) return;
    if (debug) b.fill(start, len, CLEANBYTE, label, `${note}: 0xCD (CLEANBYTE)`);
    else b.unknown(start, len, label, `${note}: whatever the block held before (not modelled)`);
  };
  if (owner === null) {
    b.unknown(data, n, 'data', 'contents not modelled');
  } else if (owner.kind === 'object' && owner.freeList === true) {
    b.unknown(data, n, 'data', 'an object kept on its free list: the fields of the dead object (not modelled)');
  } else if (owner.kind === 'object') {
    objectData(space, b, owner.obj, unwritten);
  } else if (owner.kind === 'list items') {
    listItems(b, data, owner.list, unwritten);
  } else if (owner.kind === 'dict keys') {
    dictKeys(space, b, data, owner.dict);
  } else if (owner.kind === 'bytearray buffer') {
    const o = owner.obj;
    const len = Math.min(o.value.length, n);
    b.value(data, len, 'bytes', (out, at) => out.set(o.value.subarray(0, len), at));
    if (len < n) {
      b.int(data + len, 1, 'NUL', 0, 'ob_bytes[ob_size] is kept 0');
      b.unknown(data + len + 1, n - len - 1, 'spare', 'spare capacity (not modelled)');
    }
  } else {
    b.unknown(data, n, 'data', `${owner.kind}: contents not modelled`);
  }
  rounding(b, total, h > 0);
  return {
    handle: h,
    address: g.address,
    dataAddress: g.address + data,
    state: 'live',
    what: ownerName(owner),
    domain,
    requested: n,
    total,
    size: g.size,
    bytes: b.bytes,
    exact: b.exact,
    ranges: b.finish(),
  };
}

/** An object's fields, from its layout (whose offsets already count the debug header). */
function objectData(space: ObjectSpace, b: Builder, o: PyObj, unwritten: (start: number, len: number, label: string, note: string) => void): void {
  for (const f of layoutOf(space, o).fields) {
    if (f.name.startsWith('debug:')) continue;
    if (f.bytes === 'unwritten') {
      unwritten(f.offset, f.size, f.name, f.meaning);
    } else if (f.bytes === 'unknown') {
      b.unknown(f.offset, f.size, f.name, f.meaning);
    } else if (f.bytes === 'pointer') {
      const a = typeof f.value === 'string' && /^0x[0-9a-f]+$/.test(f.value) ? Number.parseInt(f.value, 16) : null;
      b.pointer(f.offset, f.name, a, f.target ?? 'object', f.meaning);
    } else if (f.name === 'ob_refcnt' && space.rules.minor >= 14) {
      // Changed in 3.14: a 32-bit count, then ob_overflow and ob_flags (not measured).
      const tmp = new Uint8Array(8);
      writeFieldValue(space, o, f, tmp, 0);
      b.value(f.offset, 4, 'ob_refcnt', (out, at) => out.set(tmp.subarray(0, 4), at), f.meaning);
      b.unknown(f.offset + 4, 4, 'ob_overflow, ob_flags', '3.14: overflow count and flags (not modelled)');
    } else {
      const tmp = new Uint8Array(f.size);
      if (!writeFieldValue(space, o, f, tmp, 0)) {
        b.unknown(f.offset, f.size, f.name, `${f.meaning} (not modelled)`);
        continue;
      }
      const w = f.written ?? f.size;
      b.value(f.offset, w, f.name, (out, at) => out.set(tmp.subarray(0, w), at), f.meaning);
      if (w < f.size) unwritten(f.offset + w, f.size - w, `${f.name} (rest)`, 'bits never written');
    }
  }
}

/** A list's item array: item pointers, then the spare slots. */
function listItems(b: Builder, data: number, l: ListObj, unwritten: (start: number, len: number, label: string, note: string) => void): void {
  l.items.forEach((x, i) => b.pointer(data + 8 * i, `ob_item[${i}]`, x.address, `item:${i}`, `pointer to item ${i} (${x.type})`));
  const n = l.items.length;
  // Slots below the high-water mark may hold stale pointers that pop/del left behind.
  const hwm = Math.min(l.allocated, Math.max(l.written, n));
  if (hwm > n) b.unknown(data + 8 * n, 8 * (hwm - n), `spare slots ${n}..${hwm - 1}`, 'stale item pointers or never written (not modelled)');
  const from = Math.max(hwm, n);
  if (l.allocated > from) unwritten(data + 8 * from, 8 * (l.allocated - from), `spare slots ${from}..${l.allocated - 1}`, 'spare item slots, never written');
}

/**
 * hash(k) as CPython computes it, for the keys whose hash does not depend on the process:
 * ints (reduced modulo 2**61 - 1, -1 becomes -2) and bools; null for the others (str and
 * bytes hashes are randomised per process).
 */
export function knownHash(k: PyObj): bigint | null {
  if (!(k instanceof IntObj)) return null;
  const P = (1n << 61n) - 1n;
  const a = k.value < 0n ? -k.value : k.value;
  let h = a % P;
  if (k.value < 0n) h = -h;
  return h === -1n ? -2n : h;
}

/**
 * A combined dict's keys object: header, indices (the insertion probes of CPython's
 * find_empty_slot, when every key's hash is known and nothing was deleted) and entries.
 * Key invariant: with no deletions, entry i holds keys[i] (insertion order; dictresize keeps
 * the order).
 */
function dictKeys(space: ObjectSpace, b: Builder, data: number, d: DictObj): void {
  const r = space.rules;
  const size = d.tableSize;
  const usable = usableFraction(size);
  const ix = dictIndexBytes(size);
  const general = !(r.unicodeKeysEntries && d.unicodeKeys);
  const es = general ? 24 : 16;
  const nentries = d.nentries;
  let at = data;
  b.int(at, 8, 'dk_refcnt', 1, 'reference count of the keys object (one dict)');
  if (r.minor <= 10) {
    b.int(at + 8, 8, 'dk_size', size, 'hash table size');
    b.pointer(at + 16, 'dk_lookup', null, 'code', 'lookup function (lookdict, lookdict_unicode, ...): an address in libpython (not modelled)');
    b.int(at + 24, 8, 'dk_usable', usable - nentries, 'entries still usable');
    b.int(at + 32, 8, 'dk_nentries', nentries, 'entries used (deleted ones included)');
    at += 40;
  } else {
    b.int(at + 8, 1, 'dk_log2_size', Math.log2(size), `log2 of the table size ${size}`);
    b.int(at + 9, 1, 'dk_log2_index_bytes', Math.log2(size * ix), `log2 of the index bytes (${size * ix})`);
    b.int(at + 10, 1, 'dk_kind', general ? 0 : 1, general ? 'DICT_KEYS_GENERAL' : 'DICT_KEYS_UNICODE');
    if (space.debugOverhead > 0) b.fill(at + 11, 1, CLEANBYTE, '(padding)', 'alignment, never written: 0xCD');
    else b.unknown(at + 11, 1, '(padding)', 'alignment, never written (not modelled)');
    b.int(at + 12, 4, 'dk_version', 0, 'keys version: 0 until the specializing interpreter asks for one');
    b.int(at + 16, 8, 'dk_usable', usable - nentries, 'entries still usable');
    b.int(at + 24, 8, 'dk_nentries', nentries, 'entries used (deleted ones included)');
    at += 32;
  }
  const intact = nentries === d.keys.length;
  const hashes = intact ? d.keys.map(knownHash) : [];
  if (intact && hashes.every((x) => x !== null)) {
    const slots = new Array<number>(size).fill(-1);
    const mask = BigInt(size - 1);
    hashes.forEach((hash, e) => {
      let perturb = BigInt.asUintN(64, hash!);
      let i = perturb & mask;
      while (slots[Number(i)] !== -1) {
        perturb >>= 5n;
        i = (i * 5n + perturb + 1n) & mask;
      }
      slots[Number(i)] = e;
    });
    b.value(at, size * ix, 'dk_indices', (out, p) => slots.forEach((v, i) => writeLE(out, p + i * ix, ix, BigInt(v))), `${size} indices of ${ix} byte${ix === 1 ? '' : 's'}: entry numbers, -1 (0xff) for empty slots`);
  } else {
    b.unknown(at, size * ix, 'dk_indices', intact ? 'slots depend on the hashes of str/bytes keys (randomised per process)' : 'deleted entries: their slots are not modelled');
  }
  at += size * ix;
  for (let e = 0; e < nentries; e++) {
    const p = at + e * es;
    if (!intact) {
      b.unknown(p, es, `entry[${e}]`, 'entries after deletions are not modelled');
      continue;
    }
    const k = d.keys[e]!;
    if (general) {
      const hash = hashes[e];
      if (hash !== null && hash !== undefined) b.int(p, 8, `entry[${e}].me_hash`, hash, `hash of the key`);
      else b.unknown(p, 8, `entry[${e}].me_hash`, 'hash of the key (randomised per process)');
    }
    b.pointer(p + es - 16, `entry[${e}].me_key`, k.address, `key:${e}`, `pointer to key ${e} (${k.type})`);
    const v = d.values[e]!;
    b.pointer(p + es - 8, `entry[${e}].me_value`, v.address, `value:${e}`, `pointer to value ${e} (${v.type})`);
  }
  if (usable > nentries) b.fill(at + nentries * es, (usable - nentries) * es, 0, `entries ${nentries}..${usable - 1}`, 'unused entries: zeroed by new_keys_object');
}

// =============================================================================================
// Freed blocks
// =============================================================================================

/**
 * The bytes of block `h` after the program freed it, while it is still free (on its pool's
 * free list, or a free glibc chunk that was not merged); null when the memory was handed out
 * again, merged or given back to the system, or when this space never allocated `h`.
 */
export function freedBlockBytes(space: ObjectSpace, h: number): BlockBytes | null {
  const n = space.requested.get(h);
  if (n === undefined) return null;
  const heap = space.heap;
  const total = n + space.debugOverhead;
  let link: number | null = null;
  let glibcWords = 0;
  let usable = total;
  if (h > 0) {
    const pool = Math.floor(h / BLOCK_MUL);
    const arena = heap.arenaOfPool(pool);
    if (!heap.isArenaLive(arena) || heap.ordinalOfPool(pool) >= heap.arenaNextCarve[arena]!) return null;
    // The pool must still hold blocks of the class the block was cut for.
    if (heap.szidx[pool] !== (total - 1) >> heap.alignShift) return null;
    const free = heap.freeList(pool);
    const i = free.indexOf(h % BLOCK_MUL);
    if (i < 0) return null;
    link = i + 1 < free.length ? heap.addressOf(pool * BLOCK_MUL + free[i + 1]!) : 0;
  } else {
    if (!(heap.raw instanceof GlibcMalloc)) return null;
    const c = heap.raw.chunkAt(-h);
    if (c === null || c.inUse || c.mmapped || c.bin === 'top' || c.bin === null || c.chunk !== -h - 16) return null;
    // tcache: next (safe-linked) + key; fastbin: fd; bins: fd, bk (+ fd/bk_nextsize in large bins).
    glibcWords = c.bin === 'tcache' ? 16 : c.bin === 'fastbin' ? 8 : c.size >= 1024 ? 32 : 16;
    usable = c.size - 8;
  }
  const g = geometry(heap, h, total);
  const size = h > 0 ? g.size : Math.max(total, usable);
  const b = new Builder(size);
  const debug = space.debugOverhead > 0;
  const moved = space.movedAway.has(h);
  if (debug) {
    const note = moved ? 'erased by the debug hooks before the realloc moved the data away' : 'DEADBYTE: the debug hooks fill a freed block';
    if (!moved || n <= 2 * ERASED_SIZE) {
      b.fill(0, total, DEADBYTE, 'freed', `${note}: 0xDD`);
    } else {
      b.fill(0, 16 + ERASED_SIZE, DEADBYTE, 'freed (header, first 64 bytes)', `${note}: 0xDD`);
      b.unknown(16 + ERASED_SIZE, n - 2 * ERASED_SIZE, 'old data', 'the middle of the data keeps what it held (not modelled)');
      b.fill(16 + n - ERASED_SIZE, ERASED_SIZE + space.debugOverhead - 16, DEADBYTE, 'freed (last 64 bytes, trailer)', `${note}: 0xDD`);
    }
  } else {
    b.unknown(0, total, 'old data', 'what the object left there (not modelled)');
  }
  // The allocator's words go over the fill (ranges added later win; see `overlay`).
  const over: ByteRange[] = [];
  if (h > 0) {
    writeLE(b.bytes, 0, 8, BigInt(link!));
    b.exact.fill(0, 0, 8);
    over.push({ start: 0, end: 8, label: 'pymalloc free-list link', known: 'pointer', target: 'link', value: link!, note: link === 0 ? 'NULL: the last free block of the pool' : 'the next free block of the pool' });
  } else {
    b.bytes.fill(0, 0, glibcWords);
    b.exact.fill(0, 0, glibcWords);
    over.push({ start: 0, end: glibcWords, label: 'glibc free-list words', known: 'unknown', note: 'safe-linked pointers and the tcache key (not modelled)' });
    // A chunk in a bin also writes its size into the next chunk's prev_size, the last usable word.
    if (usable - 8 < total) {
      b.exact.fill(0, usable - 8, usable);
      over.push({ start: usable - 8, end: usable, label: "next chunk's prev_size", known: 'unknown', note: 'written by glibc for chunks in a bin' });
    }
  }
  if (size > total) b.unknown(total, size - total, 'rounding', 'not modelled: whatever the block held before');
  return {
    handle: h,
    address: g.address,
    dataAddress: g.address + (debug ? 16 : 0),
    state: 'freed',
    what: moved ? 'block freed by a moving realloc' : 'freed block',
    domain: null,
    requested: n,
    total,
    size,
    bytes: b.bytes,
    exact: b.exact,
    ranges: overlay(b.finish(), over),
  };
}

/** `base` with the ranges of `top` cut in (top wins where they overlap). */
function overlay(base: ByteRange[], top: ByteRange[]): ByteRange[] {
  let out = base;
  for (const t of top) {
    const next: ByteRange[] = [];
    for (const r of out) {
      if (r.end <= t.start || r.start >= t.end) {
        next.push(r);
        continue;
      }
      if (r.start < t.start) next.push({ ...r, end: t.start });
      if (r.end > t.end) next.push({ ...r, start: t.end });
    }
    next.push(t);
    out = next.sort((a, b) => a.start - b.start);
  }
  return out;
}

// =============================================================================================
// Text
// =============================================================================================

/**
 * A hex dump of the block, 16 bytes a line, with the labels of the ranges that start on each
 * line; bytes that are not modelled print as '..'.
 */
export function hexDump(bb: BlockBytes): string[] {
  const out: string[] = [];
  const pad = bb.total - bb.requested;
  const parts = [`${bb.requested} requested`];
  if (pad > 0) parts.push(`${pad} debug hooks`);
  if (bb.size > bb.total) parts.push(`${bb.size - bb.total} rounding`);
  out.push(`${bb.state === 'freed' ? bb.what : `${bb.what}, block`} at 0x${bb.address.toString(16)}: ${bb.size} bytes (${parts.join(' + ')})${bb.domain === null ? '' : `, ${bb.domain} domain`}`);
  const known = new Uint8Array(bb.size);
  for (const r of bb.ranges) if (r.known === 'exact' || r.value !== undefined) known.fill(1, r.start, r.end);
  for (let line = 0; line < bb.size; line += 16) {
    const hex: string[] = [];
    for (let i = line; i < Math.min(line + 16, bb.size); i++) hex.push(known[i] === 1 ? bb.bytes[i]!.toString(16).padStart(2, '0') : '..');
    const labels = bb.ranges
      .filter((r) => r.start >= line && r.start < line + 16)
      .map((r) => (r.known === 'pointer' ? `${r.label} -> ${r.target ?? '?'}` : r.label));
    out.push(`  +${line.toString(16).padStart(3, '0')}  ${hex.join(' ').padEnd(47)}  ${labels.join(' | ')}`);
  }
  return out;
}
