/**
 * The heap map in a real browser (Debian's Chromium, SwiftShader WebGL) on its test page
 * (src/renderer/bench-heapmap.html, built by `npx electron-vite build`): a small known heap,
 * checked on screenshot pixels against palette.ts and layout.ts, and the interactions
 * (hover, click, drag, wheel, keys, minimap), range uploads, render on demand, a lost context,
 * disposal and high-DPI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL_ARENA_NOT_LIVE, POOL_EMPTY, POOL_LOST, POOL_NEVER_CARVED, POOL_USED, poolStateValue } from '../../src/core/pymalloc/pool-state';
import type { HarnessApi, HarnessDebug, HarnessRaw } from '../../src/renderer/src/heapmap/harness-api';
import { poolRect, screenToWorld, worldToScreen, fitView, arenaRect, blockRectInPool, type Rect } from '../../src/renderer/src/heapmap/layout';
import {
  paletteColor,
  poolColor,
  ROW_BLOCK_FREE,
  ROW_BLOCK_NEVER,
  ROW_BLOCK_USED,
  ROW_RAW_BRK,
  ROW_RAW_MMAP,
  ROW_UI,
  UI_BACKGROUND,
  UI_SELECTION,
  UI_TEXT_ON_FREE,
} from '../../src/renderer/src/heapmap/palette';
import type { PoolInfo } from '../../src/shared/protocol';
import { browserAvailable, decodePng, openBrowser, pixelAt, type BrowserSession, type Rgba } from './browser';

type G = { heapmapHarness: HarnessApi };
const SETTLE = 'new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(ok, 30))))';
const W = 640;
const H = 400;

// The heap: 6 arena slots of 64 pools (3 tiles a row at this aspect, 2 rows).
const USED_3_7 = poolStateValue(POOL_USED, 3, 7); // 64-byte blocks, fullness 7/15
const FULL_5 = poolStateValue(POOL_USED, 5, 15); // 96-byte blocks, full
const EMPTY_3 = poolStateValue(POOL_EMPTY, 3);
const NEVER = poolStateValue(POOL_NEVER_CARVED);
const LOST = poolStateValue(POOL_LOST);
const DEAD = poolStateValue(POOL_ARENA_NOT_LIVE);
const BLOCKS_SLOT = 3 * 64 + 10; // arena 3, pool 10: the pool we zoom into

function heap(): number[] {
  const s = new Array<number>(6 * 64).fill(DEAD);
  // Arena 0: pools 0-2 carved, the rest fresh, the last lost to alignment.
  s[0] = USED_3_7;
  s[1] = FULL_5;
  s[2] = EMPTY_3;
  for (let o = 3; o < 63; o++) s[o] = NEVER;
  s[63] = LOST;
  // Arena 1: no arena. Arenas 2-5: all used, class 0 full, but for the pool with blocks.
  for (let a = 2; a < 6; a++) for (let o = 0; o < 64; o++) s[a * 64 + o] = poolStateValue(POOL_USED, 0, 15);
  s[BLOCKS_SLOT] = poolStateValue(POOL_USED, 3, 8);
  return s;
}

// Its blocks: 6 of 64 bytes, a 3 x 2 grid; 1 and 3 free (3 first on the free list), 4 and 5 never used.
const POOL: PoolInfo = {
  slot: BLOCKS_SLOT,
  arena: 3,
  ordinal: 10,
  address: 0x7f0000028000,
  carved: true,
  header: [],
  sizeClass: 3,
  blockSize: 64,
  capacity: 6,
  blocks: [2, 1, 2, 1, 0, 0],
  freeList: [3, 1],
};

// The raw region of a 3.13 process after its first arena (test/renderer/ui-queries.test.ts):
// in the brk heap (0x21000 bytes) the arena vector's 784-byte chunk and a radix-tree node's
// 131,088-byte one; a second node mmapped (0x41000 bytes). At 16 KiB a cell the brk heap takes
// cells 0-8 (cell 8: 4 KiB of heap, 800 bytes in use: level 1 + floor(14 * 800 / 4096) = 3), one
// empty cell, the mapping cells 10-26: 27 cells, in rows of 26 (the tiles' width) from row 19.
const RAW_B = 0x5555_5557_9000;
const RAW_T = 0x7fff_f7fb_e000;
const RAW: HarnessRaw = {
  cellBytes: 16384,
  regions: [
    { start: RAW_B, length: 0x21000, kind: 1 },
    { start: RAW_T, length: 0x41000, kind: 2 },
  ],
  chunks: [
    { address: RAW_B, size: 784, mmapped: false },
    { address: RAW_B + 784, size: 131088, mmapped: false },
    { address: RAW_T, size: 0x41000, mmapped: true },
  ],
};

const dark = (row: number, x: number): number[] => [...paletteColor('dark', 16, row, x), 255];
const expectPixel = (img: Rgba, p: { x: number; y: number }, rgb: number[], what: string): void => {
  expect(pixelAt(img, p.x, p.y), what).toEqual(rgb.length === 3 ? [...rgb, 255] : rgb);
};

describe.skipIf(!browserAvailable())('heap map in Chromium', () => {
  let b: BrowserSession;

  /**
   * Runs `fn` in the page with the harness. `fn` is sent as source: it may use only its
   * arguments (pass values in `arg`), not this file's imports.
   */
  const hm = <T, A = undefined>(fn: (h: HarnessApi, arg: A) => T | Promise<T>, arg?: A): Promise<T> =>
    b.page.evaluate(`(${fn.toString()})(globalThis.heapmapHarness, ${JSON.stringify(arg ?? null)})`) as Promise<T>;
  const debug = (): Promise<HarnessDebug> => hm((h) => h.debug()!);
  const shot = async (): Promise<Rgba> => decodePng(await b.page.screenshot());
  /** Waits until every requested frame is drawn (two animation frames and a moment). */
  const settle = (): Promise<void> => b.page.evaluate(SETTLE) as Promise<void>;
  const centre = (v: HarnessDebug['view'], r: Rect): { x: number; y: number } => worldToScreen(v, r.x + r.width / 2, r.y + r.height / 2);

  async function mountHeap(theme: 'dark' | 'light' = 'dark'): Promise<HarnessDebug> {
    await hm((h) => h.mount({ width: 640, height: 400 }));
    await b.page.evaluate(
      ([states, theme, pool]) => {
        const h = (globalThis as unknown as G).heapmapHarness;
        h.setTheme(theme);
        h.setPools([pool]);
        h.setStates(states, null);
      },
      [heap(), theme, POOL] as const,
    );
    await settle();
    // The legend covers the top right of the map: fold it away for pixel checks.
    await b.page.click('[data-testid="heapmap-legend"] summary');
    await b.page.mouse.move(W - 1, H - 1);
    await settle();
    return debug();
  }

  beforeAll(async () => {
    b = await openBrowser({ viewport: { width: W, height: H } });
    await b.goto('/bench-heapmap.html');
  });

  afterAll(async () => {
    await b?.close();
  });

  it('shows the theme background for an empty heap', async () => {
    await hm((h) => h.mount({ width: 640, height: 400 }));
    await settle();
    const img = await shot();
    expectPixel(img, { x: 100, y: 300 }, dark(ROW_UI, UI_BACKGROUND), 'empty map');
    // In the light theme, set while the renderer was still starting; and an empty state array
    // (an empty layout rather than none).
    await hm((h) => h.mount({ width: 640, height: 400, theme: 'light' }));
    await hm((h) => h.setStates([], null));
    await settle();
    expectPixel(await shot(), { x: 100, y: 300 }, [...paletteColor('light', 16, ROW_UI, UI_BACKGROUND), 255], 'empty map, light');
  });

  it('lays the heap out as layout.ts says and fits it', async () => {
    const d = await mountHeap();
    expect([d.layout.arenasPerRow, d.layout.tileRows, d.layout.width, d.layout.height]).toEqual([3, 2, 26, 17]);
    const fit = fitView(d.layout, d.viewport);
    expect(d.view.scale).toBeCloseTo(fit.scale, 9);
    expect(d.viewport).toEqual({ width: W, height: H });
  });

  it('colours each pool by class and fullness, and tells free, fresh, lost and dead pools apart', async () => {
    const d = await mountHeap();
    const img = await shot();
    const at = (slot: number): { x: number; y: number } => centre(d.view, poolRect(d.layout, slot));
    expectPixel(img, at(0), [...poolColor('dark', 16, USED_3_7), 255], 'used pool, class 3, 7/15');
    expectPixel(img, at(1), [...poolColor('dark', 16, FULL_5), 255], 'full pool, class 5');
    expectPixel(img, at(2), [...poolColor('dark', 16, EMPTY_3), 255], 'empty pool');
    expectPixel(img, at(3), [...poolColor('dark', 16, NEVER), 255], 'never carved');
    expectPixel(img, at(63), [...poolColor('dark', 16, LOST), 255], 'lost to alignment');
    expectPixel(img, at(64 + 20), [...poolColor('dark', 16, DEAD), 255], 'no arena');
    const colours = [0, 1, 2, 3, 63, 64 + 20].map((s) => pixelAt(img, at(s).x, at(s).y).join());
    expect(new Set(colours).size).toBe(6);
    // The gap between arena tiles is background; so is the space around the map.
    const gap = worldToScreen(d.view, 8.5, 4.5);
    expectPixel(img, gap, dark(ROW_UI, UI_BACKGROUND), 'gap');
    expectPixel(img, { x: 2, y: 2 }, dark(ROW_UI, UI_BACKGROUND), 'outside');
  });

  it('uploads only the changed range and redraws that pool', async () => {
    const d = await mountHeap();
    const before = d.stats;
    await hm((h) => h.setSlot(2 * 64 + 33, 4 | (9 << 3) | (15 << 9)));
    await settle();
    const after = (await debug()).stats;
    expect(after.uploadedTexels - before.uploadedTexels).toBe(1);
    expect(after.fullUploads).toBe(before.fullUploads);
    // The world cache redrew arena 2's tile and the gap below it (8 x 9 texels: it is the last
    // tile of its row, where the world ends), not the whole map (26 x 17 and a border).
    expect(after.worldTexelsDrawn - before.worldTexelsDrawn).toBe(72);
    const img = await shot();
    expectPixel(img, centre(d.view, poolRect(d.layout, 2 * 64 + 33)), [...poolColor('dark', 16, 4 | (9 << 3) | (15 << 9)), 255], 'changed pool');
    expectPixel(img, centre(d.view, poolRect(d.layout, 2 * 64 + 34)), [...poolColor('dark', 16, poolStateValue(POOL_USED, 0, 15)), 255], 'its neighbour');
  });

  it('draws nothing while nothing changes (no frame loop)', async () => {
    await mountHeap();
    const frames = (await debug()).stats.frames;
    // Browser code as strings: this file is type-checked without the DOM library.
    const requested = await b.page.evaluate(`(async () => {
      const orig = window.requestAnimationFrame;
      let n = 0;
      window.requestAnimationFrame = (f) => { n++; return orig(f); };
      await new Promise((ok) => setTimeout(ok, 600));
      window.requestAnimationFrame = orig;
      return n;
    })()`);
    expect(requested).toBe(0);
    expect((await debug()).stats.frames).toBe(frames);
  });

  it('shows a tooltip for the pool under the pointer', async () => {
    const d = await mountHeap();
    const p = centre(d.view, poolRect(d.layout, 0));
    await b.page.mouse.move(p.x, p.y);
    const tip = b.page.locator('[data-testid="heapmap-tooltip"]');
    await tip.waitFor();
    expect(await tip.innerText()).toBe('arena 0 · pool 0 (slot 0)\nsize class 3 · 64-byte blocks\nfullness 7/15');
    const q = centre(d.view, poolRect(d.layout, 63));
    await b.page.mouse.move(q.x, q.y);
    await expect.poll(() => tip.innerText()).toBe('arena 0 · pool 63 (slot 63)\nlost to arena alignment (the arena is not pool-aligned)');
    await b.page.mouse.move(2, 2);
    await expect.poll(() => tip.count()).toBe(0);
  });

  it('selects on click: the pool, the arena with shift, nothing after a drag', async () => {
    const d = await mountHeap();
    const c = centre(d.view, poolRect(d.layout, 2 * 64 + 9));
    const p = { x: Math.round(c.x), y: Math.round(c.y) };
    await b.page.mouse.click(p.x, p.y);
    await b.page.keyboard.down('Shift');
    await b.page.mouse.click(p.x, p.y);
    await b.page.keyboard.up('Shift');
    expect(await hm((h) => h.selections())).toEqual([
      { kind: 'pool', slot: 2 * 64 + 9 },
      { kind: 'arena', arena: 2 },
    ]);
    // A drag pans by exactly the distance moved and selects nothing.
    const before = (await debug()).view;
    await b.page.mouse.move(p.x, p.y);
    await b.page.mouse.down();
    await b.page.mouse.move(p.x + 25, p.y + 5, { steps: 3 });
    await b.page.mouse.move(p.x + 50, p.y + 10, { steps: 3 });
    await b.page.mouse.up();
    const after = (await debug()).view;
    expect(after.x).toBeCloseTo(before.x - 50 / before.scale, 9);
    expect(after.y).toBeCloseTo(before.y - 10 / before.scale, 9);
    expect(await hm((h) => h.selections().length)).toBe(2);
  });

  it('zooms to the pool under a double-click, and out with -', async () => {
    const d = await mountHeap();
    const c = centre(d.view, poolRect(d.layout, 2));
    await b.page.mouse.dblclick(Math.round(c.x), Math.round(c.y));
    await expect.poll(async () => (await debug()).view.scale).toBe(336); // (400 - 2 * 8% of 400) px per pool
    const v = (await debug()).view;
    const mid = screenToWorld(v, W / 2, H / 2);
    expect(mid.x).toBeCloseTo(2.5, 9);
    expect(mid.y).toBeCloseTo(0.5, 9);
    expect(await hm((h) => h.selections())).toEqual([
      { kind: 'pool', slot: 2 },
      { kind: 'pool', slot: 2 },
    ]);
    await b.page.focus('[data-testid="heapmap"]');
    await b.page.keyboard.press('-');
    expect((await debug()).view.scale).toBeCloseTo(336 / 1.5, 9);
  });

  it('outlines the selected pool and arena', async () => {
    const d = await mountHeap();
    await hm((h) => h.setSelected({ kind: 'pool', slot: 0 }));
    await settle();
    let img = await shot();
    const r = poolRect(d.layout, 0);
    const left = worldToScreen(d.view, r.x, r.y + 0.5);
    const sel = dark(ROW_UI, UI_SELECTION);
    expectPixel(img, { x: Math.floor(left.x) + 1, y: left.y }, sel, 'inside the left edge of the selected pool');
    expectPixel(img, centre(d.view, r), [...poolColor('dark', 16, USED_3_7), 255], 'its middle');
    await hm((h) => h.setSelected({ kind: 'arena', arena: 2 }));
    await settle();
    img = await shot();
    const a = arenaRect(d.layout, 2);
    const top = worldToScreen(d.view, a.x + 4, a.y);
    expectPixel(img, { x: top.x, y: top.y - 1.25 }, sel, 'just above arena 2 (a 2.5 px ring outside its tile)');
    expectPixel(img, { x: Math.floor(left.x) + 1, y: left.y }, [...poolColor('dark', 16, USED_3_7), 255], 'pool 0 no longer outlined');
  });

  it('zooms about the cursor with the wheel, and by keyboard; 0 fits', async () => {
    const d = await mountHeap();
    const p = { x: 200, y: 150 };
    const under = screenToWorld(d.view, p.x, p.y);
    await b.page.mouse.move(p.x, p.y);
    await b.page.mouse.wheel(0, -100);
    await expect.poll(async () => (await debug()).view.scale).toBeGreaterThan(d.view.scale);
    const z = (await debug()).view;
    expect(z.scale).toBeCloseTo(d.view.scale * Math.exp(0.2), 6);
    const still = screenToWorld(z, p.x, p.y);
    expect(still.x).toBeCloseTo(under.x, 6);
    expect(still.y).toBeCloseTo(under.y, 6);
    await b.page.focus('[data-testid="heapmap"]');
    await b.page.keyboard.press('+');
    expect((await debug()).view.scale).toBeCloseTo(z.scale * 1.5, 6);
    const k = (await debug()).view;
    await b.page.keyboard.press('ArrowRight');
    expect((await debug()).view.x).toBeCloseTo(k.x + (0.15 * W) / k.scale, 6);
    await b.page.keyboard.press('0');
    const f = (await debug()).view;
    expect(f.scale).toBeCloseTo(d.view.scale, 9);
    expect(f.x).toBeCloseTo(d.view.x, 9);
  });

  it('zooms into a pool and shows its blocks: in use, free with the free-list order, never used', async () => {
    const d = await mountHeap();
    await hm((h, slot) => h.zoomTo({ kind: 'pool', slot }), BLOCKS_SLOT);
    await b.page.waitForFunction(() => ((globalThis as unknown as G).heapmapHarness.debug()?.stats.blockRows ?? 0) >= 1);
    await settle();
    const z = await debug();
    expect(z.blocks).toBe(true);
    expect(await hm((h) => h.loadCalls())).toContain(BLOCKS_SLOT);
    const img = await shot();
    const pool = poolRect(z.layout, BLOCKS_SLOT);
    const block = (i: number, fx: number, fy: number): { x: number; y: number } => {
      const r = blockRectInPool(6, i);
      return worldToScreen(z.view, pool.x + r.x + r.width * fx, pool.y + r.y + r.height * fy);
    };
    // Away from the digits (centred) and the edges (top-left pixel).
    expectPixel(img, block(0, 0.2, 0.2), dark(ROW_BLOCK_USED, 3), 'block 0 in use');
    expectPixel(img, block(1, 0.2, 0.2), dark(ROW_BLOCK_FREE, 3), 'block 1 free');
    expectPixel(img, block(3, 0.2, 0.2), dark(ROW_BLOCK_FREE, 3), 'block 3 free');
    expectPixel(img, block(4, 0.2, 0.2), dark(ROW_BLOCK_NEVER, 3), 'block 4 never used');
    // The middle of a free block is a stroke of its number (1 and 2 both cross the centre);
    // a block in use has none.
    expectPixel(img, block(3, 0.5, 0.5), dark(ROW_UI, UI_TEXT_ON_FREE), 'number on block 3');
    expectPixel(img, block(1, 0.5, 0.5), dark(ROW_UI, UI_TEXT_ON_FREE), 'number on block 1');
    expectPixel(img, block(2, 0.5, 0.5), dark(ROW_BLOCK_USED, 3), 'no number on block 2');
    // "1" has no stroke left of its middle column; "2" has (its middle row is full width).
    expectPixel(img, block(3, 0.42, 0.5), dark(ROW_BLOCK_FREE, 3), 'left of the 1');
    expectPixel(img, block(1, 0.42, 0.5), dark(ROW_UI, UI_TEXT_ON_FREE), 'the bar of the 2');

    const p = block(1, 0.3, 0.7);
    await b.page.mouse.move(p.x, p.y);
    const tip = b.page.locator('[data-testid="heapmap-tooltip"]');
    await expect.poll(() => tip.innerText()).toContain('block 1 (0x7f0000028070) · free, #2 of 2 free-list entries');
    expect(await tip.innerText()).toContain('2 of 6 blocks in use · 2 free · 2 never used');
    await b.page.mouse.click(p.x, p.y);
    const q = block(4, 0.5, 0.5);
    await b.page.mouse.click(q.x, q.y);
    expect(await hm((h) => h.selections())).toEqual([
      { kind: 'block', slot: BLOCKS_SLOT, block: 1 },
      { kind: 'block', slot: BLOCKS_SLOT, block: 4 },
    ]);
    // The minimap shows; a click in its middle centres the view on the middle of the heap.
    const mm = (await debug()).minimap;
    expect(mm).not.toBeNull();
    await b.page.mouse.click(mm!.x + mm!.width / 2, mm!.y + mm!.height / 2);
    const v = (await debug()).view;
    const c = screenToWorld(v, W / 2, H / 2);
    const tol = (26 / mm!.width) * 2; // two minimap pixels
    expect(Math.abs(c.x - 13)).toBeLessThan(tol);
    expect(Math.abs(c.y - 8.5)).toBeLessThan(tol);
    expect(v.scale).toBeCloseTo(z.view.scale, 9);
    expect(d.minimap).toBeNull();
  });

  it('lays arenas out in address order: pixels, hover, click, updates and zoom follow it', async () => {
    const A = 0x5e00_0000_0000;
    const M = 2 * 1024 * 1024;
    // Arena 1 has no arena: its slot goes last. The others by address: 0, 3, 5, 4, 2.
    const addresses = [A, 0, A + 5 * M, A + M, A + 3 * M, A + 2 * M];
    const CLASS9 = poolStateValue(POOL_USED, 9, 15);
    const states = heap();
    states[2 * 64] = FULL_5;
    states[4 * 64] = EMPTY_3;
    states[5 * 64] = CLASS9;
    await hm((h) => h.mount({ width: 640, height: 400 }));
    await b.page.evaluate(
      ([states, addresses]) => {
        const h = (globalThis as unknown as G).heapmapHarness;
        h.setStates(states, null);
        h.setArenaAddresses(addresses);
      },
      [states, addresses] as const,
    );
    await settle();
    await b.page.click('[data-testid="heapmap-legend"] summary');
    await b.page.mouse.move(W - 1, H - 1);
    await settle();
    const d = await debug();
    expect(d.layout.order).toEqual([0, 3, 5, 4, 2, 1]);
    // Tile position p at ((p % 3) * 9, floor(p / 3) * 9); pool o at (o % 8, floor(o / 8)) in it.
    const at = (p: number, o: number): { x: number; y: number } => worldToScreen(d.view, (p % 3) * 9 + (o % 8) + 0.5, Math.floor(p / 3) * 9 + Math.floor(o / 8) + 0.5);
    const colour = (v: number): number[] => [...poolColor('dark', 16, v), 255];
    let img = await shot();
    expectPixel(img, at(0, 0), colour(USED_3_7), 'arena 0 first');
    expectPixel(img, at(1, 10), colour(poolStateValue(POOL_USED, 3, 8)), "arena 3's pool 10 at position 1");
    expectPixel(img, at(1, 0), colour(poolStateValue(POOL_USED, 0, 15)), "arena 3's pool 0");
    expectPixel(img, at(2, 0), colour(CLASS9), 'arena 5 at position 2');
    expectPixel(img, at(3, 0), colour(EMPTY_3), 'arena 4 at position 3');
    expectPixel(img, at(4, 0), colour(FULL_5), 'arena 2 at position 4');
    expectPixel(img, at(5, 20), colour(DEAD), 'the slot with no arena last');

    // The pointer and a click find the arena that is drawn there.
    const p = at(1, 10);
    await b.page.mouse.move(p.x, p.y);
    const tip = b.page.locator('[data-testid="heapmap-tooltip"]');
    await expect.poll(() => tip.innerText()).toBe('arena 3 · pool 10 (slot 202)\nsize class 3 · 64-byte blocks\nfullness 8/15\narena at 0x5e0000200000');
    await b.page.mouse.click(Math.round(p.x), Math.round(p.y));
    expect(await hm((h) => h.selections())).toEqual([{ kind: 'pool', slot: 3 * 64 + 10 }]);
    await b.page.mouse.move(W - 1, H - 1);

    // A change in arena 2 redraws its tile, at position 4.
    const NEW = poolStateValue(POOL_USED, 12, 15);
    await hm((h, v) => h.setSlot(2 * 64 + 45, v), NEW);
    await settle();
    img = await shot();
    expectPixel(img, at(4, 45), colour(NEW), 'changed pool of arena 2');
    expectPixel(img, at(2, 45), colour(poolStateValue(POOL_USED, 0, 15)), 'pool 45 where index order would have put arena 2');

    // Zooming to arena 2 centres its tile.
    await hm((h) => h.zoomTo({ kind: 'arena', arena: 2 }));
    const z = await debug();
    const mid = screenToWorld(z.view, W / 2, H / 2);
    expect(mid.x).toBeCloseTo(9 + 4, 9);
    expect(mid.y).toBeCloseTo(9 + 4, 9);

    // Without addresses: index order again.
    await hm((h) => {
      h.setArenaAddresses(null);
      h.fit();
    });
    await settle();
    const f = await debug();
    expect(f.layout.order).toBeNull();
    img = await shot();
    const idx = (p: number, o: number): { x: number; y: number } => worldToScreen(f.view, (p % 3) * 9 + (o % 8) + 0.5, Math.floor(p / 3) * 9 + Math.floor(o / 8) + 0.5);
    expectPixel(img, idx(3, 10), colour(poolStateValue(POOL_USED, 3, 8)), "arena 3's pool 10 at position 3");
    expectPixel(img, idx(1, 20), colour(DEAD), 'arena 1 at position 1');
  });

  it('draws the raw region below the arenas: cells shaded by bytes in use, chunks one by one at deep zoom, tooltip, click, outline', async () => {
    await mountHeap();
    await hm((h, raw) => h.setRaw(raw), RAW);
    await settle();
    const d = await debug();
    expect([d.layout.rawY, d.layout.rawWidth, d.layout.rawRows, d.layout.rawCells, d.layout.height]).toEqual([19, 26, 2, 27, 21]);
    // Cell c at (c % 26, 19 + floor(c / 26)).
    const cell = (c: number, fx = 0.5, v = d.view): { x: number; y: number } => worldToScreen(v, (c % 26) + fx, 19 + Math.floor(c / 26) + 0.5);
    let img = await shot();
    expectPixel(img, cell(3), dark(ROW_RAW_BRK, 15), 'brk heap cell in use');
    expectPixel(img, cell(8), dark(ROW_RAW_BRK, 3), 'last brk cell, 800 of 4096 bytes in use');
    expectPixel(img, cell(9), dark(ROW_UI, UI_BACKGROUND), 'gap between regions');
    expectPixel(img, cell(12), dark(ROW_RAW_MMAP, 15), 'mmapped chunk');
    expectPixel(img, cell(25), dark(ROW_RAW_MMAP, 15), 'the end of the first row');
    expectPixel(img, worldToScreen(d.view, 3.5, 18), dark(ROW_UI, UI_BACKGROUND), 'rows between arenas and raw region');
    expectPixel(img, centre(d.view, poolRect(d.layout, 0)), [...poolColor('dark', 16, USED_3_7), 255], 'arenas unmoved');
    expect(await b.page.locator('[data-testid="legend-raw"]').count()).toBe(1);

    const tip = b.page.locator('[data-testid="heapmap-tooltip"]');
    const c3 = cell(3);
    await b.page.mouse.move(c3.x, c3.y);
    await expect.poll(() => tip.innerText()).toBe('malloc chunk 0x555555579310 · brk heap\n131088 bytes · 131080 usable · malloc returned 0x555555579320');
    const c8 = cell(8, 0.1);
    await b.page.mouse.move(c8.x, c8.y);
    await expect.poll(() => tip.innerText()).toMatch(/^brk heap 0x555555579000–0x55555559a000 \(135168 bytes\)\n0x55555559[0-9a-f]{4} · free: in glibc's bins, tcache, fastbins or top$/);
    const c12 = cell(12);
    await b.page.mouse.click(Math.round(c12.x), Math.round(c12.y));
    await b.page.mouse.click(Math.round(cell(9).x), Math.round(cell(9).y)); // the gap: nothing
    expect(await hm((h) => h.selections())).toEqual([{ kind: 'raw', address: RAW_T + 16 }]);
    await b.page.mouse.move(W - 1, H - 1);

    // The selected chunk is outlined on each row it spans (a ring 2.5 px inside, cells 10-26 of row 19).
    await hm((h, address) => h.setSelected({ kind: 'raw', address }), RAW_T + 16);
    await settle();
    img = await shot();
    const left = worldToScreen(d.view, 10, 19.5);
    expectPixel(img, { x: Math.floor(left.x) + 1, y: left.y }, dark(ROW_UI, UI_SELECTION), 'inside the left edge of the mmapped chunk');
    expectPixel(img, cell(12), dark(ROW_RAW_MMAP, 15), 'its middle');

    // Deep zoom over the end of the brk heap: the chunk that runs into cell 8, the free memory
    // after it (up to the break, a quarter into the cell), and past the break the cell's shade.
    const v = { x: 7.5, y: 18.8, scale: 64 };
    await hm((h, v) => h.setView(v), v);
    await settle();
    img = await shot();
    const z = (await debug()).view;
    expect(z).toEqual(v);
    expectPixel(img, worldToScreen(z, 7.9, 19.5), dark(ROW_RAW_BRK, 15), 'the 131,088-byte chunk');
    expectPixel(img, worldToScreen(z, 8.03, 19.5), dark(ROW_RAW_BRK, 15), 'its last 800 bytes in cell 8');
    expectPixel(img, worldToScreen(z, 8.15, 19.5), dark(ROW_RAW_BRK, 0), 'free memory before the break');
    expectPixel(img, worldToScreen(z, 8.6, 19.5), dark(ROW_RAW_BRK, 3), 'past the break: the cell shade');

    // The mapping's last quarter cell wraps to the start of the next row (cell 26).
    const w = { x: -1, y: 19, scale: 40 };
    await hm((h, v) => h.setView(v), w);
    await settle();
    img = await shot();
    expectPixel(img, worldToScreen(w, 0.1, 20.5), dark(ROW_RAW_MMAP, 15), 'the chunk, wrapped');
    expectPixel(img, worldToScreen(w, 0.6, 20.5), dark(ROW_RAW_MMAP, 15), 'the rest of its last cell');
    expectPixel(img, worldToScreen(w, 1.5, 20.5), dark(ROW_UI, UI_BACKGROUND), 'past the last cell');
    expectPixel(img, worldToScreen(w, 9.5, 19.5), dark(ROW_UI, UI_BACKGROUND), 'the gap cell');

    // zoomTo frames a chunk: the 784-byte one is 784 / 16384 of a cell wide, so the height limits.
    await hm((h, address) => h.zoomTo({ kind: 'raw', address }), RAW_B + 16);
    const f = (await debug()).view;
    expect(f.scale).toBeCloseTo(400 - 2 * 32, 9);
    const m = screenToWorld(f, W / 2, H / 2);
    expect(m.x).toBeCloseTo(784 / 16384 / 2, 9);
    expect(m.y).toBeCloseTo(19.5, 9);

    // Without raw memory the strip and its legend go.
    await hm((h) => {
      h.setRaw(null);
      h.fit();
    });
    await settle();
    expect((await debug()).layout.height).toBe(17);
    expect(await b.page.locator('[data-testid="legend-raw"]').count()).toBe(0);
  });

  it('shows an empty heap as such after the user moved the view, and fits the next heap', async () => {
    const d = await mountHeap();
    // The user zooms in and drags: the view is no longer the fitted one.
    await b.page.mouse.move(200, 150);
    for (let i = 0; i < 6; i++) await b.page.mouse.wheel(0, -300);
    await b.page.mouse.move(300, 200);
    await b.page.mouse.down();
    await b.page.mouse.move(340, 220, { steps: 4 });
    await b.page.mouse.up();
    await expect.poll(async () => (await debug()).view.scale).toBeGreaterThan(d.view.scale * 5);
    // The pool-state array empties (the timeline at 0, a new session).
    await hm((h) => h.setStates([], null));
    await settle();
    const e = await debug();
    expect(e.view).toEqual({ x: 0, y: 0, scale: 1 });
    expect([e.blocks, e.minimap, e.layout.width, e.layout.height]).toEqual([false, null, 0, 0]);
    expect(await b.page.locator('[data-testid="heapmap-zoom"]').innerText()).toBe('empty heap');
    let img = await shot();
    expectPixel(img, { x: W / 2, y: H / 2 }, dark(ROW_UI, UI_BACKGROUND), 'centre');
    expectPixel(img, { x: 100, y: 300 }, dark(ROW_UI, UI_BACKGROUND), 'elsewhere');
    // Nothing to zoom, pan or pick.
    await b.page.focus('[data-testid="heapmap"]');
    await b.page.keyboard.press('+');
    await b.page.keyboard.press('ArrowLeft');
    await b.page.mouse.click(W / 2, H / 2);
    expect((await debug()).view).toEqual({ x: 0, y: 0, scale: 1 });
    expect(await hm((h) => h.selections())).toEqual([]);
    // The heap comes back: shown whole, as on first sight.
    await hm((h, s) => h.setStates(s, null), heap());
    await settle();
    const f = await debug();
    const fit = fitView(f.layout, f.viewport);
    expect(f.view.scale).toBeCloseTo(fit.scale, 9);
    expect(f.view.x).toBeCloseTo(fit.x, 9);
    expect(f.view.y).toBeCloseTo(fit.y, 9);
    expect(await b.page.locator('[data-testid="heapmap-zoom"]').innerText()).toBe(`${Math.round(fit.scale)} px per pool`);
    await b.page.mouse.move(W - 1, H - 1);
    await settle();
    img = await shot();
    expectPixel(img, centre(f.view, poolRect(f.layout, 0)), [...poolColor('dark', 16, USED_3_7), 255], 'pool 0 after the heap came back');
  });

  it('switches theme', async () => {
    const d = await mountHeap('light');
    const img = await shot();
    expectPixel(img, centre(d.view, poolRect(d.layout, 0)), [...poolColor('light', 16, USED_3_7), 255], 'light used pool');
    expectPixel(img, { x: 2, y: 2 }, [...paletteColor('light', 16, ROW_UI, UI_BACKGROUND), 255], 'light background');
  });

  it('survives a lost WebGL context', async () => {
    const d = await mountHeap();
    await b.page.evaluate(`(() => {
      const c = document.querySelector('canvas.heapmap-canvas');
      window.lose = c.getContext('webgl2').getExtension('WEBGL_lose_context');
      window.lose.loseContext();
    })()`);
    await expect.poll(async () => (await debug()).lost).toBe(true);
    await hm((h, v) => h.setSlot(0, v), poolStateValue(POOL_USED, 7, 15));
    await b.page.evaluate('window.lose.restoreContext()');
    await expect.poll(async () => (await debug()).stats.contextRestores).toBe(1);
    await settle();
    const img = await shot();
    expectPixel(img, centre(d.view, poolRect(d.layout, 0)), [...poolColor('dark', 16, poolStateValue(POOL_USED, 7, 15)), 255], 'changed while lost');
    expectPixel(img, centre(d.view, poolRect(d.layout, 1)), [...poolColor('dark', 16, FULL_5), 255], 'unchanged');
  });

  it('frees the canvas and its context on unmount', async () => {
    await mountHeap();
    const gone = await b.page.evaluate(`(() => {
      const c = document.querySelector('canvas.heapmap-canvas');
      const gl = c.getContext('webgl2');
      window.heapmapHarness.unmount();
      return { attached: c.isConnected, lost: gl.isContextLost(), canvases: document.querySelectorAll('canvas').length };
    })()`);
    expect(gone).toEqual({ attached: false, lost: true, canvases: 0 });
  });

  it('averages the pools under a pixel when zoomed out past one pool a pixel, and keeps the picture still under sub-pixel pans', async () => {
    // 15 arenas of 4,096 pools (64 x 64 tiles, 4 a row, 4 rows) on a 160 x 100 map: the view may
    // zoom out to 0.25 px a pool. Arena 0 alternates a used pool and a fresh one along each row of
    // its tile (even columns used); the others are all used.
    const A = poolStateValue(POOL_USED, 5, 15);
    const B = poolStateValue(POOL_NEVER_CARVED);
    const PPA = 4096;
    await hm((h) => h.mount({ width: 160, height: 100, poolsPerArena: 4096 }));
    await hm(
      (h, [a, b, n, ppa]) => h.setStates(Array.from({ length: n }, (_, i) => (i < ppa && i % 2 === 1 ? b : a)), null),
      [A, B, 15 * PPA, PPA],
    );
    await settle();
    const d = await debug();
    expect([d.layout.cols, d.layout.arenasPerRow, d.layout.tileRows]).toEqual([64, 4, 4]);
    const ca = poolColor('dark', 16, A);
    const cb = poolColor('dark', 16, B);
    expect(ca).not.toEqual(cb);
    const mean = ca.map((c, i) => (c + cb[i]!) / 2);
    // Pixel (sx, sy) of a view whose corner is world (x0, y0): world (x0 + (sx + 0.5) / scale, ...).
    const at = async (scale: number, x0: number, y0: number, sx = 8, sy = 8): Promise<number[]> => {
      await hm((h, v) => h.setView(v), { scale, x: x0, y: y0 });
      await settle();
      const v = (await debug()).view;
      expect(v).toEqual({ scale, x: x0, y: y0 });
      return (await hm((h, [x, y]) => h.readPixel(x!, y!), [sx, sy]))!.slice(0, 3);
    };
    const near = (got: number[], want: number[], what: string): void => {
      for (let i = 0; i < 3; i++) expect(Math.abs(got[i]! - want[i]!), `${what}: ${got.join()} vs ${want.join()}`).toBeLessThanOrEqual(2);
    };
    // 4 pools a pixel: the pixel at (8, 8) covers pools 32-35 across and down, inside arena 0's
    // tile (0-63). Sampling one pool a pixel would show A or B; the mean of the two is what the
    // pools under the pixel add up to.
    const p0 = await at(0.25, 0.25, 0.25);
    near(p0, mean, '1/4 px a pool');
    expect(p0).not.toEqual(ca);
    expect(p0).not.toEqual(cb);
    // Sub-pixel pans (one pool, two pools, half a pool) leave that pixel as it was: the columns it
    // covers change parity, the picture does not.
    for (const dx of [1, 2, 0.5]) near(await at(0.25, 0.25 + dx, 0.25), p0, `panned by ${dx} pools`);
    // Between two levels (3 pools a pixel: levels 1 and 2 mixed) it is still the mean.
    near(await at(1 / 3, 0.25, 0.25), mean, '1/3 px a pool');
    // All-used arena 1 (tile x 65-128; pixel 24: pools 96-99): exactly A, averaging changes
    // nothing where pools agree.
    expect(await at(0.25, 0.25, 0.25, 24, 8)).toEqual(ca);
    // A change of arena 0 reaches the reduced levels: all used now, the pixel shows A.
    await hm((h, [a, n]) => h.setStates(Array.from({ length: n }, () => a), [{ start: 0, end: 4096 }]), [A, 15 * PPA]);
    await settle();
    expect(await at(0.25, 0.25, 0.25)).toEqual(ca);
  });

  it('loads under the app CSP without violations or page errors', () => {
    expect(b.errors).toEqual([]);
  });
});

describe.skipIf(!browserAvailable())('heap map at devicePixelRatio 2', () => {
  it('draws at device resolution', async () => {
    const b = await openBrowser({ viewport: { width: W, height: H }, deviceScaleFactor: 2 });
    try {
      await b.goto('/bench-heapmap.html');
      await b.page.evaluate(
        async ([states]) => {
          const h = (globalThis as unknown as G).heapmapHarness;
          await h.mount({ width: 640, height: 400 });
          h.setStates(states, null);
          await h.nextFrame(1);
        },
        [heap()] as const,
      );
      const size = await b.page.evaluate(`(() => {
        const c = document.querySelector('canvas.heapmap-canvas');
        return [c.width, c.height, c.clientWidth, c.clientHeight];
      })()`);
      expect(size).toEqual([2 * W, 2 * H, W, H]);
      await b.page.click('[data-testid="heapmap-legend"] summary');
      await b.page.evaluate(SETTLE);
      const d = (await b.page.evaluate(() => (globalThis as unknown as G).heapmapHarness.debug())) as HarnessDebug;
      const img = decodePng(await b.page.screenshot());
      expect(img.width).toBe(2 * W);
      const r = poolRect(d.layout, 1);
      // The top-left device pixel of the pool is its edge; the next one in is the pool (1 CSS px edge = 2 device px).
      const tl = worldToScreen(d.view, r.x, r.y);
      const x0 = Math.ceil(tl.x * 2);
      const y0 = Math.ceil(tl.y * 2);
      expect(pixelAt(img, x0 + 3, y0 + 3)).toEqual([...poolColor('dark', 16, FULL_5), 255]);
      const c = worldToScreen(d.view, r.x + 0.5, r.y + 0.5);
      expect(pixelAt(img, c.x * 2, c.y * 2)).toEqual([...poolColor('dark', 16, FULL_5), 255]);
      expect(b.errors).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
