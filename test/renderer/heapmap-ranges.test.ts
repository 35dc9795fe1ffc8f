/** Range helpers the heap map uploads by (ranges.ts). */
import { describe, expect, it } from 'vitest';
import { coalesceRanges, rangesContain } from '../../src/renderer/src/heapmap/ranges';

describe('coalesceRanges', () => {
  it('sorts, clips to the array and merges ranges less than a gap apart', () => {
    expect(
      coalesceRanges(
        [
          { start: 5000, end: 5002 },
          { start: 10, end: 12 },
          { start: 2000, end: 2001 },
          { start: -5, end: 3 },
          { start: 9000, end: 9500 },
        ],
        2048,
        9100,
      ),
    ).toEqual([
      { start: 0, end: 2001 },
      { start: 5000, end: 5002 },
      { start: 9000, end: 9100 },
    ]);
  });

  it('keeps ranges exactly a gap apart separate, and drops empty ones', () => {
    expect(coalesceRanges([{ start: 0, end: 1 }, { start: 2049, end: 2050 }, { start: 7, end: 7 }], 2048, 1e9)).toEqual([
      { start: 0, end: 1 },
      { start: 2049, end: 2050 },
    ]);
  });
});

describe('rangesContain', () => {
  it('finds slots in ascending disjoint ranges, half-open', () => {
    const r = [
      { start: 3, end: 5 },
      { start: 10, end: 11 },
      { start: 100, end: 200 },
    ];
    expect([2, 3, 4, 5, 9, 10, 11, 99, 100, 199, 200].map((s) => rangesContain(r, s))).toEqual([
      false, true, true, false, false, true, false, false, true, true, false,
    ]);
    expect(rangesContain([], 0)).toBe(false);
  });
});
