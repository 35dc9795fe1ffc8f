/**
 * The heap map's layout and view arithmetic (src/renderer/src/heapmap/layout.ts): where every
 * pool sits, what the pointer is over, and how pan and zoom move the view. The fragment shader
 * restates the same formulas; test/e2e/heapmap.test.ts checks the two agree on pixels.
 */
import { describe, expect, it } from 'vitest';
import {
  arenaOrder,
  arenaRect,
  atlasKey,
  BLOCK_ATLAS_SIDE,
  blockAt,
  blockGrid,
  blockGridCode,
  blockRectInPool,
  blocksVisible,
  clampView,
  fitView,
  hitTest,
  isEmptyLayout,
  makeLayout,
  mergeRects,
  panBy,
  poolGridPos,
  poolRect,
  sameLayout,
  screenToWorld,
  shaderOrigin,
  slotRangeRects,
  viewOfRect,
  visibleSlots,
  worldTexels,
  worldToScreen,
  zoomAt,
  zoomLimits,
  type View,
} from '../../src/renderer/src/heapmap/layout';

describe('makeLayout', () => {
  it('tiles 64 pools as 8 x 8 with a one-pool gap, rows about 1.6 times as wide as tall', () => {
    const L = makeLayout(16384, 64);
    expect([L.cols, L.rows, L.pitchX, L.pitchY]).toEqual([8, 8, 9, 9]);
    // round(sqrt(16384 * 1.6)) = round(161.9) = 162 arenas a row, ceil(16384 / 162) = 102 rows.
    expect(L.arenasPerRow).toBe(162);
    expect(L.tileRows).toBe(102);
    expect([L.width, L.height]).toEqual([162 * 9 - 1, 102 * 9 - 1]);
    expect(worldTexels(L)).toEqual({ width: 1457, height: 917 });
  });

  it('follows the aspect it is given, and never puts more arenas in a row than there are', () => {
    expect(makeLayout(100, 64, 1).arenasPerRow).toBe(10);
    expect(makeLayout(100, 64, 4).arenasPerRow).toBe(20);
    expect(makeLayout(3, 64, 100).arenasPerRow).toBe(3);
    const empty = makeLayout(0, 64);
    expect([empty.arenasPerRow, empty.tileRows, empty.width, empty.height]).toEqual([1, 0, 0, 0]);
  });

  it('handles pool counts that are not squares (63 pools: 8 x 8 with one hole)', () => {
    const L = makeLayout(4, 63, 1);
    expect([L.cols, L.rows]).toEqual([8, 8]);
    // The 64th cell of arena 0's tile holds no pool: a hit there is the arena.
    expect(hitTest(L, 7.5, 7.5)).toEqual({ kind: 'arena', arena: 0 });
  });

  it('refuses gaps that would not be whole texels of the world cache', () => {
    expect(() => makeLayout(4, 64, 1.6, 0.5)).toThrow(RangeError);
    expect(() => makeLayout(4, 0)).toThrow(RangeError);
  });
});

describe('pool positions and hit tests', () => {
  const L = makeLayout(10, 64, 1.6); // 4 arenas a row, 3 rows

  it('places slot = arena * 64 + ordinal row-major inside its arena tile', () => {
    expect(L.arenasPerRow).toBe(4);
    // Arena 5 is tile (1, 1); ordinal 10 is column 2, row 1 of the tile.
    expect(poolRect(L, 5 * 64 + 10)).toEqual({ x: 9 + 2, y: 9 + 1, width: 1, height: 1 });
    expect(arenaRect(L, 5)).toEqual({ x: 9, y: 9, width: 8, height: 8 });
    expect(poolGridPos(L, 5 * 64 + 10)).toEqual({ gx: 8 + 2, gy: 8 + 1 });
  });

  it('finds every slot back from the middle of its square, with the position inside it', () => {
    for (let slot = 0; slot < 10 * 64; slot++) {
      const r = poolRect(L, slot);
      const hit = hitTest(L, r.x + 0.25, r.y + 0.75);
      expect(hit).toEqual({ kind: 'pool', arena: Math.floor(slot / 64), ordinal: slot % 64, slot, fx: 0.25, fy: 0.75 });
    }
  });

  it('hits nothing in the gaps, left of or above the map, or past the last arena', () => {
    expect(hitTest(L, 8.5, 3)).toBeNull(); // the gap column after the first tile
    expect(hitTest(L, 3, 8.5)).toBeNull(); // the gap row
    expect(hitTest(L, -0.1, 3)).toBeNull();
    expect(hitTest(L, 3, -0.1)).toBeNull();
    expect(hitTest(L, 2 * 9 + 3, 2 * 9 + 3)).toBeNull(); // tile (2, 2) would be arena 10
    expect(hitTest(L, 4 * 9 + 1, 1)).toBeNull(); // past the last tile of a row
    expect(hitTest(L, 1 * 9 + 3, 2 * 9 + 3)).toMatchObject({ kind: 'pool', arena: 9 });
  });
});

describe('blocks', () => {
  it('grids blocks as close to square as possible', () => {
    // 1,021 16-byte blocks of a 16 KiB pool (3.13), 255 64-byte ones, 63 of 64 bytes in 4 KiB.
    expect(blockGrid(1021)).toEqual({ cols: 32, rows: 32 });
    expect(blockGrid(255)).toEqual({ cols: 16, rows: 16 });
    expect(blockGrid(63)).toEqual({ cols: 8, rows: 8 });
    expect(blockGrid(64)).toEqual({ cols: 8, rows: 8 });
    expect(blockGrid(65)).toEqual({ cols: 9, rows: 8 });
    expect(blockGrid(7)).toEqual({ cols: 3, rows: 3 });
    expect(blockGrid(2)).toEqual({ cols: 2, rows: 1 });
    expect(blockGrid(1)).toEqual({ cols: 1, rows: 1 });
  });

  it('has rows equal to columns or one fewer, so the grid fits the world cache alpha code', () => {
    for (let cap = 1; cap <= 1022; cap++) {
      const { cols, rows } = blockGrid(cap);
      expect(cols * rows).toBeGreaterThanOrEqual(cap);
      expect(cols * (rows - 1)).toBeLessThan(cap);
      expect([cols, cols - 1]).toContain(rows);
      const code = blockGridCode(cap);
      expect(code).toBeGreaterThan(0);
      expect(code).toBeLessThan(255);
      expect(code >> 1).toBe(cols);
      expect((code >> 1) - 1 + (code & 1)).toBe(rows);
    }
  });

  it('maps a point in a pool to its block and back', () => {
    // 65 blocks: 9 columns, 8 rows; block 64 is the first of the last row, the rest is past the end.
    expect(blockAt(65, 0.01, 0.01)).toBe(0);
    expect(blockAt(65, 0.99, 0.01)).toBe(8);
    expect(blockAt(65, 0.05, 0.99)).toBe(63);
    expect(blockAt(65, 0.12, 0.99)).toBe(64);
    expect(blockAt(65, 0.5, 0.99)).toBe(-1);
    expect(blockAt(0, 0.5, 0.5)).toBe(-1);
    for (const cap of [1, 7, 63, 255, 1021]) {
      for (let b = 0; b < cap; b += 7) {
        const r = blockRectInPool(cap, b);
        expect(blockAt(cap, r.x + r.width / 2, r.y + r.height / 2)).toBe(b);
      }
    }
  });

  it('keys the atlas so any 32 x 32 window of pools gets distinct rows', () => {
    for (const [x0, y0] of [
      [0, 0],
      [17, 5],
      [1000, 333],
    ] as const) {
      const keys = new Set<number>();
      for (let y = y0; y < y0 + BLOCK_ATLAS_SIDE; y++) for (let x = x0; x < x0 + BLOCK_ATLAS_SIDE; x++) keys.add(atlasKey(x, y));
      expect(keys.size).toBe(BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE);
    }
  });

  it('shows blocks only when few enough pools are on screen for the atlas', () => {
    const vp = { width: 1280, height: 800 };
    expect(blocksVisible({ x: 0, y: 0, scale: 95 }, vp)).toBe(false);
    expect(blocksVisible({ x: 0, y: 0, scale: 96 }, vp)).toBe(true);
    // A 4K-wide viewport needs bigger pools: 3840 / 30 = 128 px.
    expect(blocksVisible({ x: 0, y: 0, scale: 127 }, { width: 3840, height: 2000 })).toBe(false);
    expect(blocksVisible({ x: 0, y: 0, scale: 128 }, { width: 3840, height: 2000 })).toBe(true);
    // Whenever blocks show, the pools on screen fit in one atlas window.
    const L = makeLayout(16384, 64, 1.6);
    for (const scale of [96, 100, 150]) {
      const v = { x: 700.3, y: 400.6, scale };
      if (!blocksVisible(v, vp)) continue;
      const keys = visibleSlots(L, v, vp, 1 << 20).map((s) => {
        const { gx, gy } = poolGridPos(L, s);
        return atlasKey(gx, gy);
      });
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});

describe('view', () => {
  const L = makeLayout(16384, 64, 1.6);
  const vp = { width: 1280, height: 800 };

  it('fits the whole map with a margin, centred', () => {
    const v = fitView(L, vp, 8);
    expect(v.scale).toBeCloseTo(Math.min(1264 / 1457, 784 / 917), 12);
    const tl = worldToScreen(v, 0, 0);
    const br = worldToScreen(v, L.width, L.height);
    expect((tl.x + br.x) / 2).toBeCloseTo(640, 9);
    expect((tl.y + br.y) / 2).toBeCloseTo(400, 9);
    expect(Math.min(tl.x, tl.y)).toBeCloseTo(8, 9);
  });

  it('zooms about the cursor: the world point under it stays put', () => {
    const v: View = { x: 100.25, y: 50.5, scale: 3 };
    const lim = zoomLimits(L, vp);
    const before = screenToWorld(v, 333, 222);
    const z = zoomAt(v, 333, 222, 1.5, lim);
    expect(z.scale).toBe(4.5);
    const after = screenToWorld(z, 333, 222);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
  });

  it('stops zooming at the limits: half the fit scale, and a pool 16 viewports wide', () => {
    const lim = zoomLimits(L, vp);
    const fit = fitView(L, vp).scale;
    expect(lim.min).toBeCloseTo(fit / 2, 12);
    expect(lim.max).toBe(16 * 800);
    const v: View = { x: 700, y: 400, scale: 12000 };
    expect(zoomAt(v, 10, 10, 4, lim).scale).toBe(12800);
    expect(zoomAt({ ...v, scale: 0.5 }, 10, 10, 0.1, lim).scale).toBeCloseTo(fit / 2, 12);
    // A tiny heap still zooms in: the maximum is never below the fit.
    const small = makeLayout(1, 64);
    const sl = zoomLimits(small, { width: 100, height: 100 });
    expect(sl.max).toBeGreaterThanOrEqual(fitView(small, { width: 100, height: 100 }).scale);
  });

  it('pans with the drag: content follows the pointer', () => {
    const v: View = { x: 10, y: 20, scale: 4 };
    const p = panBy(v, 40, -8);
    expect(p).toEqual({ x: 0, y: 22, scale: 4 });
    expect(worldToScreen(p, 15, 25).x - worldToScreen(v, 15, 25).x).toBe(40);
  });

  it('clamps panning so at least 48 px of the map stays on screen', () => {
    const v = clampView({ x: 5000, y: -5000, scale: 2 }, L, vp);
    // x: the map's right edge 48 px inside the screen's left edge; y: its top 48 px above the bottom.
    expect(v.x).toBe(L.width - 24);
    expect(v.y).toBe(-800 / 2 + 24);
    const inside: View = { x: 100, y: 100, scale: 2 };
    expect(clampView(inside, L, vp)).toEqual(inside);
  });

  it('frames a rectangle: viewOfRect puts it in the middle with its margin', () => {
    const r = poolRect(L, 5000 * 64 + 9);
    const v = viewOfRect(vp, r, 40);
    expect(v.scale).toBe(720);
    const c = worldToScreen(v, r.x + 0.5, r.y + 0.5);
    expect(c.x).toBeCloseTo(640, 6);
    expect(c.y).toBeCloseTo(400, 6);
  });

  it('splits the origin into a whole tile and a remainder that rebuild it exactly', () => {
    for (const v of [
      { x: 1234.5678, y: 789.0123, scale: 30000 },
      { x: -20.07, y: -9.35, scale: 0.85 },
      { x: 0, y: 0, scale: 1 },
    ]) {
      const o = shaderOrigin(L, v);
      expect(Number.isInteger(o.tileX) && Number.isInteger(o.tileY)).toBe(true);
      expect(o.fracX).toBeGreaterThanOrEqual(0);
      expect(o.fracX).toBeLessThan(L.pitchX);
      expect(o.tileX * L.pitchX + o.fracX).toBeCloseTo(v.x, 9);
      expect(o.tileY * L.pitchY + o.fracY).toBeCloseTo(v.y, 9);
      // The remainder is small: float32 keeps it to 1e-6 of a pool at any zoom.
      expect(Math.abs(Math.fround(o.fracX) - o.fracX)).toBeLessThan(1e-6);
    }
  });

  it('lists the pools on screen nearest the centre first', () => {
    const v = viewOfRect(vp, poolRect(L, 77 * 64 + 27), 0);
    const slots = visibleSlots(L, v, vp, 100);
    expect(slots[0]).toBe(77 * 64 + 27);
    // The pool fills the screen's height (800 px), so the neighbours left and right show too.
    expect(slots).toContain(77 * 64 + 26);
    expect(slots).toContain(77 * 64 + 28);
    expect(slots).not.toContain(77 * 64 + 19);
    expect(visibleSlots(L, { x: -1e6, y: 0, scale: 1 }, vp)).toEqual([]);
  });
});

describe('cache rectangles', () => {
  const L = makeLayout(10, 64, 1.6); // 4 arenas a row: world 35 x 26

  it('covers a range inside one tile row by the tiles it touches', () => {
    // Slots of arenas 1 and 2 (row 0): tiles 1-2, whole tile height with the gap.
    expect(slotRangeRects(L, 64 + 3, 2 * 64 + 5)).toEqual([{ x: 9, y: 0, width: 18, height: 9 }]);
    // Arena 3 is the last of row 0: its gap column is clipped at the world's edge.
    expect(slotRangeRects(L, 3 * 64, 3 * 64 + 1)).toEqual([{ x: 27, y: 0, width: 8, height: 9 }]);
  });

  it('covers ranges across tile rows by whole rows, clipped to the world', () => {
    expect(slotRangeRects(L, 3 * 64 + 63, 4 * 64 + 1)).toEqual([{ x: 0, y: 0, width: 35, height: 18 }]);
    expect(slotRangeRects(L, 9 * 64, 10 * 64 + 500)).toEqual([{ x: 9, y: 18, width: 9, height: 8 }]);
    expect(slotRangeRects(L, 700, 800)).toEqual([]);
  });

  it('merges touching rectangles of a row and falls back to one bounding box past the limit', () => {
    expect(
      mergeRects([
        { x: 9, y: 0, width: 9, height: 9 },
        { x: 0, y: 0, width: 9, height: 9 },
        { x: 27, y: 0, width: 8, height: 9 },
      ]),
    ).toEqual([
      { x: 0, y: 0, width: 18, height: 9 },
      { x: 27, y: 0, width: 8, height: 9 },
    ]);
    const many = Array.from({ length: 10 }, (_, i) => ({ x: i * 20, y: i * 5, width: 2, height: 2 }));
    expect(mergeRects(many, 4)).toEqual([{ x: 0, y: 0, width: 182, height: 47 }]);
  });
});

describe('arenas in address order', () => {
  const M = 2 * 1024 * 1024;
  const A = 0x5e00_0000_0000;
  // Arena 1 has no arena; the others were placed out of index order.
  const addresses = [A, 0, A + 5 * M, A + M, A + 3 * M, A + 2 * M];

  it('orders live arenas by address, then the slots with no arena by index', () => {
    expect(arenaOrder(addresses, 6)).toEqual([0, 3, 5, 4, 2, 1]);
    // Index order already: no order at all (the index-order fast path).
    expect(arenaOrder([A, A + M, 0, 0], 4)).toBeNull();
    expect(arenaOrder(null, 6)).toBeNull();
    // Only the arenas the states cover are placed; missing addresses are slots with no arena.
    expect(arenaOrder([A + M, A], 3)).toEqual([1, 0, 2]);
    expect(arenaOrder([A + M, A, A + 9 * M], 2)).toEqual([1, 0]);
  });

  it('puts pools, tiles, hits, atlas keys, cache rectangles and visible slots where the order says', () => {
    const order = arenaOrder(addresses, 6)!;
    const L = makeLayout(6, 64, 1.6, 1, { order }); // 3 tiles a row, 2 rows
    expect([L.arenasPerRow, L.width, L.height]).toEqual([3, 26, 17]);
    // Arena 3 is second by address: tile position 1 = tile (1, 0). Arena 2 is fifth: tile (1, 1).
    expect(arenaRect(L, 3)).toEqual({ x: 9, y: 0, width: 8, height: 8 });
    expect(arenaRect(L, 2)).toEqual({ x: 9, y: 9, width: 8, height: 8 });
    expect(arenaRect(L, 1)).toEqual({ x: 18, y: 9, width: 8, height: 8 });
    expect(poolRect(L, 3 * 64 + 10)).toEqual({ x: 9 + 2, y: 1, width: 1, height: 1 });
    expect(poolGridPos(L, 3 * 64 + 10)).toEqual({ gx: 8 + 2, gy: 1 });
    expect(hitTest(L, 11.5, 1.5)).toEqual({ kind: 'pool', arena: 3, ordinal: 10, slot: 3 * 64 + 10, fx: 0.5, fy: 0.5 });
    expect(hitTest(L, 9 + 0.5, 9 + 0.5)).toMatchObject({ kind: 'pool', arena: 2, slot: 2 * 64 });
    for (let slot = 0; slot < 6 * 64; slot++) {
      const r = poolRect(L, slot);
      expect(hitTest(L, r.x + 0.5, r.y + 0.5)).toMatchObject({ kind: 'pool', slot });
    }
    // A change in arena 2 redraws its tile (position 4), not the tile index 2 would have had.
    expect(slotRangeRects(L, 2 * 64 + 5, 2 * 64 + 6)).toEqual([{ x: 9, y: 9, width: 9, height: 8 }]);
    // Many arenas: the band of tile rows they touch.
    const many = makeLayout(200, 64, 1.6, 1, { order: Array.from({ length: 200 }, (_, p) => 199 - p) });
    expect(slotRangeRects(many, 0, 100 * 64)).toEqual([{ x: 0, y: 9 * Math.floor(100 / many.arenasPerRow), width: many.width, height: many.height - 9 * Math.floor(100 / many.arenasPerRow) }]);
    const vp = { width: 400, height: 400 };
    const v = viewOfRect(vp, poolRect(L, 2 * 64 + 27), 0);
    expect(visibleSlots(L, v, vp, 1)).toEqual([2 * 64 + 27]);
  });

  it('tells layouts apart by their order, not by identity', () => {
    const a = makeLayout(6, 64, 1.6, 1, { order: [0, 3, 5, 4, 2, 1] });
    expect(sameLayout(a, makeLayout(6, 64, 1.6, 1, { order: [0, 3, 5, 4, 2, 1] }))).toBe(true);
    expect(sameLayout(a, makeLayout(6, 64, 1.6, 1, { order: [0, 3, 5, 2, 4, 1] }))).toBe(false);
    expect(sameLayout(a, makeLayout(6, 64))).toBe(false);
    // An order of the wrong length is ignored (index order).
    expect(makeLayout(6, 64, 1.6, 1, { order: [1, 0] }).order).toBeNull();
  });
});

describe('the raw region', () => {
  it('is a strip two rows under the tiles, as wide as they are, cell c at (c % width, rawY + c / width)', () => {
    const L = makeLayout(6, 64, 1.6, 1, { rawCells: 27 });
    expect([L.rawY, L.rawWidth, L.rawRows, L.rawCells, L.width, L.height]).toEqual([19, 26, 2, 27, 26, 21]);
    expect(hitTest(L, 3.5, 19.25)).toEqual({ kind: 'raw', cell: 3, fx: 0.5, fy: 0.25 });
    expect(hitTest(L, 0.75, 20.5)).toEqual({ kind: 'raw', cell: 26, fx: 0.75, fy: 0.5 });
    expect(hitTest(L, 1.5, 20.5)).toBeNull(); // past the last cell
    expect(hitTest(L, 3.5, 17.5)).toBeNull(); // the rows between tiles and strip
    expect(hitTest(L, 3.5, 3.5)).toMatchObject({ kind: 'pool', arena: 0 });
    expect(isEmptyLayout(L)).toBe(false);
  });

  it('is the whole map when there are no arenas, shaped about as the aspect asks', () => {
    // PYTHONMALLOC=malloc: no arena. ceil(sqrt(30 * 1.6)) = 7 cells a row, 5 rows.
    const L = makeLayout(0, 64, 1.6, 1, { rawCells: 30 });
    expect([L.rawY, L.rawWidth, L.rawRows, L.width, L.height]).toEqual([0, 7, 5, 7, 5]);
    expect(hitTest(L, 1.5, 4.5)).toEqual({ kind: 'raw', cell: 29, fx: 0.5, fy: 0.5 });
    // A raw heap much bigger than the tiles widens the strip rather than making it a tower.
    const W = makeLayout(1, 64, 1.6, 1, { rawCells: 10000 });
    expect([W.rawWidth, W.rawRows, W.width]).toEqual([127, 79, 127]);
  });

  it('leaves a layout with no arena slot and no raw memory empty', () => {
    expect(isEmptyLayout(makeLayout(0, 64))).toBe(true);
    expect(isEmptyLayout(makeLayout(0, 64, 1.6, 1, { rawCells: 1 }))).toBe(false);
    expect(isEmptyLayout(makeLayout(1, 64))).toBe(false);
  });
});
