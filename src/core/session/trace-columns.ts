/**
 * The on-disk columns of a stored trace (session format v1), before compression.
 *
 * A trace of n operations is written as seven byte streams (each becomes one blob):
 *
 *     kinds   ceil(n / 4) bytes: 2 bits per operation, operation i in bits 2(i mod 4) ..
 *             2(i mod 4) + 1 of byte i >> 2 (0 a, 1 c, 2 r, 3 f); unused high bits are 0
 *     newIds  one varint per a and c: 0 = the id is the next 8 bytes of `wide` (int64);
 *             else zigzag(id - (last + 1)) + 1, `last` being the id of the latest a or c
 *             whose id is a safe integer (-1 before any). Sequential allocations cost one
 *             byte of value 1, which deflate squeezes to almost nothing.
 *     refIds  one varint per r and f: 0 = the next 8 bytes of `wide`; else
 *             zigzag(id - last) + 1: the distance back to a recent allocation
 *     sizes   one varint per a, c and r: 0 = the next 8 bytes of `wide` (uint64); else size + 1
 *     counts  one varint per c (its element count), same coding as sizes
 *     gaps    pairs of varints (op - previous op - 1, lines - 1): before operation `op`,
 *             `lines` lines (comments, blanks) were skipped; ops strictly increase
 *     wide    8-byte little-endian values, in operation order (for a c: id, count, size)
 *
 * The ids are split in two streams because they differ: new ids are nearly constant and
 * compress to nothing, referenced ids are nearly random (the writer may store that blob
 * uncompressed, see format.ts). SPEC.md section 4 is the authority on all of this.
 *
 * Varints are little-endian base 128 (LEB128), at most 8 bytes, values up to 2^53.
 * Key invariant: decoding consumes every stream exactly; anything left over or missing, bits
 * set after the last kind, a gap past the end, an id that leaves the safe range, is a
 * SessionFormatError naming the column (test/fixtures/session/invalid/column-*).
 */
import { OP_CALLOC, OP_FREE, OP_REALLOC, type IdKey } from '../trace/reader';
import { SessionFormatError } from './errors';
import { ID_WIDE, StoredTrace, U32_WIDE } from './stored-trace';

export const TRACE_COLUMNS = ['kinds', 'newIds', 'refIds', 'sizes', 'counts', 'gaps', 'wide'] as const;
export type TraceColumn = (typeof TRACE_COLUMNS)[number];
export type EncodedTraceColumns = Record<TraceColumn, Uint8Array>;

const TWO53 = 2 ** 53;
/** Deltas this large or larger go to `wide` (keeps zigzag + 1 exact in a double). */
const DELTA_LIMIT = 2 ** 50;

class ByteWriter {
  buf: Uint8Array;
  n = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private grow(need: number): void {
    let m = this.buf.length * 2;
    while (m < this.n + need) m *= 2;
    const b = new Uint8Array(m);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }

  /** A non-negative integer up to 2^53. */
  varint(v: number): void {
    if (this.n + 8 > this.buf.length) this.grow(8);
    const buf = this.buf;
    let n = this.n;
    if (v < 0x1000_0000) {
      while (v >= 0x80) {
        buf[n++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        buf[n++] = (v & 0x7f) | 0x80; // & takes the low 32 bits exactly for integers < 2^53
        v = Math.floor(v / 128);
      }
    }
    buf[n++] = v;
    this.n = n;
  }

  /** 8 bytes, little-endian, two's complement for negative values. */
  u64(v: bigint): void {
    if (this.n + 8 > this.buf.length) this.grow(8);
    const w = BigInt.asUintN(64, v);
    const lo = Number(w & 0xffff_ffffn);
    const hi = Number(w >> 32n);
    const b = this.buf;
    const n = this.n;
    b[n] = lo & 0xff;
    b[n + 1] = (lo >>> 8) & 0xff;
    b[n + 2] = (lo >>> 16) & 0xff;
    b[n + 3] = lo >>> 24;
    b[n + 4] = hi & 0xff;
    b[n + 5] = (hi >>> 8) & 0xff;
    b[n + 6] = (hi >>> 16) & 0xff;
    b[n + 7] = hi >>> 24;
    this.n = n + 8;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

function zigzag(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

export function encodeTraceColumns(t: StoredTrace): EncodedTraceColumns {
  const n = t.length;
  const { kinds, ids, sizes, counts, wideIds, wideValues, gapOps, gapLines } = t;
  const packed = new Uint8Array(Math.ceil(n / 4));
  const nw = new ByteWriter(n);
  const rw = new ByteWriter(n + (n >> 1));
  const szw = new ByteWriter(n + (n >> 1));
  const cw = new ByteWriter(t.callocs + 8);
  const ww = new ByteWriter(8 * (wideIds.length + wideValues.length));
  let wi = 0;
  let wv = 0;
  let ci = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const k = kinds[i]!;
    packed[i >> 2]! |= k << ((i & 3) << 1);
    const alloc = k < OP_REALLOC; // a or c
    const w = alloc ? nw : rw;
    const raw = ids[i]!;
    const id: IdKey = raw === ID_WIDE ? wideIds[wi++]! : raw;
    if (typeof id === 'number') {
      const d = id - (alloc ? last + 1 : last);
      if (d < DELTA_LIMIT && d > -DELTA_LIMIT) {
        w.varint(zigzag(d) + 1);
      } else {
        w.varint(0);
        ww.u64(BigInt(id));
      }
      if (alloc) last = id;
    } else {
      w.varint(0);
      ww.u64(BigInt(id));
    }
    if (k === OP_CALLOC) {
      const c = counts[ci++]!;
      writeU64(cw, ww, c === U32_WIDE ? wideValues[wv++]! : c);
    }
    if (k !== OP_FREE) {
      const s = sizes[i]!;
      writeU64(szw, ww, s === U32_WIDE ? wideValues[wv++]! : s);
    }
  }
  const gw = new ByteWriter(gapOps.length * 2);
  let prev = -1;
  for (let g = 0; g < gapOps.length; g++) {
    gw.varint(gapOps[g]! - prev - 1);
    gw.varint(gapLines[g]! - 1);
    prev = gapOps[g]!;
  }
  return {
    kinds: packed,
    newIds: nw.bytes(),
    refIds: rw.bytes(),
    sizes: szw.bytes(),
    counts: cw.bytes(),
    gaps: gw.bytes(),
    wide: ww.bytes(),
  };
}

function writeU64(w: ByteWriter, wide: ByteWriter, v: number | bigint): void {
  if (typeof v === 'number') {
    w.varint(v + 1);
  } else {
    w.varint(0);
    wide.u64(v);
  }
}

class ByteReader {
  pos = 0;
  readonly buf: Uint8Array;
  readonly column: string;
  private readonly where: string;
  constructor(buf: Uint8Array, where: string, column: string) {
    this.buf = buf;
    this.where = where;
    this.column = column;
  }

  fail(message: string): never {
    throw new SessionFormatError(`${this.where}: column '${this.column}': ${message}`);
  }

  varint(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= buf.length) this.fail(`ends early (at byte ${p})`);
    let b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let v = b & 0x7f;
    let mul = 0x80;
    for (let i = 1; ; i++) {
      if (p >= buf.length) this.fail(`ends early (at byte ${p})`);
      if (i === 8) this.fail(`varint longer than 8 bytes at byte ${this.pos}`);
      b = buf[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
    }
    if (v > TWO53) this.fail(`varint at byte ${this.pos} is above 2^53`);
    this.pos = p;
    return v;
  }

  /** 8 bytes little-endian, as an unsigned 64-bit bigint. */
  u64(): bigint {
    const buf = this.buf;
    const p = this.pos;
    if (p + 8 > buf.length) this.fail(`ends early (at byte ${p})`);
    const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    const hi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  end(): void {
    const left = this.buf.length - this.pos;
    if (left !== 0) this.fail(`${left} byte${left === 1 ? '' : 's'} left over after the last operation`);
  }
}

/** An unsigned value as the trace reader gives it: a number when safe, else a bigint. */
function u64Value(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * Rebuilds a StoredTrace of `ops` operations from its decompressed columns, checking every
 * value. `where` names the input in errors, e.g. `header.inputs[1]`.
 */
export function decodeTraceColumns(c: EncodedTraceColumns, ops: number, where: string): StoredTrace {
  const packed = c.kinds;
  if (packed.length !== Math.ceil(ops / 4)) {
    throw new SessionFormatError(`${where}: column 'kinds': ${packed.length} bytes for ${ops} operations (expected ${Math.ceil(ops / 4)})`);
  }
  if ((ops & 3) !== 0 && packed[packed.length - 1]! >> ((ops & 3) << 1) !== 0) {
    throw new SessionFormatError(`${where}: column 'kinds': bits set after the last operation`);
  }
  const nr = new ByteReader(c.newIds, where, 'newIds');
  const rr = new ByteReader(c.refIds, where, 'refIds');
  const szr = new ByteReader(c.sizes, where, 'sizes');
  const cr = new ByteReader(c.counts, where, 'counts');
  const wr = new ByteReader(c.wide, where, 'wide');
  const kinds = new Uint8Array(ops);
  const ids = new Int32Array(ops);
  const sizes = new Uint32Array(ops);
  let ncalloc = 0;
  for (let i = 0; i < ops; i++) {
    const k = (packed[i >> 2]! >> ((i & 3) << 1)) & 3;
    kinds[i] = k;
    if (k === OP_CALLOC) ncalloc++;
  }
  const counts = new Uint32Array(ncalloc);
  const wideIds: IdKey[] = [];
  const wideValues: (number | bigint)[] = [];
  let ci = 0;
  let last = -1;
  for (let i = 0; i < ops; i++) {
    const k = kinds[i]!;
    const alloc = k < OP_REALLOC;
    const idr = alloc ? nr : rr;
    const v = idr.varint();
    let id: IdKey;
    if (v !== 0) {
      const zz = v - 1;
      const d = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      id = (alloc ? last + 1 : last) + d;
      if (!Number.isSafeInteger(id)) idr.fail(`the id of operation ${i} leaves the exact integer range`);
    } else {
      const b = BigInt.asIntN(64, wr.u64());
      const x = Number(b);
      id = Number.isSafeInteger(x) ? x : b.toString();
    }
    if (typeof id === 'number') {
      if (alloc) last = id;
      if ((id | 0) === id && id !== ID_WIDE) {
        ids[i] = id;
      } else {
        ids[i] = ID_WIDE;
        wideIds.push(id);
      }
    } else {
      ids[i] = ID_WIDE;
      wideIds.push(id);
    }
    if (k === OP_CALLOC) counts[ci++] = readU64(cr, wr, wideValues);
    if (k !== OP_FREE) sizes[i] = readU64(szr, wr, wideValues);
  }
  nr.end();
  rr.end();
  szr.end();
  cr.end();
  wr.end();
  const gr = new ByteReader(c.gaps, where, 'gaps');
  const gapOpsList: number[] = [];
  const gapLinesList: number[] = [];
  let prev = -1;
  let lines = ops;
  while (gr.pos < c.gaps.length) {
    const op = prev + 1 + gr.varint();
    const skipped = gr.varint() + 1;
    if (op >= ops) gr.fail(`a gap before operation ${op}, but the trace has ${ops} operations`);
    lines += skipped;
    if (lines > Number.MAX_SAFE_INTEGER) gr.fail('line numbers leave the exact integer range');
    gapOpsList.push(op);
    gapLinesList.push(skipped);
    prev = op;
  }
  return new StoredTrace({
    kinds,
    ids,
    sizes,
    counts,
    wideIds,
    wideValues,
    gapOps: Uint32Array.from(gapOpsList),
    gapLines: Float64Array.from(gapLinesList),
  });
}

function readU64(r: ByteReader, wide: ByteReader, wideValues: (number | bigint)[]): number {
  const v = r.varint();
  const x = v === 0 ? u64Value(wide.u64()) : v - 1;
  if (typeof x === 'number' && x < U32_WIDE) return x;
  wideValues.push(x);
  return U32_WIDE;
}

