/**
 * The renderer's pure helpers: error positions of the console, the annotated byte view, the
 * struct bytes built from header fields, range merging for pool-state updates, and the
 * version differences the Version panel explains.
 */
import { describe, expect, it } from 'vitest';
import { bytes, errorRange, parseErrorPosition, thousands } from '../../src/renderer/src/lib/format';
import { byteRows, contentsView, fieldNumber, littleEndian, structHex } from '../../src/renderer/src/lib/byteview';
import { mergeRanges } from '../../src/renderer/src/lib/ranges';
import { differences } from '../../src/renderer/src/lib/versions';
import { blockAddress } from '../../src/renderer/src/lib/selection';
import type { Field } from '../../src/shared/protocol';

const f = (name: string, offset: number, size: number, value: string, pointsTo: number | null = null): Field => ({ name, offset, size, value, pointsTo });

describe('console error positions', () => {
  it('reads line and 1-based column, and marks the token there', () => {
    const code = 'a = 1\nb = undefined_name + 1';
    const pos = parseErrorPosition("line 2 col 5: NameError: name 'undefined_name' is not defined");
    expect(pos).toEqual({ line: 2, col: 5, message: "NameError: name 'undefined_name' is not defined" });
    const r = errorRange(code, pos!);
    expect(code.slice(r.from, r.to)).toBe('undefined_name');
  });

  it('marks one character for punctuation, the whole line without a column, and clamps the line', () => {
    const code = 'x = [1,\n';
    const r = errorRange(code, parseErrorPosition("line 1 col 5: '[' was never closed")!);
    expect([r.from, r.to]).toEqual([4, 5]);
    const whole = errorRange('abc\ndef', parseErrorPosition('line 2: bad trace line')!);
    expect([whole.from, whole.to]).toEqual([4, 7]);
    const past = errorRange('abc\ndef', { line: 9, col: 2, message: '' });
    expect([past.from, past.to]).toEqual([5, 7]);
    expect(parseErrorPosition('KeyboardInterrupt')).toBeNull();
  });

  it('formats numbers and byte counts', () => {
    expect(thousands(1048576)).toBe('1,048,576');
    expect(thousands(-1234)).toBe('-1,234');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.50 KiB');
    expect(bytes(1 << 20)).toBe('1.00 MiB');
  });
});

describe('byte view', () => {
  // The list object of `x = [1000, 2000]` on 3.13: 56 bytes requested in a 64-byte block.
  const hex = '0000000000000000000000000000000001000000000000008073d9f7ff7f0000020000000000000030800000005e00000200000000000000';
  const fields = [
    f('_gc_next', 0, 8, ''),
    f('_gc_prev', 8, 8, ''),
    f('ob_refcnt', 16, 8, '1'),
    f('ob_type', 24, 8, '0x7ffff7d97380', 0x7ffff7d97380),
    f('ob_size', 32, 8, '2'),
    f('ob_item', 40, 8, '0x5e0000008030', 0x5e0000008030),
    f('allocated', 48, 8, '2'),
  ];

  it('puts a word per row, tags bytes with their field, and marks the bytes lost to rounding', () => {
    const rows = byteRows(hex, fields, 64);
    expect(rows).toHaveLength(8);
    expect(rows[2]!.cells.map((c) => c.hex).join('')).toBe('0100000000000000');
    expect(rows[2]!.starts).toEqual([2]);
    expect(rows[5]!.cells.every((c) => c.field === 5)).toBe(true);
    expect(rows[7]!.cells.every((c) => c.kind === 'lost' && c.hex === '··' && c.field === -1)).toBe(true);
    expect(rows[7]!.lostStarts).toBe(8);
    expect(rows.slice(0, 7).every((r) => r.lostStarts === 0)).toBe(true);
  });

  it('marks the bytes past the request as lost even when the block\'s bytes are known', () => {
    const rows = byteRows(hex + 'cdcdcdcdcdcdcdcd', fields, 64, 56);
    expect(rows[7]!.cells.map((c) => c.hex).join('')).toBe('cdcdcdcdcdcdcdcd');
    expect(rows[7]!.cells.every((c) => c.kind === 'lost')).toBe(true);
    expect(rows[6]!.cells.every((c) => c.kind === 'data')).toBe(true);
    expect(rows[7]!.lostStarts).toBe(8);
  });

  it('keeps fields smaller than a word in the row they start in', () => {
    const header = [f('arenaindex', 32, 4, '0'), f('szidx', 36, 4, '3'), f('nextoffset', 40, 4, '176'), f('maxnextoffset', 44, 4, '16320')];
    const hexh = structHex(header, 48);
    const rows = byteRows(hexh, header, 48);
    expect(rows[4]!.starts).toEqual([0, 1]);
    expect(rows[4]!.cells.map((c) => c.field)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    // 176 = 0xb0, 16320 = 0x3fc0, little-endian
    expect(hexh.slice(80, 96)).toBe('b0000000c03f0000');
  });

  it('builds the little-endian bytes of a pool header from its field texts', () => {
    const header = [f('ref.count', 0, 8, '2'), f('freeblock', 8, 8, '0x5e0000000070 (block 2)', 0x5e0000000070)];
    const h = structHex(header, 16);
    expect(h).toBe('0200000000000000' + '70000000005e0000');
    expect(fieldNumber('0x7ffff7e45a40 (usedpools[1] (list head))')).toBe(0x7ffff7e45a40n);
    expect(fieldNumber('61')).toBe(61n);
    expect(fieldNumber('NULL')).toBeNull();
  });

  it('reads an int object\'s annotated contents: exact values from the bytes, pointers to follow, the tail lost', () => {
    // int 1000 on 3.13 as the block query answers it (28 bytes requested in a 32-byte block)
    const hexPairs = ['01', '00', '00', '00', '00', '00', '00', '00', ...Array(8).fill('..'), '08', '00', '00', '00', '00', '00', '00', '00', 'e8', '03', '00', '00', '..', '..', '..', '..'];
    const v = contentsView({
      what: 'int object',
      state: 'live',
      address: 0x5e0000000030,
      dataAddress: 0x5e0000000030,
      domain: 'OBJ',
      requested: 28,
      size: 32,
      hex: hexPairs,
      ranges: [
        { start: 0, end: 8, label: 'ob_refcnt', known: 'exact', target: null, pointsTo: null, note: 'reference count' },
        { start: 8, end: 16, label: 'ob_type', known: 'pointer', target: 'type', pointsTo: 0x7ffff7d90a40, note: null },
        { start: 16, end: 24, label: 'lv_tag', known: 'exact', target: null, pointsTo: null, note: null },
        { start: 24, end: 28, label: 'ob_digit[0]', known: 'exact', target: null, pointsTo: null, note: null },
        { start: 28, end: 32, label: 'rounding', known: 'unknown', target: null, pointsTo: null, note: '4 bytes lost' },
      ],
    });
    expect(v.fields.map((f) => [f.name, f.value, f.pointsTo])).toEqual([
      ['ob_refcnt', '1', null],
      ['ob_type', '0x7ffff7d90a40', 0x7ffff7d90a40],
      ['lv_tag', '8', null],
      ['ob_digit[0]', '1000', null],
    ]);
    expect(v.fields[0]!.meaning).toBe('reference count');
    expect([v.total, v.dataEnd]).toEqual([32, 28]);
    const rows = byteRows(v.hex, v.fields, v.total, v.dataEnd);
    expect(rows[1]!.cells.map((c) => c.hex).join(' ')).toBe('·· ·· ·· ·· ·· ·· ·· ··');
    expect(rows[3]!.cells.map((c) => c.kind)).toEqual(['data', 'data', 'data', 'data', 'lost', 'lost', 'lost', 'lost']);
    expect(rows[3]!.lostStarts).toBe(4);
    expect(littleEndian(['e8', '03'], 0, 2)).toBe(1000n);
    expect(littleEndian(['e8', '..'], 0, 2)).toBeNull();
  });

  it('places block i after the 48-byte pool header', () => {
    expect(blockAddress(0x5e0000004000, 64, 0)).toBe(0x5e0000004030);
    expect(blockAddress(0x5e0000004000, 64, 3)).toBe(0x5e0000004030 + 192);
  });
});

describe('pool-state ranges', () => {
  it('sorts, merges overlapping and touching ranges, drops empty ones', () => {
    expect(
      mergeRanges([
        { start: 64, end: 70 },
        { start: 0, end: 3 },
        { start: 3, end: 5 },
        { start: 66, end: 80 },
        { start: 10, end: 10 },
      ]),
    ).toEqual([
      { start: 0, end: 5 },
      { start: 64, end: 80 },
    ]);
  });
});

describe('version differences', () => {
  it('names what changed between 3.9 and 3.10, and between 3.7.0-3.7.3 and 3.7', () => {
    expect(differences('3.9', '3.10').map((r) => r.name)).toEqual(['ARENA_SIZE', 'POOL_SIZE', 'address_in_range']);
    expect(differences('3.7.0-3.7.3', '3.7').map((r) => r.name)).toEqual(['ALIGNMENT', 'size classes']);
    expect(differences('3.8', '3.9').map((r) => r.name)).toEqual(['empty arena']);
    expect(differences('3.11', '3.12').map((r) => r.name)).toEqual(['allocator state']);
  });
});
