/**
 * `sys.getsizeof` of every catalogue expression in the supported subset, evaluated by the
 * Python front end in a session, against the values measured on real CPython 3.7-3.13.
 * 3.14 has no measured catalogue; its rules come from cpython-facts.md and are pinned in
 * sizes314.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonSession } from '../../src/core/python/session';

interface Entry {
  expr: string;
  type: string;
  getsizeof: number;
  gc_tracked: boolean;
  gc_tracked_after_collect: boolean;
}
const VERSIONS = ['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];
/** The types of the subset whose objects the simulation builds. */
const SUPPORTED_TYPES = new Set([
  'int', 'bool', 'NoneType', 'ellipsis', 'NotImplementedType', 'float', 'complex', 'str', 'bytes',
  'bytearray', 'tuple', 'list', 'dict', 'set', 'frozenset', 'object', 'range', 'slice',
  'list_iterator', 'tuple_iterator', 'list_reverseiterator', 'function', 'builtin_function_or_method',
]);

function entries(v: string): Entry[] {
  const d = JSON.parse(readFileSync(join(__dirname, '../fixtures/sizes', `sizes-${v}.json`), 'utf8')) as { entries: Entry[] };
  // Instances of user classes and their __dict__ come with class support (not yet).
  return d.entries.filter((e) => SUPPORTED_TYPES.has(e.type) && !/Plain|Slots|Fresh/.test(e.expr));
}

describe('sys.getsizeof of the measured catalogues', () => {
  for (const v of VERSIONS) {
    it(`${v}: every supported expression agrees with the real interpreter`, () => {
      const s = new PythonSession({ python: v });
      s.run('def func():\n    pass\n');
      const list = entries(v);
      const got = list.map((e) => {
        try {
          return `${e.expr} = ${s.sizeof(e.expr)}`;
        } catch (x) {
          return `${e.expr} = error ${(x as Error).message}`;
        }
      });
      expect(got).toEqual(list.map((e) => `${e.expr} = ${e.getsizeof}`));
      // gc.is_tracked, before and after a collection (tuples and dicts of atoms get untracked).
      const tracking = list.map((e) => {
        const o = s.evaluate(e.expr);
        const before = o.gcTracked;
        s.space.collectGarbage();
        const after = o.gcTracked;
        s.drop(o);
        return `${e.expr}: ${before} ${after}`;
      });
      expect(tracking).toEqual(list.map((e) => `${e.expr}: ${e.gc_tracked} ${e.gc_tracked_after_collect}`));
      expect(list.length).toBe(119);
    });
  }
});
