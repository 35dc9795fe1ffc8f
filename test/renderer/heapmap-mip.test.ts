/**
 * The heap map's choice of mip levels (shaders.ts mipLevels): which two reduced levels of the
 * world cache a zoomed-out frame reads, and how it mixes them. The pixels are checked in
 * test/e2e/heapmap.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { mipLevels } from '../../src/renderer/src/heapmap/shaders';

describe('mipLevels', () => {
  it('reads the level whose texel is the pixel, exactly at powers of two', () => {
    expect(mipLevels(1, 10)).toEqual({ k0: 0, k1: 1, t: 0 });
    expect(mipLevels(2, 10)).toEqual({ k0: 1, k1: 2, t: 0 });
    expect(mipLevels(4, 10)).toEqual({ k0: 2, k1: 3, t: 0 });
  });

  it('mixes the two levels around the pixel by the fraction of the level between them', () => {
    const m = mipLevels(3, 10);
    expect([m.k0, m.k1]).toEqual([1, 2]);
    expect(m.t).toBeCloseTo(Math.log2(3) - 1, 12);
  });

  it('stops at the last level (1x1), and treats less than a pool a pixel as level 0', () => {
    expect(mipLevels(5000, 10)).toEqual({ k0: 10, k1: 10, t: 0 });
    expect(mipLevels(1500, 10)).toEqual({ k0: 10, k1: 10, t: 0 });
    expect(mipLevels(0.5, 10)).toEqual({ k0: 0, k1: 1, t: 0 });
    expect(mipLevels(3, 0)).toEqual({ k0: 0, k1: 0, t: 0 });
  });
});
