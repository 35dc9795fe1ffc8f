/**
 * The whole app in a real browser: Debian's Chromium (test/e2e/browser.ts) against the built
 * renderer, with `window.pyheap` bridged to the REAL main-process code in this test process:
 * the IPC handlers of src/main/ipc.ts (which validate every argument), the AppController with
 * real files (src/main/node-files.ts) and a SimulationHost running the real worker bundle
 * (out/worker/sim-worker.mjs). Nothing is mocked but the native file dialogs, which answer
 * with paths the test chooses.
 *
 * The bridge: an init script defines `window.pyheap` with one function per operation, each
 * calling the exposed `__pyheapCall(op, argsJson)`; ArrayBuffers in results travel as base64
 * and are rebuilt in the page. Host events are pushed into the page with `page.evaluate`.
 *
 * Scenario (CPython 3.13, arenas at offset 0): type `x = [1000, 2000]` and run it; the pools
 * of the list object (64-byte class 3), its item array (16-byte class 0) and the two ints
 * (32-byte class 1) light up on the canvas; the pool inspector reads their headers; the block
 * inspector shows the list's bytes and follows `ob_item`; the timeline scrubs back and forth
 * (position and pixels follow); the session is saved to a real file and reopened unchanged.
 *
 * Screenshots of the main views go to test-results/screenshots/ on every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { browserAvailable, decodePng, openBrowser, pixelAt, type BrowserSession, type Rgba } from './browser';
import { SimulationHost, type WorkerLike } from '../../src/main/host';
import { AppController, type Dialogs } from '../../src/main/app-controller';
import { nodeFileSystem } from '../../src/main/node-files';
import { ipcHandlers } from '../../src/main/ipc';
import { IPC_CHANNELS, type HostEvent, type PoolInfo } from '../../src/shared/protocol';
import { defaultSettings } from '../../src/core/session/model';
import { SESSION_MAGIC } from '../../src/core/session/format';
import { poolRect, worldToScreen, type HeapLayout, type View } from '../../src/renderer/src/heapmap/layout';
import { paletteColor, poolColor, ROW_RAW_BRK, ROW_RAW_MMAP, ROW_UI, UI_BACKGROUND, type Theme } from '../../src/renderer/src/heapmap/palette';
import { POOL_ARENA_NOT_LIVE, POOL_NEVER_CARVED, poolStateValue, POOL_USED } from '../../src/core/pymalloc/pool-state';

const ROOT = resolve(__dirname, '../..');
const WORKER = join(ROOT, 'out/worker/sim-worker.mjs');
const SHOTS = join(ROOT, 'test-results/screenshots');

// ---------------------------------------------------------------------------------------------
// The bridge
// ---------------------------------------------------------------------------------------------

/** JSON-safe form of a result: ArrayBuffers as base64. */
function encode(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return { __ab: Buffer.from(v).toString('base64') };
  if (ArrayBuffer.isView(v)) return { __ab: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

/** Runs in the page before any of its scripts: the stand-in for the preload. */
const PAGE_BRIDGE = `(() => {
  const listeners = new Set();
  const decode = (v) => {
    if (Array.isArray(v)) return v.map(decode);
    if (v !== null && typeof v === 'object') {
      if (typeof v.__ab === 'string') {
        const s = atob(v.__ab);
        const b = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
        return b.buffer;
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    }
    return v;
  };
  const call = async (op, args) => {
    const r = JSON.parse(await window.__pyheapCall(op, JSON.stringify(args)));
    if (!r.ok) throw new Error(r.error);
    return decode(r.value);
  };
  const api = {};
  for (const op of ${JSON.stringify(Object.keys(IPC_CHANNELS).filter((k) => k !== 'event'))}) api[op] = (...args) => call(op, args);
  api.pathForFile = () => '';
  api.onEvent = (l) => { listeners.add(l); return () => listeners.delete(l); };
  window.pyheap = api;
  window.__pyheapEvent = (json) => { const e = decode(JSON.parse(json)); for (const l of listeners) l(e); };
})();`;

interface Rig {
  b: BrowserSession;
  host: SimulationHost;
  controller: AppController;
  dialogs: Dialogs & { next: (string | null)[] };
  dataDir: string;
  events: HostEvent[];
}

async function startRig(): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pyheap-e2e-'));
  const events: HostEvent[] = [];
  let page: BrowserSession['page'] | null = null;
  const push = (e: HostEvent): void => {
    events.push(e);
    if (page === null) return;
    void page.evaluate((j) => (globalThis as unknown as PageGlobals).__pyheapEvent?.(j), JSON.stringify(encode(e))).catch(() => undefined);
  };
  const host = new SimulationHost({ createWorker: () => new Worker(WORKER) as unknown as WorkerLike, onEvent: push });
  const dialogs = {
    next: [] as (string | null)[],
    openSession: async () => dialogs.next.shift() ?? null,
    openTrace: async () => dialogs.next.shift() ?? null,
    saveSessionAs: async () => dialogs.next.shift() ?? null,
    confirmRestore: async () => false,
    showError: (m: string) => {
      throw new Error(`unexpected error dialog: ${m}`);
    },
  };
  const controller = new AppController({ host, dataDir, dialogs, files: nodeFileSystem, emit: push, autosaveEvery: 0 });
  await host.start();
  await controller.newSession(defaultSettings('3.13'));
  const handlers = ipcHandlers({ host, controller, version: '0.0.0-e2e' }) as Record<string, (a: readonly unknown[]) => Promise<unknown>>;

  const b = await openBrowser({ viewport: { width: 1280, height: 800 }, initScript: PAGE_BRIDGE });
  await b.page.exposeFunction('__pyheapCall', async (op: string, argsJson: string) => {
    const channel = (IPC_CHANNELS as Record<string, string>)[op];
    try {
      if (channel === undefined || handlers[channel] === undefined) throw new Error(`no such operation ${op}`);
      const v = await handlers[channel](JSON.parse(argsJson) as unknown[]);
      return JSON.stringify({ ok: true, value: encode(v) });
    } catch (e) {
      return JSON.stringify({ ok: false, error: (e as Error).message });
    }
  });
  page = b.page;
  await b.goto('/index.html');
  return { b, host, controller, dialogs, dataDir, events };
}

/** What the tests touch of the page's globals (this file is compiled without DOM types). */
interface PageGlobals {
  __pyheapEvent?: (json: string) => void;
  __pyheapApp?: { session: unknown; alignment: number; settled(): Promise<void> };
  __pyheapMap?: () => { debugInfo(): { layout: unknown; view: unknown } | null } | undefined;
  requestAnimationFrame(cb: () => void): number;
  document: { documentElement: { dataset: Record<string, string | undefined> }; activeElement: { blur?: () => void } | null };
}

// ---------------------------------------------------------------------------------------------
// Helpers on the page
// ---------------------------------------------------------------------------------------------

/** Waits until the renderer has fetched everything the last events asked for, and drawn it. */
async function settle(rig: Rig): Promise<void> {
  await rig.b.page.waitForFunction(() => (globalThis as unknown as PageGlobals).__pyheapApp?.session != null);
  for (let i = 0; i < 3; i++) {
    await rig.b.page.evaluate(async () => {
      const g = globalThis as unknown as PageGlobals;
      await g.__pyheapApp!.settled();
      await new Promise<void>((r) => g.requestAnimationFrame(() => g.requestAnimationFrame(() => r())));
    });
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function shot(rig: Rig, name: string): Promise<Rgba> {
  mkdirSync(SHOTS, { recursive: true });
  const png = await rig.b.page.screenshot({ path: join(SHOTS, `${name}.png`) });
  return decodePng(png);
}

async function poolStates(rig: Rig): Promise<Uint16Array> {
  const r = await rig.host.request({ op: 'query', query: { what: 'poolStates' } });
  return new Uint16Array(r.ranges[0]!.data);
}

/** Slots whose pool is in use (status 4), with their size classes. */
function usedPools(states: Uint16Array): { slot: number; szidx: number }[] {
  const out: { slot: number; szidx: number }[] = [];
  states.forEach((v, slot) => {
    if ((v & 7) === 4) out.push({ slot, szidx: (v >> 3) & 63 });
  });
  return out;
}

async function positionText(rig: Rig): Promise<string> {
  return (await rig.b.page.locator('[data-testid="position"]').innerText()).trim();
}

/** Waits for the timeline to show `text` ("position / total"), then for the view to catch up. */
async function at(rig: Rig, text: string): Promise<void> {
  await expect.poll(() => positionText(rig), { timeout: 20_000 }).toBe(text);
  await settle(rig);
}

// ---------------------------------------------------------------------------------------------
// Where the heap map draws a pool, and in which colour
// ---------------------------------------------------------------------------------------------

interface MapGeometry {
  box: { x: number; y: number; width: number; height: number };
  layout: HeapLayout;
  view: View;
  theme: Theme;
  alignment: number;
}

async function mapGeometry(rig: Rig): Promise<MapGeometry> {
  const page = rig.b.page;
  const d = await page.evaluate(() => {
    const w = globalThis as unknown as PageGlobals;
    const info = w.__pyheapMap?.()?.debugInfo() ?? null;
    return { info, theme: w.document.documentElement.dataset['theme'], alignment: w.__pyheapApp!.alignment };
  });
  expect(d.info, 'the heap map is up').not.toBeNull();
  const box = (await page.locator('[data-testid="heapmap"]').boundingBox())!;
  return { box, layout: d.info!.layout as HeapLayout, view: d.info!.view as View, theme: d.theme as Theme, alignment: d.alignment };
}

/** Centre of pool `slot` in page pixels. */
function poolCenter(g: MapGeometry, slot: number): { x: number; y: number } {
  const r = poolRect(g.layout, slot);
  const s = worldToScreen(g.view, r.x + r.width / 2, r.y + r.height / 2);
  return { x: g.box.x + s.x, y: g.box.y + s.y };
}

function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.max(Math.abs(a[0]! - b[0]!), Math.abs(a[1]! - b[1]!), Math.abs(a[2]! - b[2]!));
}

/**
 * Checks that each pool in `slots` is drawn in the colour of its state as the host has it now
 * (heapmap/palette.ts: class hue, shade by fullness; never carved, not live...). Returns the
 * states checked.
 */
async function expectPoolsDrawn(rig: Rig, img: Rgba, slots: number[]): Promise<number[]> {
  const g = await mapGeometry(rig);
  const states = await poolStates(rig);
  // Slots past the array (no arena vector yet) are not live, and not drawn: there is no tile
  // for them, and the map shows its background (checked at its centre).
  const stateOf = (slot: number): number => states[slot] ?? POOL_ARENA_NOT_LIVE;
  for (const slot of slots) {
    let c: { x: number; y: number };
    let want: readonly number[];
    if (slot < states.length) {
      c = poolCenter(g, slot);
      expect(c.x > g.box.x && c.x < g.box.x + g.box.width && c.y > g.box.y && c.y < g.box.y + g.box.height, `pool ${slot} on screen`).toBe(true);
      want = poolColor(g.theme, g.alignment, stateOf(slot));
    } else {
      expect(g.layout.arenas, 'no tiles for an empty pool-state array').toBe(0);
      c = { x: g.box.x + g.box.width / 2, y: g.box.y + g.box.height / 2 };
      want = paletteColor(g.theme, g.alignment, ROW_UI, UI_BACKGROUND);
    }
    const got = pixelAt(img, c.x, c.y);
    expect(colourDistance(got, want), `pool ${slot} (state ${stateOf(slot)}) drawn as rgb(${want.join(',')}), got rgb(${got.slice(0, 3).join(',')})`).toBeLessThanOrEqual(3);
  }
  return slots.map(stateOf);
}

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

const run = browserAvailable();
/** Generous: CI runs this beside other test files on two cores. */
const POLL = { timeout: 20_000 };

describe.runIf(run)('the app in Chromium, bridged to the real simulation host', () => {
  let rig: Rig;
  let savedPath = '';
  /** Pool states after `x = [1000, 2000]` on 3.13 (core/pymalloc/pool-state.ts): slots 0, 1, 2 in
   * use by class 1 (the ints, 2 of 508 blocks), 3 (the list, 1 of 255) and 0 (the item array, 1
   * of 1021), each at the lowest non-empty fullness; slot 10 never carved. */
  const AFTER_RUN = [poolStateValue(POOL_USED, 1, 1), poolStateValue(POOL_USED, 3, 1), poolStateValue(POOL_USED, 0, 1), POOL_NEVER_CARVED];

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out/renderer/index.html')), 'run `npx electron-vite build` first').toBe(true);
    expect(existsSync(WORKER), 'run `node scripts/build-cli.mjs` first').toBe(true);
    rig = await startRig();
    await settle(rig);
  });

  afterAll(async () => {
    await rig?.b.close();
    await rig?.host.dispose();
  });

  it('starts on an empty 3.13 session with no arena drawn', async () => {
    await at(rig, '0 / 0');
    const sum = await rig.host.request({ op: 'query', query: { what: 'summary' } });
    expect(sum.arenasLive).toBe(0);
    expect(usedPools(await poolStates(rig))).toEqual([]);
    const img = await shot(rig, '01-empty');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2, 10])).toEqual([POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE]);
    expect(rig.b.errors).toEqual([]);
  });

  it('runs `x = [1000, 2000]` typed into the console; its pools light up on the canvas', async () => {
    const page = rig.b.page;
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('x = [1000, 2000]');
    await page.keyboard.press('Control+Enter');
    await page.locator('[data-testid="transcript"] .entry').first().waitFor();
    await settle(rig);
    await at(rig, '4 / 4');
    // Ctrl+Enter ran it once: one transcript entry, no "wait for python" notice of a second run.
    expect(await page.locator('[data-testid="transcript"] .entry').count()).toBe(1);
    expect(await page.locator('.toast').count()).toBe(0);

    // The simulation's own answer: on 3.13 the ints take 32-byte blocks (class 1), the list
    // object 56 bytes -> 64 (class 3), its item array 16 bytes (class 0); one pool each,
    // carved in that order in arena 0.
    const used = usedPools(await poolStates(rig));
    expect(used).toEqual([
      { slot: 0, szidx: 1 },
      { slot: 1, szidx: 3 },
      { slot: 2, szidx: 0 },
    ]);
    await rig.b.page.mouse.move(2, 2);
    const img = await shot(rig, '02-after-run');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2, 10])).toEqual(AFTER_RUN);
    // The three classes are told apart on screen, and from a pool never carved.
    const g = await mapGeometry(rig);
    const px = [0, 1, 2, 10].map((slot) => pixelAt(img, poolCenter(g, slot).x, poolCenter(g, slot).y));
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) expect(colourDistance(px[i]!, px[j]!), `pools ${i} and ${j} differ`).toBeGreaterThan(4);

    // The raw region below the arenas, from the worker's rawChunks answer: the brk heap (0x21000
    // bytes: 9 cells of 16 KiB, the arena vector and a radix-tree node in use up to 800 bytes
    // into the last) and the mmapped radix-tree node (0x41000 bytes: 17 cells), a cell apart.
    expect([g.layout.rawCells, g.layout.rawY]).toEqual([27, g.layout.tileRows * 9 - 1 + 2]);
    const cell = (c: number): { x: number; y: number } => {
      const s = worldToScreen(g.view, (c % g.layout.rawWidth) + 0.5, g.layout.rawY + Math.floor(c / g.layout.rawWidth) + 0.5);
      return { x: g.box.x + s.x, y: g.box.y + s.y };
    };
    for (const [c, want] of [
      [2, paletteColor(g.theme, g.alignment, ROW_RAW_BRK, 15)],
      [8, paletteColor(g.theme, g.alignment, ROW_RAW_BRK, 3)],
      [9, paletteColor(g.theme, g.alignment, ROW_UI, UI_BACKGROUND)],
      [14, paletteColor(g.theme, g.alignment, ROW_RAW_MMAP, 15)],
    ] as const) {
      const got = pixelAt(img, cell(c).x, cell(c).y);
      expect(colourDistance(got, want), `raw cell ${c} drawn as rgb(${want.join(',')}), got rgb(${got.slice(0, 3).join(',')})`).toBeLessThanOrEqual(3);
    }
    // Its tooltip names the chunk malloc gave the arena vector (16 arena objects of 48 bytes).
    const c0 = cell(0);
    await page.mouse.move(g.box.x + worldToScreen(g.view, 0.01, g.layout.rawY + 0.5).x, c0.y);
    await expect.poll(() => page.locator('[data-testid="heapmap-tooltip"]').innerText(), POLL).toBe('malloc chunk 0x555555579000 · brk heap\n784 bytes · 776 usable · malloc returned 0x555555579010');
    // A click opens the inspector on the pointer malloc returned.
    await page.mouse.down();
    await page.mouse.up();
    await settle(rig);
    await expect.poll(async () => (await page.locator('[data-testid="inspector"] h2').innerText()).trim(), POLL).toBe('Address 0x555555579010');
    await page.mouse.move(2, 2);
  });

  it('opens the pool inspector on the ints\' pool and reads its header values', async () => {
    const page = rig.b.page;
    const c = poolCenter(await mapGeometry(rig), 0);
    await page.mouse.click(c.x, c.y);
    await settle(rig);
    const header = page.locator('[data-testid="pool-header"]');
    await header.waitFor();
    const value = async (name: string): Promise<string> => (await header.locator(`tr[data-field="${name}"] td`).nth(2).innerText()).trim();
    const pool = (await rig.host.request({ op: 'query', query: { what: 'pool', slot: 0 } })) as PoolInfo;
    // Two 32-byte ints: ref.count 2; the third block is next (nextoffset = 48 + 3 * 32 after
    // two allocations from a fresh pool: carve hands out block 0 and points freeblock at 1).
    expect(await value('ref.count')).toBe('2');
    expect(await value('szidx')).toBe('1');
    expect(await value('arenaindex')).toBe('0');
    expect(await value('maxnextoffset')).toBe(String(pool.header.find((f) => f.name === 'maxnextoffset')!.value));
    expect(Number(await value('maxnextoffset'))).toBe(16384 - 32);
    for (const f of pool.header) expect(await value(f.name)).toBe(f.value);
    expect(await page.locator('[data-testid="pool-blocks"] .block.s2').count()).toBe(2);
    await shot(rig, '03-inspector-pool');
  });

  it('shows the list object\'s bytes and follows ob_item to its item array', async () => {
    const page = rig.b.page;
    const c = poolCenter(await mapGeometry(rig), 1);
    await page.mouse.click(c.x, c.y);
    await settle(rig);
    await page.locator('[data-testid="pool-blocks"] [aria-label="block 0"]').click();
    await settle(rig);
    expect(await page.locator('[data-testid="object-type"]').innerText()).toBe('list');
    expect(await page.locator('[data-testid="refcount"]').innerText()).toBe('1');
    expect(await page.locator('[data-testid="lost"]').innerText()).toBe('8 bytes');
    const bv = page.locator('[data-testid="byteview"]');
    // ob_refcnt = 1 at +16, little-endian
    expect((await bv.locator('.row').nth(2).locator('.cell').allInnerTexts()).join(' ')).toBe('01 00 00 00 00 00 00 00');
    await shot(rig, '04-inspector-block');
    const link = bv.locator('.note', { hasText: 'ob_item' }).locator('button');
    const target = Number.parseInt((await link.innerText()).trim(), 16);
    await link.click();
    await settle(rig);
    const info = await rig.host.request({ op: 'query', query: { what: 'block', address: target } });
    expect(info.pool).toBe(2);
    expect(info.sizeClass).toBe(0);
    await expect.poll(async () => (await page.locator('[data-testid="inspector"] h2').innerText()).trim(), POLL).toBe(`Block ${info.block} 0x${info.address.toString(16)}`);
    expect(await page.locator('[data-testid="contents-what"]').innerText()).toBe('list items');
    // ob_item[1] points at the second int: 2000 in one 30-bit digit.
    await bv.locator('.note', { hasText: 'ob_item[1]' }).locator('button').click();
    await settle(rig);
    expect(await page.locator('[data-testid="object-type"]').innerText()).toBe('int');
    expect((await bv.locator('.note', { hasText: 'ob_digit[0]' }).innerText()).replace(/\s+/g, ' ')).toBe('ob_digit[0] 2000');
    expect(await page.locator('[data-testid="lost"]').innerText()).toBe('4 bytes');
    await shot(rig, '05-inspector-int');
    await page.getByRole('button', { name: '← Back' }).click();
    await settle(rig);
    expect(await page.locator('[data-testid="contents-what"]').innerText()).toBe('list items');
    await page.getByRole('button', { name: '← Back' }).click();
    await settle(rig);
    expect(await page.locator('[data-testid="object-type"]').innerText()).toBe('list');
  });

  it('scrubs the timeline back and forth; the position and the pixels follow', async () => {
    const page = rig.b.page;
    // Keys go to the app, not to a focused field.
    await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.blur?.());
    // Step back with the keyboard, one allocator call at a time, to the start.
    const seen: { slot: number; szidx: number }[][] = [];
    for (let p = 3; p >= 0; p--) {
      await page.keyboard.press('ArrowLeft');
      await settle(rig);
      await at(rig, `${p} / 4`);
      seen.push(usedPools(await poolStates(rig)));
    }
    // Back at 0 nothing is allocated; at 1 only the first int's pool.
    expect(seen[3]).toEqual([]);
    expect(seen[2]).toEqual([{ slot: 0, szidx: 1 }]);
    await page.mouse.move(2, 2);
    let img = await shot(rig, '06-timeline-start');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2, 10])).toEqual([POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE]);
    // Click the middle of the track: position 2 of 4.
    const track = (await page.locator('[data-testid="timeline-track"]').boundingBox())!;
    await page.mouse.click(track.x + track.width / 2, track.y + track.height / 2);
    await settle(rig);
    await at(rig, '2 / 4');
    await page.mouse.move(2, 2);
    img = await shot(rig, '06b-timeline-middle');
    // Two calls in: both ints, nothing else yet.
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2])).toEqual([poolStateValue(POOL_USED, 1, 1), POOL_NEVER_CARVED, POOL_NEVER_CARVED]);
    // Forward to the end: the pixels are the ones after the run again.
    await page.keyboard.press('End');
    await settle(rig);
    await at(rig, '4 / 4');
    img = await shot(rig, '07-timeline-end');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2, 10])).toEqual(AFTER_RUN);

    // Play from the start: it runs to the end and stops there.
    await page.keyboard.press('Home');
    await settle(rig);
    await at(rig, '0 / 4');
    await page.getByTestId('play').click();
    await expect.poll(() => positionText(rig), POLL).toBe('4 / 4');
    await expect.poll(() => page.getByTestId('play').getAttribute('aria-label'), POLL).toBe('play');

    // A bookmark at 2; from the end, the previous marker is the bookmark (then the input at 0).
    await page.mouse.click(track.x + track.width / 2, track.y + track.height / 2);
    await settle(rig);
    await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.blur?.());
    await page.keyboard.press('b');
    await expect.poll(async () => (await rig.host.request({ op: 'pause' })).ui.bookmarks, POLL).toEqual([{ op: 2, label: 'bookmark 1' }]);
    await page.keyboard.press('End');
    await settle(rig);
    await page.keyboard.press('Shift+ArrowLeft');
    await settle(rig);
    await at(rig, '2 / 4');
    await page.keyboard.press('Shift+ArrowLeft');
    await settle(rig);
    await at(rig, '0 / 4');
    await page.keyboard.press('End');
    await settle(rig);
  });

  it('marks a runtime error at its line and column in the editor', async () => {
    const page = rig.b.page;
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('y = 1\nz = undefined_name + y');
    await page.getByTestId('run').click();
    await page.locator('[data-testid="error"]').waitFor();
    expect(await page.locator('[data-testid="error"]').innerText()).toBe("line 2 col 5: NameError: name 'undefined_name' is not defined");
    expect(await page.locator('.cm-py-error').innerText()).toBe('undefined_name');
    await settle(rig);
    await shot(rig, '08-console-error');
  });

  it('saves the session to a real file and reopens it in the same state', async () => {
    const page = rig.b.page;
    const before = await rig.host.request({ op: 'query', query: { what: 'summary' } });
    const beforeStates = await poolStates(rig);
    const beforePos = await positionText(rig);
    savedPath = join(rig.dataDir, 'scenario.pyheap');
    rig.dialogs.next.push(savedPath);
    await page.getByRole('button', { name: 'Save As…' }).click();
    await expect.poll(() => existsSync(savedPath), POLL).toBe(true);
    expect(Array.from(readFileSync(savedPath).subarray(0, 8))).toEqual(Array.from(SESSION_MAGIC));

    // A new, empty session: the pools go dark.
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await settle(rig);
    await at(rig, '0 / 0');
    await page.mouse.move(2, 2);
    let img = await shot(rig, '09-new-session');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2])).toEqual([POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE, POOL_ARENA_NOT_LIVE]);

    rig.dialogs.next.push(savedPath);
    await page.getByRole('button', { name: 'Open…' }).click();
    await settle(rig);
    await at(rig, beforePos);
    expect(await rig.host.request({ op: 'query', query: { what: 'summary' } })).toEqual(before);
    expect(Array.from(await poolStates(rig))).toEqual(Array.from(beforeStates));
    await page.mouse.move(2, 2);
    img = await shot(rig, '10-reopened');
    expect(await expectPoolsDrawn(rig, img, [0, 1, 2, 10])).toEqual(AFTER_RUN);
    expect(await page.locator('.file').innerText()).toBe('scenario.pyheap');
    // The layout fits 1280 x 800 with a file name in the top bar: nothing spills sideways.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number }; querySelector(s: string): { scrollWidth: number } | null } }).document.querySelector('header')?.scrollWidth)).toBeLessThanOrEqual(1280);
    // The bookmark came back with the session.
    expect((await rig.host.request({ op: 'pause' })).ui.bookmarks).toEqual([{ op: 2, label: 'bookmark 1' }]);
  });

  it('shows statistics and the version panel', async () => {
    const page = rig.b.page;
    await page.getByRole('tab', { name: 'Statistics' }).click();
    await page.locator('[data-testid="size-classes"]').waitFor();
    await settle(rig);
    const rows = await page.locator('[data-testid="size-classes"] tbody tr').allInnerTexts();
    // classes 0, 1, 3 (and 2 for the NameError's run: `y = 1` and the error's objects may add
    // more); the first three rows as _debugmallocstats prints them
    expect(rows.map((r) => r.split(/\s+/).slice(0, 2).join(' '))).toEqual(expect.arrayContaining(['0 16', '1 32', '3 64']));
    expect(await page.locator('[data-testid="stats-total"]').innerText()).toBe('1,048,576');
    await shot(rig, '11-statistics');
    await page.getByRole('tab', { name: 'Version' }).click();
    await page.locator('[data-testid="version-panel"]').waitFor();
    await shot(rig, '12-version');
    expect(rig.b.errors).toEqual([]);
  });

  it('imports a trace file dropped on the window', async () => {
    const page = rig.b.page;
    const name = 'edge_freelist_lifo.trace';
    const text = readFileSync(join(ROOT, 'test/fixtures/golden/pymalloc-3.11', name), 'utf8');
    const before = (await rig.host.request({ op: 'pause' })).total;
    // (A string, so this Node-side file needs no DOM types.)
    await page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'text/plain' }));
      window.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await expect.poll(async () => (await rig.host.request({ op: 'pause' })).inputs.at(-1)?.label, POLL).toBe(`trace ${name}`);
    await settle(rig);
    const st = await rig.host.request({ op: 'pause' });
    const ops = text.split('\n').filter((l) => /^[afr] /.test(l)).length;
    expect(st.total - before).toBe(ops);
    await at(rig, `${st.total} / ${st.total}`);
    expect(await page.locator('.toast', { hasText: `Imported ${name}: ${ops} operations` }).count()).toBe(1);
  });

  it('launches a workload with its parameters, shows its progress and cancels it', async () => {
    const page = rig.b.page;
    const before = (await rig.host.request({ op: 'pause' })).total;
    await page.getByRole('button', { name: 'Workload…' }).click();
    await page.locator('label', { hasText: 'operations' }).locator('input').fill('50000000');
    await page.locator('label', { hasText: 'seed' }).locator('input').fill('7');
    await page.getByRole('button', { name: 'Start' }).click();
    // Progress arrives while the worker runs it; then Cancel stops it where it is.
    await expect.poll(async () => page.locator('.job progress[value]').count(), { timeout: 60_000 }).toBe(1);
    await shot(rig, '13-workload-running');
    await page.getByTestId('cancel').click();
    await expect.poll(async () => page.getByTestId('cancel').count(), { timeout: 60_000 }).toBe(0);
    await settle(rig);
    const st = await rig.host.request({ op: 'pause' });
    const input = st.inputs[st.inputs.length - 1]!;
    expect(input.kind).toBe('workload');
    expect(input.label).toBe('workload churn seed 7');
    expect(input.interrupted).toBe(true);
    expect(input.start).toBe(before);
    expect(input.end - input.start).toBeGreaterThan(0);
    expect(input.end - input.start).toBeLessThan(50_000_000);
    await at(rig, `${st.total.toLocaleString('en-US')} / ${st.total.toLocaleString('en-US')}`);
    await shot(rig, '14-workload-cancelled');
  });
});
