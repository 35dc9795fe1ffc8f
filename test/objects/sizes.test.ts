/**
 * Object sizes against the sys.getsizeof catalogues measured on real CPython 3.7-3.13
 * (test/fixtures/sizes): constructors of the object space, and the growth series (appending
 * to a list, inserting into a dict or set) reproduced step by step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectSpace, type PyObj } from '../../src/core/objects/space';
import { createReplayHeap } from '../../src/core/trace/replay';

interface Catalogue {
  entries: { expr: string; getsizeof: number }[];
  series: Record<string, { n: number; getsizeof: number }[]>;
}

const VERSIONS = ['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];
function catalogue(v: string): Catalogue {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/sizes', `sizes-${v}.json`), 'utf8')) as Catalogue;
}
function space(python: string): ObjectSpace {
  return new ObjectSpace(createReplayHeap({ python }));
}

/** Catalogue expressions built directly with the object space's constructors. */
const BUILDERS: Record<string, (s: ObjectSpace) => PyObj> = {
  '0': (s) => s.int(0n),
  '1': (s) => s.int(1n),
  '257': (s) => s.int(257n),
  '-1': (s) => s.int(-1n),
  '2**30-1': (s) => s.int(2n ** 30n - 1n),
  '2**30': (s) => s.int(2n ** 30n),
  '-2**30': (s) => s.int(-(2n ** 30n)),
  '2**60': (s) => s.int(2n ** 60n),
  '2**100': (s) => s.int(2n ** 100n),
  '10**100': (s) => s.int(10n ** 100n),
  True: (s) => s.bool(true),
  False: (s) => s.bool(false),
  None: (s) => s.None,
  '...': (s) => s.Ellipsis,
  '1.5': (s) => s.float(1.5),
  '1+2j': (s) => s.complex(1, 2),
  "''": (s) => s.str(''),
  "'a'": (s) => s.str('a'),
  "'abcdefg'": (s) => s.str('abcdefg'),
  "'a'*1000": (s) => s.str('a'.repeat(1000)),
  "'\\xe9'": (s) => s.str('\xe9'),
  "'\\xe9'*2": (s) => s.str('\xe9\xe9'),
  "'\\u20ac'*10": (s) => s.str('\u20ac'.repeat(10)),
  "'\\U0001F600'": (s) => s.str('\u{1F600}'),
  "'\\U0001F600'*100": (s) => s.str('\u{1F600}'.repeat(100)),
  "b''": (s) => s.bytes(new Uint8Array(0)),
  "b'a'*100": (s) => s.bytes(new Uint8Array(100)),
  'bytearray()': (s) => s.bytearray(new Uint8Array(0)),
  'bytearray(10)': (s) => s.bytearray(new Uint8Array(10)),
  '(1, 2, 3)': (s) => s.tuple([s.int(1n), s.int(2n), s.int(3n)]),
  'tuple(range(100))': (s) => s.tuple(Array.from({ length: 100 }, (_, i) => s.int(BigInt(i)))),
  'list()': (s) => s.list(),
  '[None]*10': (s) => s.listExact(Array.from({ length: 10 }, () => s.None)),
  'object()': (s) => s.object(),
  'range(10)': (s) => s.range(0n, 10n, 1n),
  'set()': (s) => s.set(),
  'frozenset()': (s) => s.set('frozenset'),
};

describe('sys.getsizeof of objects built by the object space', () => {
  for (const v of VERSIONS) {
    const cat = catalogue(v);
    it(`${v}: matches the measured catalogue`, () => {
      const s = space(v);
      let checked = 0;
      for (const [expr, build] of Object.entries(BUILDERS)) {
        const e = cat.entries.find((x) => x.expr === expr);
        if (!e) throw new Error(`${v}: no catalogue entry for ${expr}`);
        expect([expr, s.sizeOf(build(s))]).toEqual([expr, e.getsizeof]);
        checked++;
      }
      expect(checked).toBe(Object.keys(BUILDERS).length);
    });
  }
});

describe('growth series', () => {
  for (const v of VERSIONS) {
    const cat = catalogue(v);
    it(`${v}: list.append, dict insertion (str and int keys), set.add, str and bytes of n`, () => {
      const s = space(v);
      const l = s.list();
      const seriesList = cat.series['list_append']!;
      for (const { n, getsizeof } of seriesList) {
        while (l.items.length < n) s.listAppend(l, s.None);
        expect([n, s.sizeOf(l)]).toEqual([n, getsizeof]);
      }
      const ds = s.dict();
      for (const { n, getsizeof } of cat.series['dict_insert_str']!) {
        while (ds.keys.length < n) s.dictSet(ds, s.str(`k${ds.keys.length}_`), s.None);
        expect([n, s.sizeOf(ds)]).toEqual([n, getsizeof]);
      }
      const di = s.dict();
      for (const { n, getsizeof } of cat.series['dict_insert_int']!) {
        while (di.keys.length < n) s.dictSet(di, s.int(BigInt(di.keys.length)), s.None);
        expect([n, s.sizeOf(di)]).toEqual([n, getsizeof]);
      }
      const st = s.set();
      for (const { n, getsizeof } of cat.series['set_add']!) {
        while (st.items.length < n) s.setAdd(st, s.int(BigInt(st.items.length)));
        expect([n, s.sizeOf(st)]).toEqual([n, getsizeof]);
      }
      for (const { n, getsizeof } of cat.series['str_ascii_n']!) expect([n, s.sizeOf(s.str('x'.repeat(n)))]).toEqual([n, getsizeof]);
      for (const { n, getsizeof } of cat.series['bytes_n']!) expect([n, s.sizeOf(s.bytes(new Uint8Array(n)))]).toEqual([n, getsizeof]);
      for (const { n, getsizeof } of cat.series['tuple_n']!) {
        expect([n, s.sizeOf(s.tuple(Array.from({ length: n }, () => s.None)))]).toEqual([n, getsizeof]);
      }
      const ba = s.bytearray(new Uint8Array(0));
      for (const { n, getsizeof } of cat.series['bytearray_append']!) {
        while (ba.value.length < n) s.bytearrayResize(ba, new Uint8Array(ba.value.length + 1));
        expect([n, s.sizeOf(ba)]).toEqual([n, getsizeof]);
      }
      for (const { n, getsizeof } of cat.series['int_2pow_30n']!) expect([n, s.sizeOf(s.int(2n ** BigInt(30 * n)))]).toEqual([n, getsizeof]);
    });
  }
});
