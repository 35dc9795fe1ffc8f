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

describe('instance layouts', () => {
  const src = 'class P:\n    def __init__(self):\n        self.a = 1000\nclass S:\n    __slots__ = ("a", "b")\np = P()\nq = S()\nq.a = 2000\n';
  function layout(python: string, name: string): { fields: string[]; requested: number } {
    const s = new PythonSession({ python });
    s.run(src);
    const L = layoutOf(s.space, s.interp.globals.get(name)!);
    return { fields: L.fields.map((f) => `${f.offset}:${f.name}`), requested: L.requested };
  }
  it('lays out a plain instance per version: inline dict/weakref, managed pre-header, inline values', () => {
    expect(layout('3.8', 'p')).toEqual({ fields: ['0:_gc_next', '8:_gc_prev', '16:ob_refcnt', '24:ob_type', '32:__dict__', '40:__weakref__'], requested: 48 });
    expect(layout('3.11', 'p')).toEqual({ fields: ['0:(pre) values', '8:(pre) dict', '16:_gc_next', '24:_gc_prev', '32:ob_refcnt', '40:ob_type', '48:__weakref__'], requested: 56 });
    expect(layout('3.12', 'p').requested).toBe(48);
    const l13 = layout('3.13', 'p');
    // First instance of the class: usable 29 -> 30 value slots inline after the object.
    expect(l13.fields.slice(0, 7)).toEqual(['0:(pre) weakref', '8:(pre) dict_or_values', '16:_gc_next', '24:_gc_prev', '32:ob_refcnt', '40:ob_type', '48:(values) prefix']);
    expect(l13.requested).toBe(48 + 32 + 30 * 8);
  });
  it('lays out __slots__ members as pointers', () => {
    expect(layout('3.11', 'q')).toEqual({ fields: ['0:_gc_next', '8:_gc_prev', '16:ob_refcnt', '24:ob_type', '32:a', '40:b'], requested: 48 });
  });
});
