/**
 * CPython 3.14, for which no measured catalogue exists here: its differences from 3.13 as
 * cpython-facts.md states them (tuple's cached hash, the int free list, immortal refcounts of
 * 3 << 30), everything else as 3.13.
 */
import { describe, expect, it } from 'vitest';
import { PythonSession } from '../../src/core/python/session';
import { layoutOf } from '../../src/core/objects/layout';

describe('CPython 3.14', () => {
  it('adds 8 bytes to every tuple for its cached hash (ob_hash)', () => {
    const s14 = new PythonSession({ python: '3.14' });
    const s13 = new PythonSession({ python: '3.13' });
    for (const e of ['()', '(1,)', '(1, 2, 3)', 'tuple(range(100))']) expect(s14.sizeof(e)).toBe(s13.sizeof(e) + 8);
    expect(s14.sizeof('(1, 2, 3)')).toBe(72);
    const t = s14.evaluate('(1000, 2000)');
    expect(layoutOf(s14.space, t).fields.map((f) => f.name)).toEqual(['_gc_next', '_gc_prev', 'ob_refcnt', 'ob_type', 'ob_size', 'ob_hash', 'ob_item[0]', 'ob_item[1]']);
  });

  it('keeps everything else as 3.13', () => {
    const s14 = new PythonSession({ python: '3.14' });
    const s13 = new PythonSession({ python: '3.13' });
    for (const e of ['5', '0', '2**100', "''", "'abc'", "'\\u20ac'", '[]', '[1, 2, 3]', '{}', "{'a': 1}", 'set()', 'object()', '1.5', 'b"ab"']) {
      expect([e, s14.sizeof(e)]).toEqual([e, s13.sizeof(e)]);
    }
  });

  it('reuses one-digit ints from its int free list (up to 100); 3.13 has none', () => {
    const reuse = (python: string): boolean[] => {
      const s = new PythonSession({ python });
      s.run('a = 1000 * 3\ndel a\n');
      return s.run('b = 2000 * 3\n').flatMap((e) => (e.kind === 'create' && e.type === 'int' ? [e.freelist] : []));
    };
    // The folded constants 3000 and 6000 are created first; on 3.14 the 3000 freed with the
    // first statement's code object is reused for 6000.
    expect(reuse('3.14')).toEqual([true]);
    expect(reuse('3.13')).toEqual([false]);
  });

  it('shows immortal objects with the 3.14 initial refcount 3 << 30', () => {
    const s = new PythonSession({ python: '3.14' });
    const none = s.evaluate('None');
    expect(layoutOf(s.space, none).fields[0]!.value).toBe(`${3 << 30} (immortal)`);
    const s13 = new PythonSession({ python: '3.13' });
    expect(layoutOf(s13.space, s13.evaluate('None')).fields[0]!.value).toBe(`${0xffffffff} (immortal)`);
  });
});
