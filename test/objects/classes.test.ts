/**
 * Classes and their instances against the catalogues measured on real 3.7-3.13: getsizeof of
 * instances and of the class objects, and the blocks one instance occupies (tracemalloc).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonSession } from '../../src/core/python/session';

const VERSIONS = ['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];
const CLASSES = `
class Plain:
    pass
class PlainInit:
    def __init__(self):
        self.a = 1
        self.b = 2
class Slots2:
    __slots__ = ('a', 'b')
class Slots0:
    __slots__ = ()
class SlotsWithDict:
    __slots__ = ('a', '__dict__')
`;

interface Catalogue {
  entries: { expr: string; getsizeof: number }[];
  traced_alloc_bytes: Record<string, { blocks: number[] }>;
}
function catalogue(v: string): Catalogue {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/sizes', `sizes-${v}.json`), 'utf8')) as Catalogue;
}

describe('instances and classes', () => {
  for (const v of VERSIONS) {
    it(`${v}: sys.getsizeof of instances and classes agrees with the real interpreter`, () => {
      const cat = catalogue(v);
      const s = new PythonSession({ python: v });
      s.run(CLASSES);
      const exprs = ['Plain()', 'PlainInit()', 'Slots2()', 'Slots0()', 'SlotsWithDict()', 'Plain', 'Slots2'];
      const want = exprs.map((e) => `${e} = ${cat.entries.find((x) => x.expr === e)!.getsizeof}`);
      expect(exprs.map((e) => `${e} = ${s.sizeof(e)}`)).toEqual(want);
      for (let n = 1; n <= 5; n++) {
        s.run(`p = Plain()\n${Array.from({ length: n }, (_, i) => `p.x${i} = ${i}`).join('\n')}\n`);
        expect(s.sizeof('p')).toBe(cat.entries.find((x) => x.expr === `Plain() with ${n} attrs`)!.getsizeof);
      }
      s.run('q = Slots2()\nq.a = 1\nq.b = 2\n');
      expect(s.sizeof('q')).toBe(cat.entries.find((x) => x.expr === 'Slots2() with a,b set')!.getsizeof);
    });

    it(`${v}: one PlainInit() occupies the blocks tracemalloc saw`, () => {
      const cat = catalogue(v);
      const s = new PythonSession({ python: v });
      s.run(CLASSES);
      // The measurement ran after many instances: on 3.11+ the shared keys' usable count has
      // shrunk to 1 by then.
      s.run('keep = [PlainInit() for i in range(40)]\n');
      const ev = s.run('x = PlainInit()\n');
      // tracemalloc reports the requested sizes.
      const sizes = ev.flatMap((e) => (e.kind === 'alloc' ? [e.size] : [])).sort((a, b) => a - b);
      expect(sizes).toEqual([...cat.traced_alloc_bytes['PlainInit() (2 attrs in __init__)']!.blocks].sort((a, b) => a - b));
    });
  }
});

describe('single inheritance and __slots__ (measured with scripts/measure-subclasses.py)', () => {
  const measuredSub = JSON.parse(readFileSync(join(__dirname, '../fixtures/measured/subclasses.json'), 'utf8')) as Record<string, Record<string, number>>;
  const src = readFileSync(join(__dirname, '../../scripts/measure-subclasses.py'), 'utf8');
  const classes = src.slice(src.indexOf('class A:'), src.indexOf('out = {}'));
  for (const v of VERSIONS) {
    it(`${v}: instances and classes of subclasses`, () => {
      const s = new PythonSession({ python: v });
      s.run(classes);
      const want = measuredSub[v]!;
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, s.sizeof(k)]));
      expect(got).toEqual(want);
    });
  }
  it('inherits methods and __init__ through the bases', () => {
    const out: string[] = [];
    const s = new PythonSession({ python: '3.12', print: (t) => out.push(t.trimEnd()) });
    s.run('class A:\n    def __init__(self, v):\n        self.v = v\n    def get(self):\n        return self.v\nclass B(A):\n    def twice(self):\n        return self.get() * 2\nb = B(21)\nprint(b.twice(), b.get())\n');
    expect(out).toEqual(['42 21']);
  });
});

describe('__dict__ of managed-dict instances (3.11+)', () => {
  it('materializes one dict object that shares the keys and takes over the values', () => {
    for (const [python, dictBlocks] of [['3.11', 64], ['3.12', 64], ['3.13', 64]] as const) {
      const s = new PythonSession({ python });
      s.run('class P:\n    def __init__(self):\n        self.a = 1\n        self.b = 2\nkeep = [P() for i in range(40)]\np = P()\n');
      const before = s.sizeof('p');
      const ev = s.run('d = p.__dict__\n');
      // The only allocation is the dict object itself (48 bytes + GC header).
      expect(ev.flatMap((e) => (e.kind === 'alloc' ? [`${e.size} ${e.what}`] : []))).toEqual([`${dictBlocks} dict`]);
      // Split table: 48 + one pointer per value slot (2 names + usable 1 after 41 instances).
      expect(s.sizeof('d')).toBe(48 + 16 + 3 * 8);
      expect(s.sizeof('p')).toBe(before);
      const out: string[] = [];
      const s2 = new PythonSession({ python, print: (t) => out.push(t.trimEnd()) });
      s2.run('class P:\n    pass\np = P()\np.x = 5\nd = p.__dict__\nd["y"] = 6\nprint(p.x, p.y, len(d))\n');
      expect(out).toEqual(['5 6 2']);
    }
  });
});

describe('iterator objects (measured with scripts/measure-iterators.py)', () => {
  const m = JSON.parse(readFileSync(join(__dirname, '../fixtures/measured/iterators.json'), 'utf8')) as Record<string, Record<string, [number, boolean, string, number]>>;
  for (const v of VERSIONS) {
    it(`${v}: size, GC tracking and type of every iterator kind`, () => {
      const s = new PythonSession({ python: v });
      const want = m[v]!;
      const got = Object.fromEntries(
        Object.keys(want).map((expr) => {
          const o = s.evaluate(expr);
          const r = [s.space.sizeOf(o), o.gcTracked, (o as { kind?: string }).kind ?? o.type, s.space.basicSizeOf(o)];
          s.drop(o);
          return [expr, r];
        }),
      );
      expect(got).toEqual(want);
    });
  }
  it('a for loop allocates its iterator and frees it when the loop ends', () => {
    const s = new PythonSession({ python: '3.12' });
    s.run('x = [1000, 2000]\n');
    const ev = s.run('for y in x:\n    pass\n').filter((e) => e.kind === 'create' || e.kind === 'destroy');
    expect(ev.map((e) => `${e.kind} ${'type' in e ? e.type : ''}`)).toEqual(['create list_iterator', 'destroy list_iterator']);
  });
});

describe('method objects', () => {
  it('exist only when a bound method is loaded as a value, not for calls (LOAD_METHOD)', () => {
    for (const [python, bm, pm] of [['3.7', 80, 72], ['3.11', 72, 64]] as const) {
      const s = new PythonSession({ python });
      s.run('class A:\n    def f(self):\n        return 1\na = A()\nx = []\n');
      // (The append allocates the list's item array; no method object.)
      expect(s.run('x.append(1)\ny = a.f()\n').flatMap((e) => (e.kind === 'alloc' ? [e.what] : []))).toEqual(['list items']);
      const ev = s.run('m = x.append\nn = a.f\n').flatMap((e) => (e.kind === 'alloc' ? [`${e.size} ${e.what}`] : []));
      expect(ev).toEqual([`${bm} builtin_function_or_method`, `${pm} method`]);
      expect([s.sizeof('m'), s.sizeof('n'), s.sizeof('len')]).toEqual([bm, pm, bm]);
    }
  });
  it('reuses freed method objects from the free list up to 3.8, not in 3.9-3.13', () => {
    const reused = (python: string): boolean[] => {
      const s = new PythonSession({ python });
      s.run('x = []\nm = x.append\ndel m\n');
      return s.run('m2 = x.append\n').flatMap((e) => (e.kind === 'create' ? [e.freelist] : []));
    };
    expect(reused('3.8')).toEqual([true]);
    expect(reused('3.9')).toEqual([false]);
  });
});
