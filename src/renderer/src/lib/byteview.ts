/**
 * The rows of an annotated byte view: a block's bytes eight to a row (one 64-bit word), each
 * byte tagged with the field that covers it, the bytes past the request (lost to rounding up
 * to the size class) marked as such. Pure, so tests can pin it.
 */
import type { BlockContents, Field } from '../../../shared/protocol';

export interface ByteCell {
  /** Two hex digits, or '··' for bytes the view does not know (past the data given). */
  hex: string;
  /** Index of the field covering the byte, or -1. */
  field: number;
  /** 'data': part of the object; 'lost': in the block but past the request. */
  kind: 'data' | 'lost';
}

export interface ByteRow {
  offset: number;
  cells: ByteCell[];
  /** Fields that start in this row. */
  starts: number[];
  /** Bytes lost to rounding when they start in this row, else 0. */
  lostStarts: number;
}

export const BYTES_PER_ROW = 8;

/**
 * `hex`: the bytes known, as hex pairs (the whole block, or only the object's part); `total`:
 * bytes in the block; `dataEnd`: where the request ends (the rest of the block is lost to
 * rounding; it defaults to the bytes known). Fields are placed by offset and size.
 */
export function byteRows(hex: string, fields: readonly Field[], total: number, dataEnd = hex.length >> 1): ByteRow[] {
  const known = hex.length >> 1;
  const dataLen = Math.min(dataEnd, Math.max(total, known));
  const n = Math.max(total, known);
  const owner = new Int32Array(n).fill(-1);
  fields.forEach((f, i) => {
    for (let b = f.offset; b < Math.min(n, f.offset + f.size); b++) if (owner[b] === -1) owner[b] = i;
  });
  const rows: ByteRow[] = [];
  for (let off = 0; off < n; off += BYTES_PER_ROW) {
    const cells: ByteCell[] = [];
    for (let b = off; b < Math.min(n, off + BYTES_PER_ROW); b++) {
      cells.push({ hex: b < known ? hex.slice(2 * b, 2 * b + 2) : '··', field: owner[b]!, kind: b < dataLen ? 'data' : 'lost' });
    }
    const starts: number[] = [];
    fields.forEach((f, i) => {
      if (f.offset >= off && f.offset < off + BYTES_PER_ROW) starts.push(i);
    });
    const lostStarts = dataLen >= off && dataLen < off + BYTES_PER_ROW && dataLen < n ? n - dataLen : 0;
    rows.push({ offset: off, cells, starts, lostStarts });
  }
  return rows;
}

/** The number a field's value text starts with: "0x5e00 (block 2)" -> 0x5e00, "61" -> 61. */
export function fieldNumber(value: string): bigint | null {
  const m = /^\s*(-?)(0x[0-9a-fA-F]+|\d+)/.exec(value);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  return m[1] === '-' ? -v : v;
}

/**
 * The little-endian bytes of a struct whose fields carry their values as text (a pool header,
 * an arena object), as hex pairs: what the memory holds. Unknown values read as zero.
 */
export function structHex(fields: readonly Field[], size: number): string {
  const bytes = new Uint8Array(size);
  for (const f of fields) {
    let v = fieldNumber(f.value) ?? 0n;
    if (v < 0n) v += 1n << BigInt(8 * f.size);
    for (let i = 0; i < f.size && f.offset + i < size; i++) {
      bytes[f.offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The little-endian unsigned value of `size` hex pairs from byte `start`, or null if any is unknown. */
export function littleEndian(hex: readonly string[], start: number, size: number): bigint | null {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) {
    const h = hex[start + i];
    if (h === undefined || !/^[0-9a-fA-F]{2}$/.test(h)) return null;
    v = (v << 8n) | BigInt(Number.parseInt(h, 16));
  }
  return v;
}

export interface ContentsView {
  hex: string;
  fields: Field[];
  total: number;
  dataEnd: number;
}

/**
 * A block's annotated contents (BlockContents) as a byte view: its ranges as fields (exact
 * values read from the bytes, pointers with their target), the bytes past the request lost to
 * rounding. Bytes the simulation does not model stay unknown ('··').
 */
export function contentsView(c: BlockContents): ContentsView {
  const fields: Field[] = [];
  for (const r of c.ranges) {
    // The rounding tail is shown as the lost part of the block, not as a field.
    if (r.start >= c.requested && r.known === 'unknown') continue;
    const size = r.end - r.start;
    let value = '';
    if (r.known === 'exact' && size <= 8) value = littleEndian(c.hex, r.start, size)?.toString() ?? '';
    else if (r.pointsTo !== null) value = '0x' + r.pointsTo.toString(16);
    else if (r.target !== null) value = `→ ${r.target}`;
    fields.push({ name: r.label, offset: r.start, size, value, pointsTo: r.pointsTo, ...(r.note !== null ? { meaning: r.note } : {}) });
  }
  const hex = c.hex.map((h) => (/^[0-9a-fA-F]{2}$/.test(h) ? h.toLowerCase() : '··')).join('');
  return { hex, fields, total: c.size, dataEnd: c.requested };
}
