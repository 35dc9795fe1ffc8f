/**
 * The rows of an annotated byte view: a block's bytes eight to a row (one 64-bit word), each
 * byte tagged with the field that covers it, the bytes past the request (lost to rounding up
 * to the size class) marked as such. Pure, so tests can pin it.
 */
import type { Field } from '../../../shared/protocol';

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
 * `hex`: the data bytes as hex pairs; `total`: bytes in the block (data + lost). Fields are
 * placed by offset and size; a field running past the data is cut at `total`.
 */
export function byteRows(hex: string, fields: readonly Field[], total: number): ByteRow[] {
  const dataLen = hex.length >> 1;
  const n = Math.max(total, dataLen);
  const owner = new Int32Array(n).fill(-1);
  fields.forEach((f, i) => {
    for (let b = f.offset; b < Math.min(n, f.offset + f.size); b++) if (owner[b] === -1) owner[b] = i;
  });
  const rows: ByteRow[] = [];
  for (let off = 0; off < n; off += BYTES_PER_ROW) {
    const cells: ByteCell[] = [];
    for (let b = off; b < Math.min(n, off + BYTES_PER_ROW); b++) {
      cells.push({ hex: b < dataLen ? hex.slice(2 * b, 2 * b + 2) : '··', field: owner[b]!, kind: b < dataLen ? 'data' : 'lost' });
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
