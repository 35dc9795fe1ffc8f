/**
 * The heap map's colours (palette.ts): one table for the shader, the legend and the pixel tests,
 * so these pin that every pool state the map must tell apart gets a colour of its own.
 */
import { describe, expect, it } from 'vitest';
import { POOL_ARENA_NOT_LIVE, POOL_EMPTY, POOL_LOST, POOL_NEVER_CARVED, POOL_USED, poolStateValue } from '../../src/core/pymalloc/pool-state';
import {
  blockSizeOf,
  classColor,
  classCount,
  paletteBytes,
  paletteColor,
  paletteRowOfState,
  poolColor,
  PALETTE_ROWS,
  PALETTE_WIDTH,
  ROW_BLOCK_FREE,
  ROW_BLOCK_NEVER,
  ROW_BLOCK_USED,
  ROW_EMPTY_POOL,
  ROW_INVALID,
  ROW_LOST,
  ROW_NEVER_CARVED,
  ROW_NOT_LIVE,
  ROW_RAW_BRK,
  ROW_RAW_MMAP,
  ROW_UI,
  UI_BACKGROUND,
  type Rgb,
  type Theme,
} from '../../src/renderer/src/heapmap/palette';

const key = (c: Rgb): string => c.join(',');

describe('palette', () => {
  it('maps each pool state to its row: fullness for used pools, one row per other status', () => {
    expect(paletteRowOfState(poolStateValue(POOL_USED, 3, 7))).toBe(7);
    expect(paletteRowOfState(poolStateValue(POOL_USED, 3, 15))).toBe(15);
    expect(paletteRowOfState(poolStateValue(POOL_EMPTY, 3))).toBe(ROW_EMPTY_POOL);
    expect(paletteRowOfState(poolStateValue(POOL_NEVER_CARVED))).toBe(ROW_NEVER_CARVED);
    expect(paletteRowOfState(poolStateValue(POOL_LOST))).toBe(ROW_LOST);
    expect(paletteRowOfState(poolStateValue(POOL_ARENA_NOT_LIVE))).toBe(ROW_NOT_LIVE);
    expect(paletteRowOfState(5)).toBe(ROW_INVALID);
  });

  for (const theme of ['dark', 'light'] as Theme[]) {
    it(`${theme}: tells the four pool states without blocks apart from each other and from every used pool`, () => {
      const specials = [
        paletteColor(theme, 16, ROW_NEVER_CARVED, 0),
        paletteColor(theme, 16, ROW_LOST, 0),
        paletteColor(theme, 16, ROW_NOT_LIVE, 0),
        paletteColor(theme, 16, ROW_UI, UI_BACKGROUND),
      ].map(key);
      expect(new Set(specials).size).toBe(4);
      const used = new Set<string>();
      for (let k = 0; k < 32; k++) for (let f = 1; f <= 15; f++) used.add(key(paletteColor(theme, 16, f, k)));
      for (const s of specials) expect(used.has(s)).toBe(false);
    });

    it(`${theme}: shades raw memory in its own colours, never a pool's, a pool state's or the background`, () => {
      const raw = [ROW_RAW_BRK, ROW_RAW_MMAP].flatMap((row) => Array.from({ length: 16 }, (_, x) => paletteColor(theme, 16, row, x)));
      // Level 0 (free memory) is one colour for both kinds; levels 1-15 of each kind all differ.
      expect(key(paletteColor(theme, 16, ROW_RAW_BRK, 0))).toBe(key(paletteColor(theme, 16, ROW_RAW_MMAP, 0)));
      expect(new Set(raw.map(key)).size).toBe(31);
      const others = new Set<string>();
      for (let k = 0; k < 32; k++) for (let row = 0; row <= 15; row++) others.add(key(paletteColor(theme, 16, row, k)));
      for (const row of [ROW_NEVER_CARVED, ROW_LOST, ROW_NOT_LIVE]) others.add(key(paletteColor(theme, 16, row, 0)));
      others.add(key(paletteColor(theme, 16, ROW_UI, UI_BACKGROUND)));
      for (const c of raw) expect(others.has(key(c)), `rgb(${key(c)})`).toBe(false);
      // Full chunks far from every full class colour (max channel difference).
      for (const row of [ROW_RAW_BRK, ROW_RAW_MMAP]) {
        const c = paletteColor(theme, 16, row, 15);
        const nearest = Math.min(...Array.from({ length: 32 }, (_, k) => Math.max(...classColor(theme, 16, k).map((v, i) => Math.abs(v - c[i]!)))));
        expect(nearest).toBeGreaterThan(12);
      }
    });

    it(`${theme}: gives the 32 classes of 16-byte alignment 32 different full-pool colours`, () => {
      const full = new Set(Array.from({ length: 32 }, (_, k) => key(classColor(theme, 16, k))));
      expect(full.size).toBe(32);
    });

    it(`${theme}: shades a used pool from dim (1 block) to its class colour (full), and block states apart`, () => {
      expect(paletteColor(theme, 16, 15, 5)).toEqual(classColor(theme, 16, 5));
      const ramp = Array.from({ length: 15 }, (_, i) => key(paletteColor(theme, 16, i + 1, 5)));
      expect(new Set(ramp).size).toBe(15);
      const blocks = [ROW_BLOCK_USED, ROW_BLOCK_FREE, ROW_BLOCK_NEVER].map((r) => key(paletteColor(theme, 16, r, 5)));
      expect(new Set(blocks).size).toBe(3);
      expect(paletteColor(theme, 16, ROW_BLOCK_USED, 5)).toEqual(classColor(theme, 16, 5));
    });
  }

  it('colours a class by its block size, so 64 bytes looks the same with 8- and 16-byte alignment', () => {
    expect(blockSizeOf(3, 16)).toBe(64);
    expect(blockSizeOf(7, 8)).toBe(64);
    expect(classColor('dark', 8, 7)).toEqual(classColor('dark', 16, 3));
    expect(classCount(16)).toBe(32);
    expect(classCount(8)).toBe(64);
  });

  it('packs the table as opaque RGBA8, row-major, as the shader reads it', () => {
    const bytes = paletteBytes('dark', 16);
    expect(bytes.length).toBe(PALETTE_WIDTH * PALETTE_ROWS * 4);
    const o = (7 * PALETTE_WIDTH + 3) * 4;
    expect(Array.from(bytes.subarray(o, o + 4))).toEqual([...paletteColor('dark', 16, 7, 3), 255]);
    expect(poolColor('dark', 16, poolStateValue(POOL_USED, 3, 7))).toEqual(paletteColor('dark', 16, 7, 3));
    for (let i = 3; i < bytes.length; i += 4) expect(bytes[i]).toBe(255);
  });
});
