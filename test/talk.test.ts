/**
 * Every claim of the talk PyHeap Lab grew from ("Internals of CPython memory", slide text in
 * ../shared/seed), checked in the simulation under the version the talk used (3.7: its slides
 * cite Include/objimpl.h for PyGC_Head, which moved in 3.8) and under 3.13.
 */
import { describe, expect, it } from 'vitest';
import { PythonSession } from '../src/core/python/session';
import { layoutOf } from '../src/core/objects/layout';
import { poolHeaderView } from '../src/core/pymalloc/inspect';

function run(python: string, src: string): { s: PythonSession; out: string[] } {
  const out: string[] = [];
  const s = new PythonSession({ python, print: (t) => out.push(t.trimEnd()) });
  s.run(src);
  return { s, out };
}

for (const python of ['3.7', '3.13']) {
  describe(`the talk's claims on CPython ${python} (x64)`, () => {
    it('"Why number 5 consumes 28 bytes": header 24 bytes + one 30-bit digit of 4 bytes', () => {
      const { out, s } = run(python, 'import sys\nprint(sys.getsizeof(5))\n');
      expect(out).toEqual(['28']);
      const five = s.evaluate('5');
      const L = layoutOf(s.space, five);
      expect(L.fields.map((f) => [f.name, f.offset, f.size])).toEqual([
        ['ob_refcnt', 0, 8],
        ['ob_type', 8, 8],
        [python === '3.7' ? 'ob_size' : 'lv_tag', 16, 8],
        ['ob_digit[0]', 24, 4],
      ]);
      expect(L.fields[3]!.value).toBe(5n);
    });

    it('"Why nothing(!) consumes 16 bytes": None and object() are a bare PyObject', () => {
      const { out } = run(python, 'import sys\nprint(sys.getsizeof(None), sys.getsizeof(object()))\n');
      expect(out).toEqual(['16 16']);
    });

    it('"Interesting fact about int": -5..256 are cached singletons, 257 is not', () => {
      // Typed as console entries, each line is its own code object with its own constants.
      const out: string[] = [];
      const console = new PythonSession({ python, print: (t) => out.push(t.trimEnd()) });
      for (const line of ['a = 256', 'b = 256', 'print(a is b)', 'c = 257', 'd = 257', 'print(c is d)', 'e = 255 + 1', 'f = 256 + 1', 'print(e is a, f is c)']) {
        console.run(line);
      }
      expect(out).toEqual(['True', 'False', 'True False']);
      // In one script, equal constants are one object (the compiler's constant cache).
      const script = run(python, 'c = 257\nd = 257\nprint(c is d)\n');
      expect(script.out).toEqual(['True']);
    });

    it('"Structure of mutable object": a GC header before the object (PyGC_Head)', () => {
      const { out } = run(python, 'import sys\nprint(sys.getsizeof([]) - [].__sizeof__())\nprint(sys.getsizeof(()) - ().__sizeof__())\n');
      const gc = python === '3.7' ? '32' : '16';
      expect(out).toEqual([gc, gc]);
      const { s } = run(python, 'x = [1]\n');
      const created = s.space.events.find((e) => e.kind === 'alloc' && e.what === 'list');
      expect(created).toMatchObject({ domain: 'OBJ', size: Number(gc) + 40 });
    });

    it('"Python memory allocators families": objects through OBJ, list items through MEM', () => {
      const { s } = run(python, 'x = [1000, 2000]\n');
      const allocs = s.space.events.filter((e) => e.kind === 'alloc').map((e) => (e.kind === 'alloc' ? `${e.domain} ${e.size} ${e.what}` : ''));
      expect(allocs).toEqual(['OBJ 28 int', 'OBJ 28 int', `OBJ ${python === '3.7' ? 72 : 56} list`, 'OBJ'.replace('OBJ', 'MEM') + ' 16 list items']);
    });

    it('"Pool header structure": ref, freeblock, nextpool, prevpool, arenaindex, szidx, nextoffset, maxnextoffset', () => {
      const { s } = run(python, 'x = 2**40\n');
      const v = poolHeaderView(s.heap, s.heap.poolId(0, 0));
      expect(v.fields.map((f) => `${f.name}@${f.offset}`)).toEqual([
        'ref.count@0', 'freeblock@8', 'nextpool@16', 'prevpool@24', 'arenaindex@32', 'szidx@36', 'nextoffset@40', 'maxnextoffset@44',
      ]);
      expect(v.fields[0]!.value).toBe(1);
      expect(v.fields[5]!.value).toBe(1); // 32-byte class: (32 / 16) - 1
    });
  });
}
