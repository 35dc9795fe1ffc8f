/**
 * The simulation against the real allocators: every golden dump (CPython 3.7, 3.8, 3.9, 3.11,
 * from ../shared/golden) and every oracle fuzz dump (3.7-3.11, made with
 * tools/pymalloc-oracle) must be reproduced byte for byte, at every arena-offset pattern.
 * 3.10 and 3.12-3.14 run the 3.11 algorithm with the 3.11 geometry, so they must print the
 * 3.11 files too.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayText } from '../../src/core/trace/replay';

const FIX = join(__dirname, '../fixtures');

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

const GOLDEN: { dir: string; versions: string[]; offTag: string; off: number }[] = [
  { dir: 'pymalloc-3.7', versions: ['3.7'], offTag: 'off2048', off: 2048 },
  { dir: 'pymalloc-3.8', versions: ['3.8'], offTag: 'off2048', off: 2048 },
  { dir: 'pymalloc-3.9', versions: ['3.9'], offTag: 'off2048', off: 2048 },
  { dir: 'pymalloc-3.11', versions: ['3.10', '3.11', '3.12', '3.13', '3.14'], offTag: 'off4096', off: 4096 },
];

describe('golden dumps of the real allocators', () => {
  for (const g of GOLDEN) {
    const dir = join(FIX, 'golden', g.dir);
    const traces = readdirSync(dir).filter((f) => f.endsWith('.trace')).sort();
    it(`${g.dir} has its traces`, () => {
      expect(traces.length).toBe(11);
    });
    for (const name of traces) {
      const base = name.slice(0, -'.trace'.length);
      const trace = read(join(dir, name));
      for (const python of g.versions) {
        it(`${python} ${base} offset 0`, () => {
          expect(replayText(trace, { python, arenaOffsets: [0], internals: true })).toBe(read(join(dir, `${base}.out`)));
        });
        it(`${python} ${base} offset ${g.off}`, () => {
          expect(replayText(trace, { python, arenaOffsets: [g.off], internals: true })).toBe(
            read(join(dir, `${base}.${g.offTag}.out`)),
          );
        });
      }
    }
  }
});

describe('oracle fuzz dumps (random traces, 3.7-3.11)', () => {
  const dir = join(FIX, 'oracle');
  const mixr: Record<string, number[]> = {
    '3.7': [2048, 8192, 0, 4096],
    '3.8': [2048, 8192, 0, 4096],
    '3.9': [2048, 8192, 0, 4096],
    '3.10': [4096, 8192, 12288, 0],
    '3.11': [4096, 8192, 12288, 0],
  };
  const outs = readdirSync(dir).filter((f) => f.endsWith('.out')).sort();
  it('has the fixture set', () => {
    expect(outs.length).toBe(42);
  });
  for (const out of outs) {
    const m = /^(.*)\.(3\.\d+)\.(off0|offmixr)\.out$/.exec(out);
    if (!m) throw new Error(`unexpected fixture name ${out}`);
    const [, base, python, tag] = m as unknown as [string, string, string, string];
    it(`${python} ${base} ${tag}`, () => {
      const trace = read(join(dir, `${base}.trace`));
      const offsets = tag === 'off0' ? [0] : mixr[python]!;
      expect(replayText(trace, { python, arenaOffsets: offsets, internals: true })).toBe(read(join(dir, out)));
    });
  }
});
