/**
 * Object layouts and bytes: the fields at their offsets and the bytes a memory view shows.
 */
import { describe, expect, it } from 'vitest';
import { layoutOf, objectBytes, typeAddress } from '../../src/core/objects/layout';
import { PythonSession } from '../../src/core/python/session';

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

describe('object bytes', () => {
  it('an int: refcount, type pointer, size, digits, little-endian', () => {
    const s = new PythonSession({ python: '3.11' });
    s.run('x = 2**40 + 7\n');
    const x = s.interp.globals.get('x')!;
    const b = objectBytes(s.space, x);
    expect(b.length).toBe(32);
    expect(hex(b.slice(0, 8))).toBe('01 00 00 00 00 00 00 00');
    expect(new DataView(b.buffer).getBigUint64(8, true)).toBe(BigInt(typeAddress('int')));
    expect(hex(b.slice(16, 24))).toBe('02 00 00 00 00 00 00 00'); // ob_size = 2 digits
    expect(hex(b.slice(24, 32))).toBe('07 00 00 00 00 04 00 00'); // digits 7 and 2**10
  });

  it('3.12+ int: lv_tag = ndigits << 3 | sign', () => {
    const s = new PythonSession({ python: '3.12' });
    s.run('x = -(2**40)\n');
    const b = objectBytes(s.space, s.interp.globals.get('x')!);
    expect(hex(b.slice(16, 24))).toBe('12 00 00 00 00 00 00 00'); // 2 << 3 | 2 (negative)
  });

  it('a str: header, state bits and the characters with their NUL', () => {
    const s = new PythonSession({ python: '3.12' });
    s.run("x = '\\u20ac' * 2\n");
    const x = s.interp.globals.get('x')!;
    const L = layoutOf(s.space, x);
    expect(L.requested).toBe(56 + 3 * 2);
    const b = objectBytes(s.space, x);
    expect(b[32]).toBe((2 << 2) | (1 << 5)); // kind 2, compact, not ascii
    expect(hex(b.slice(56, 62))).toBe('ac 20 ac 20 00 00');
  });

  it('debug hooks: big-endian size, api id, 0xFD guards around the object', () => {
    const s = new PythonSession({ python: '3.8', pythonMalloc: 'debug' });
    s.run('x = 2.5 + len("ab")\n'); // a float made at run time (a constant is not traced)
    const b = objectBytes(s.space, s.interp.globals.get('x')!);
    expect(b.length).toBe(24 + 24);
    expect(hex(b.slice(0, 16))).toBe('00 00 00 00 00 00 00 18 6f fd fd fd fd fd fd fd');
    expect(new DataView(b.buffer).getFloat64(16 + 16, true)).toBe(4.5);
    expect(hex(b.slice(40, 48))).toBe('fd fd fd fd fd fd fd fd');
  });
});
