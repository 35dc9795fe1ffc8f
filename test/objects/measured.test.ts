/**
 * The simulation against measurements made on the real interpreters 3.7-3.13 with
 * scripts/measure-sizes.py (test/fixtures/measured, see its README): sys.getsizeof of 746
 * expressions and scripts, 32 growth/shrink series step by step, and the blocks that a
 * statement's result owns as tracemalloc saw them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonSession } from '../../src/core/python/session';

const VERSIONS = ['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];

interface Measured {
  getsizeof: { expr?: string; script?: string; var?: string; size: number; group: string }[];
  series: (
    | { kind: 'steps'; name: string; setup: string; var: string; initial: { size: number }; phases: { i: [number, number]; step: string; sizes: number[] }[] }
    | { kind: 'fresh'; name: string; setup: string; k: [number, number]; sizes: number[] }
  )[];
  blocks: { setup: string; stmt: string; blocks: [number, number][] }[];
}
function measured(v: string): Measured {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/measured', `measured-${v}.json`), 'utf8')) as Measured;
}

/** The operation each "fresh" series applies to a new container, by series name. */
const FRESH_OPS: Record<string, { make: string; op: string; var: string }> = {
  'list.extend([0]*k) onto []': { make: 'l = []', op: 'l.extend(src)', var: 'l' },
  'dict.update(str-key dict of k) onto {}': { make: 'd = {}', op: 'd.update(src)', var: 'd' },
  'dict.update(int-key dict of k) onto {}': { make: 'd = {}', op: 'd.update(src)', var: 'd' },
  'set.update(range(k)) onto set()': { make: 's = set()', op: 's.update(src)', var: 's' },
  'set.update(set(range(k))) onto set()': { make: 's = set()', op: 's.update(src)', var: 's' },
  'bytearray.extend(b"x" * k) onto bytearray()': { make: 'b = bytearray()', op: 'b.extend(src)', var: 'b' },
};

describe('measured on the real interpreters', () => {
  for (const v of VERSIONS) {
    const m = measured(v);

    it(`${v}: sys.getsizeof of ${m.getsizeof.length} expressions and scripts`, () => {
      const got = m.getsizeof.map((e) => {
        const s = new PythonSession({ python: v });
        try {
          if (e.expr !== undefined) return `${e.expr} = ${s.sizeof(e.expr)}`;
          s.run(e.script!);
          return `${e.script!.replace(/\n/g, '; ')} = ${s.sizeof(e.var!)}`;
        } catch (x) {
          return `${e.expr ?? e.script} = error ${(x as Error).message}`;
        }
      });
      expect(got).toEqual(m.getsizeof.map((e) => `${e.expr ?? e.script!.replace(/\n/g, '; ')} = ${e.size}`));
      expect(m.getsizeof.length).toBe(746);
    });

    it(`${v}: ${m.series.length} growth and shrink series, step by step`, () => {
      let steps = 0;
      for (const x of m.series) {
        if (x.kind === 'steps') {
          const s = new PythonSession({ python: v });
          s.run(x.setup);
          expect([x.name, 'initial', s.sizeof(x.var)]).toEqual([x.name, 'initial', x.initial.size]);
          for (const p of x.phases) {
            p.sizes.forEach((want, k) => {
              s.run(`i = ${p.i[0] + k}\n${p.step}`);
              expect([x.name, p.step, p.i[0] + k, s.sizeof(x.var)]).toEqual([x.name, p.step, p.i[0] + k, want]);
              steps++;
            });
          }
        } else {
          const op = FRESH_OPS[x.name];
          if (op === undefined) throw new Error(`no operation known for fresh series '${x.name}'`);
          x.sizes.forEach((want, j) => {
            const k = x.k[0] + j;
            const s = new PythonSession({ python: v });
            s.run(`k = ${k}\n${x.setup}\n${op.make}\n${op.op}\n`);
            expect([x.name, k, s.sizeof(op.var)]).toEqual([x.name, k, want]);
            steps++;
          });
        }
      }
      expect(steps).toBeGreaterThan(3800);
    });

    it(`${v}: the blocks a statement's result owns (tracemalloc)`, () => {
      for (const b of m.blocks) {
        const s = new PythonSession({ python: v });
        s.run(`x = None\n${b.setup}\n`);
        s.run(b.stmt);
        const x = s.interp.globals.get('x')!;
        const counts = new Map<number, number>();
        for (const n of s.space.ownedBlocks(x)) counts.set(n, (counts.get(n) ?? 0) + 1);
        const got = [...counts].sort((p, q) => p[0] - q[0]);
        expect([b.stmt, got]).toEqual([b.stmt, b.blocks]);
      }
    });
  }
});
