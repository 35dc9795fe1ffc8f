/**
 * The heap map's behaviour, between the component (HeapMap.svelte) and the GPU (engine.ts):
 * layout and view, pan and zoom (pointer, wheel, keyboard, minimap), hover and click, and the
 * block data of the pools on screen at deep zoom (loaded through `loadPool`, cached, dropped when
 * their pool's state changes, written into the engine's block atlas).
 *
 * The layout follows three inputs: the pool-state array's length (arena slots), the arena
 * addresses (tiles in address order) and the raw region (raw.ts). An empty layout (no arena
 * slot, no raw memory) has no view to speak of: the map shows its background, the view is
 * EMPTY_VIEW whatever the user does, and the next heap to appear is fitted whole.
 *
 * It knows no Svelte: the component passes a `HeapMapUi` sink and reads nothing back but what
 * the sink receives. Every change of what is drawn ends in `engine.invalidate()`, so frames are
 * drawn only when something changed.
 */
import type { PoolInfo } from '../../../shared/protocol';
import { POOL_EMPTY, POOL_USED, poolStatusOf } from '../../../core/pymalloc/pool-state';
import { HeapMapEngine, type MinimapPlacement } from './engine';
import {
  ARENA_PICK_SCALE,
  arenaCount,
  arenaOrder,
  arenaRect,
  atlasKey,
  BLOCK_ATLAS_MAX_BLOCKS,
  BLOCK_ATLAS_SIDE,
  blockAt,
  blockGrid,
  blockRectInPool,
  blocksVisible,
  clampView,
  fitView,
  hitTest,
  isEmptyLayout,
  makeLayout,
  panBy,
  poolGridPos,
  poolRect,
  sameLayout,
  screenToWorld,
  viewOfRect,
  visibleSlots,
  zoomAt,
  zoomLimits,
  type HeapLayout,
  type Rect,
  type View,
  type Viewport,
} from './layout';
import type { Theme } from './palette';
import { chunkIndexAt, chunkOfPointer, chunkRects, CHUNK_HDR_SZ, EMPTY_TAPE, makeRawTape, rawHit, type RawTape } from './raw';
import { rangesContain } from './ranges';
import type { HoverInfo } from './tooltip';
import { RAW_MMAP, type HeapSelection, type RawRegions, type RenderInfo, type SlotRange } from './types';

export interface ViewState {
  /** Nothing to show (no arena slot, no raw memory): `view` is EMPTY_VIEW. */
  empty: boolean;
  view: View;
  viewport: Viewport;
  layout: HeapLayout;
  /** Scale (CSS px per pool) that fits the whole map. */
  fitScale: number;
  blocks: boolean;
  minimap: MinimapPlacement | null;
}

export interface HeapMapUi {
  hover(info: HoverInfo | null): void;
  view(state: ViewState): void;
  error(message: string): void;
}

export interface ControllerOptions {
  loadPool: (slot: number) => Promise<PoolInfo | null>;
  onSelect: (s: HeapSelection) => void;
  onRender?: (info: RenderInfo) => void;
}

/** Pools whose blocks are kept (most recently used). */
const POOL_CACHE_LIMIT = 2048;
/** Block loads in flight at once. */
const MAX_INFLIGHT = 12;
/** A press that moves less than this (CSS px) is a click, not a drag. */
const CLICK_SLOP = 4;
const MINIMAP_MAX = { width: 200, height: 140 };
/** While the view moves, the UI (zoom readout, legend) hears of it at most this often (ms). */
const UI_VIEW_INTERVAL = 120;
const MINIMAP_MARGIN = 12;

/** The view of an empty layout: nothing is drawn, no blocks, no minimap. */
export const EMPTY_VIEW: Readonly<View> = { x: 0, y: 0, scale: 1 };

/** The smallest rectangle holding `rects` (which must not be empty). */
function bounds(rects: readonly Rect[]): Rect {
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.width));
  const y1 = Math.max(...rects.map((r) => r.y + r.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Blocks of a pool the map draws: the atlas holds at most BLOCK_ATLAS_MAX_BLOCKS (CPython: 1,021). */
function drawnCapacity(info: PoolInfo): number {
  return Math.min(info.capacity, info.blocks.length, BLOCK_ATLAS_MAX_BLOCKS);
}

export class HeapMapController {
  readonly engine: HeapMapEngine;
  private layout: HeapLayout = makeLayout(0, 64);
  /** The aspect the tiles were laid out for (kept until the arena count changes). */
  private layoutAspect = 1.6;
  private view: View = { ...EMPTY_VIEW };
  private viewport: Viewport;
  /** True until the user pans or zooms: layout changes re-fit the view. */
  private pristine = true;
  private states = new Uint16Array(0);
  private statesVersion = 0;
  private poolsPerArena = 64;
  /** Arena addresses by index (null: unknown, index order). */
  private addresses: Float64Array | null = null;
  private tape: RawTape = EMPTY_TAPE;
  private selected: HeapSelection | null = null;
  private hoverSlot = -1;
  private hoverBlock = -1;
  private hoverRaw = -1;
  private lastPointer: { x: number; y: number } | null = null;
  private theme: Theme = 'dark';
  private alignment = 16;
  private readonly cache = new Map<number, PoolInfo | null>();
  private readonly inflight = new Set<number>();
  private readonly staleInflight = new Set<number>();
  private readonly queue: number[] = [];
  private readonly atlasSlot = new Int32Array(BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE).fill(-1);
  private blocksOn = false;
  private minimap: MinimapPlacement | null = null;
  private drag: { id: number; x: number; y: number; moved: boolean; minimap: boolean } | null = null;
  private readonly resizeObserver: ResizeObserver;
  private dprQuery: MediaQueryList | null = null;
  private destroyed = false;
  private lastUiView = 0;
  private uiTimer: ReturnType<typeof setTimeout> | null = null;
  private lastUiShape = '';

  constructor(
    private readonly host: HTMLElement,
    private readonly ui: HeapMapUi,
    private options: ControllerOptions,
  ) {
    this.viewport = this.measure();
    this.engine = new HeapMapEngine(host, this.viewport, devicePixelRatio || 1, {
      onFrame: (frame) => this.options.onRender?.({ frame, statesVersion: this.statesVersion, blocks: this.blocksOn }),
      onError: (m) => this.ui.error(m),
    });
    this.resizeObserver = new ResizeObserver(() => this.onResize());
    this.resizeObserver.observe(host);
    this.watchDpr();
    host.addEventListener('pointerdown', this.onPointerDown);
    host.addEventListener('pointermove', this.onPointerMove);
    host.addEventListener('pointerup', this.onPointerUp);
    host.addEventListener('pointercancel', this.onPointerCancel);
    host.addEventListener('pointerleave', this.onPointerLeave);
    host.addEventListener('wheel', this.onWheel, { passive: false });
    host.addEventListener('keydown', this.onKeyDown);
    host.addEventListener('dblclick', this.onDoubleClick);
    this.apply();
  }

  setOptions(options: ControllerOptions): void {
    this.options = options;
  }

  private measure(): Viewport {
    const r = this.host.getBoundingClientRect();
    return { width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
  }

  private watchDpr(): void {
    this.dprQuery?.removeEventListener('change', this.onDprChange);
    this.dprQuery = matchMedia(`(resolution: ${devicePixelRatio || 1}dppx)`);
    this.dprQuery.addEventListener('change', this.onDprChange);
  }

  private readonly onDprChange = (): void => {
    this.watchDpr();
    this.onResize();
  };

  private onResize(): void {
    if (this.destroyed) return;
    const vp = this.measure();
    const changed = vp.width !== this.viewport.width || vp.height !== this.viewport.height;
    this.viewport = vp;
    this.engine.resize(vp, devicePixelRatio || 1);
    if (changed && this.pristine) this.view = this.fitted();
    this.apply();
  }

  /** The view that shows the whole map (EMPTY_VIEW for an empty one). */
  private fitted(): View {
    return isEmptyLayout(this.layout) ? { ...EMPTY_VIEW } : fitView(this.layout, this.viewport);
  }

  /**
   * Lays the map out again for `slots` pool slots, the arena addresses and the raw tape; returns
   * whether anything moved. An empty layout resets the view; a map that was empty, or a view
   * the user has not moved, is fitted.
   */
  private relayout(slots: number): boolean {
    const prev = this.layout;
    const arenas = arenaCount(slots, this.poolsPerArena);
    if (arenas !== prev.arenas || this.poolsPerArena !== prev.poolsPerArena || isEmptyLayout(prev)) this.layoutAspect = this.viewport.width / this.viewport.height;
    const next = makeLayout(arenas, this.poolsPerArena, this.layoutAspect, 1, { order: arenaOrder(this.addresses, arenas), rawCells: this.tape.cells });
    const moved = !sameLayout(prev, next);
    if (moved) {
      this.layout = next;
      if (isEmptyLayout(next) || isEmptyLayout(prev) || this.pristine) {
        this.pristine = true;
        this.view = this.fitted();
      }
    }
    this.engine.setLayout(this.layout);
    return moved;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs from the component
  // ---------------------------------------------------------------------------------------------

  setStates(states: Uint16Array, changed: readonly SlotRange[] | null, poolsPerArena: number): void {
    const ppaChanged = poolsPerArena !== this.poolsPerArena;
    this.poolsPerArena = poolsPerArena;
    const moved = this.relayout(states.length);
    // A moved layout puts pools elsewhere in the atlas key space: their blocks are dropped.
    const full = changed === null || ppaChanged || moved || states.length !== this.states.length;
    this.engine.setStates(states, full ? null : changed);
    // The controller keeps its own copy for hit tests and tooltips.
    if (states.length !== this.states.length) this.states = new Uint16Array(states.length);
    if (full) this.states.set(states);
    else for (const r of changed) this.states.set(states.subarray(Math.max(0, r.start), Math.min(states.length, r.end)), Math.max(0, r.start));
    this.statesVersion++;
    this.invalidateBlocks(full ? null : [...changed].sort((a, b) => a.start - b.start));
    this.apply();
    this.refreshHover();
  }

  /**
   * Sets the arena addresses (one per arena index, 0 for a slot with no arena; null: unknown):
   * tiles go in address order.
   */
  setArenaAddresses(addresses: Float64Array | null): void {
    this.addresses = addresses;
    if (this.relayout(this.states.length)) this.invalidateBlocks(null);
    this.apply();
    this.refreshHover();
  }

  /** Sets the raw region's contents (null: none). */
  setRaw(raw: RawRegions | null): void {
    this.tape = makeRawTape(raw);
    if (this.relayout(this.states.length)) this.invalidateBlocks(null);
    this.engine.setRaw(this.tape);
    this.apply();
    this.refreshHover();
  }

  setSelected(sel: HeapSelection | null): void {
    this.selected = sel;
    this.apply();
  }

  setTheme(theme: Theme, alignment: number): void {
    this.theme = theme;
    this.alignment = alignment;
    this.engine.setTheme(theme, alignment);
  }

  get currentView(): View {
    return { ...this.view };
  }

  get currentLayout(): HeapLayout {
    return this.layout;
  }

  get currentViewport(): Viewport {
    return { ...this.viewport };
  }

  get version(): number {
    return this.statesVersion;
  }

  /** Whether the current view draws blocks. */
  get blocksShown(): boolean {
    return this.blocksOn;
  }

  /** Where the minimap is, when shown. */
  get minimapPlacement(): MinimapPlacement | null {
    return this.minimap;
  }

  /** Moves the view (an empty map keeps EMPTY_VIEW: there is nothing to move over). */
  setView(v: View): void {
    if (isEmptyLayout(this.layout)) return;
    this.pristine = false;
    this.view = clampView(this.clampScale(v), this.layout, this.viewport);
    this.apply();
    this.refreshHover();
  }

  fit(): void {
    this.pristine = true;
    this.view = this.fitted();
    this.apply();
    this.refreshHover();
  }

  /** Zooms to show `sel` (an arena, a pool, a block with its pool's neighbourhood, a raw chunk). */
  zoomTo(sel: HeapSelection): void {
    let rect: Rect;
    if (sel.kind === 'arena') rect = arenaRect(this.layout, sel.arena);
    else if (sel.kind === 'raw') {
      const i = chunkOfPointer(this.tape, sel.address);
      const rects = i < 0 ? [] : chunkRects(this.layout, this.tape, i);
      if (rects.length === 0) return;
      rect = bounds(rects);
    } else {
      rect = poolRect(this.layout, sel.slot);
      if (sel.kind === 'block') {
        const info = this.cache.get(sel.slot);
        if (info) {
          const b = blockRectInPool(drawnCapacity(info), sel.block);
          rect = { x: rect.x + b.x - b.width * 2, y: rect.y + b.y - b.height * 2, width: b.width * 5, height: b.height * 5 };
        }
      }
    }
    const margin = Math.min(this.viewport.width, this.viewport.height) * 0.08;
    this.setView(viewOfRect(this.viewport, rect, margin));
  }

  private clampScale(v: View): View {
    const lim = zoomLimits(this.layout, this.viewport);
    const scale = Math.min(lim.max, Math.max(lim.min, v.scale));
    if (scale === v.scale) return v;
    // Keep the centre where it was.
    const cx = v.x + this.viewport.width / 2 / v.scale;
    const cy = v.y + this.viewport.height / 2 / v.scale;
    return { scale, x: cx - this.viewport.width / 2 / scale, y: cy - this.viewport.height / 2 / scale };
  }

  // ---------------------------------------------------------------------------------------------
  // Drawing
  // ---------------------------------------------------------------------------------------------

  private apply(): void {
    if (this.destroyed) return;
    const fit = this.fitted();
    const empty = isEmptyLayout(this.layout);
    this.blocksOn = !empty && blocksVisible(this.view, this.viewport);
    this.minimap = empty ? null : this.placeMinimap(fit);
    this.engine.setScene(this.view, this.blocksOn, this.selected, { slot: this.hoverSlot, block: this.hoverBlock, rawChunk: this.hoverRaw });
    this.engine.setMinimap(this.minimap, this.view);
    if (this.blocksOn) this.syncBlocks();
    this.pushView(fit.scale);
  }

  /**
   * Tells the UI about the view: at once when what it shows changes shape (blocks, minimap,
   * layout), else at most every UI_VIEW_INTERVAL ms with the latest view. DOM updates on every
   * frame of a pan would cost the compositor more than the map itself in software WebGL.
   */
  private pushView(fitScale: number): void {
    const empty = isEmptyLayout(this.layout);
    const shape = `${empty}/${this.blocksOn}/${this.minimap !== null}/${this.layout.arenas}/${this.layout.rawCells}/${this.viewport.width}x${this.viewport.height}`;
    const send = (): void => {
      this.uiTimer = null;
      this.lastUiView = performance.now();
      this.lastUiShape = shape;
      this.ui.view({ empty, view: { ...this.view }, viewport: { ...this.viewport }, layout: this.layout, fitScale, blocks: this.blocksOn, minimap: this.minimap });
    };
    if (shape !== this.lastUiShape || performance.now() - this.lastUiView >= UI_VIEW_INTERVAL) {
      if (this.uiTimer !== null) clearTimeout(this.uiTimer);
      send();
    } else if (this.uiTimer === null) {
      this.uiTimer = setTimeout(() => {
        if (!this.destroyed) this.pushView(this.fitted().scale);
      }, UI_VIEW_INTERVAL);
    }
  }

  /** The minimap, when the view shows less than the whole map. */
  private placeMinimap(fit: View): MinimapPlacement | null {
    const L = this.layout;
    if (isEmptyLayout(L)) return null;
    const v = this.view;
    const wholeVisible =
      v.x <= 0 && v.y <= 0 && v.x + this.viewport.width / v.scale >= L.width && v.y + this.viewport.height / v.scale >= L.height;
    if (wholeVisible || v.scale < fit.scale * 1.25) return null;
    const aspect = L.width / Math.max(L.height, 1e-9);
    let width = MINIMAP_MAX.width;
    let height = width / aspect;
    if (height > MINIMAP_MAX.height) {
      height = MINIMAP_MAX.height;
      width = height * aspect;
    }
    width = Math.max(24, Math.round(width));
    height = Math.max(24, Math.round(height));
    if (width + 2 * MINIMAP_MARGIN > this.viewport.width || height + 2 * MINIMAP_MARGIN > this.viewport.height) return null;
    const x = this.viewport.width - width - MINIMAP_MARGIN;
    const y = this.viewport.height - height - MINIMAP_MARGIN;
    return { x, y, width, height, view: fitView(L, { width, height }, 3) };
  }

  // ---------------------------------------------------------------------------------------------
  // Blocks at deep zoom
  // ---------------------------------------------------------------------------------------------

  /**
   * Drops the cached blocks of pools in `sortedRanges` (null: all). Atlas rows keep showing the
   * old blocks until the reload replaces them (no flicker while stepping at deep zoom; the shader
   * draws blocks only for pools still used or empty); after a full change (another session,
   * a seek far away) the atlas is cleared instead.
   */
  private invalidateBlocks(sortedRanges: SlotRange[] | null): void {
    if (sortedRanges === null) {
      this.cache.clear();
      for (const slot of this.inflight) this.staleInflight.add(slot);
      this.queue.length = 0;
      this.atlasSlot.fill(-1);
      this.engine.clearBlocks();
      return;
    }
    if (sortedRanges.length === 0) return;
    const hit = (slot: number): boolean => rangesContain(sortedRanges, slot);
    for (const slot of [...this.cache.keys()]) if (hit(slot)) this.cache.delete(slot);
    for (const slot of this.inflight) if (hit(slot)) this.staleInflight.add(slot);
  }

  private hasBlocks(slot: number): boolean {
    const st = poolStatusOf(this.states[slot] ?? 0);
    return st === POOL_USED || st === POOL_EMPTY;
  }

  private syncBlocks(): void {
    const slots = visibleSlots(this.layout, this.view, this.viewport, BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE);
    const wanted: number[] = [];
    for (const slot of slots) {
      if (!this.hasBlocks(slot)) continue;
      const { gx, gy } = poolGridPos(this.layout, slot);
      const key = atlasKey(gx, gy);
      const info = this.cache.get(slot);
      if (info !== undefined) {
        // Refresh its place in the LRU order.
        this.cache.delete(slot);
        this.cache.set(slot, info);
        if (this.atlasSlot[key] !== slot) this.writeAtlas(key, slot, info);
      } else if (!this.inflight.has(slot)) {
        wanted.push(slot);
      }
    }
    this.queue.length = 0;
    this.queue.push(...wanted);
    this.pump();
  }

  private writeAtlas(key: number, slot: number, info: PoolInfo | null): void {
    if (info === null || !info.carved) {
      this.engine.writeBlocks(key, slot, null, [], 1);
      this.atlasSlot[key] = -1;
      return;
    }
    const cap = drawnCapacity(info);
    this.engine.writeBlocks(key, slot, info.blocks.slice(0, cap), info.freeList, blockGrid(cap).cols);
    this.atlasSlot[key] = slot;
  }

  private pump(): void {
    while (this.inflight.size < MAX_INFLIGHT && this.queue.length > 0) {
      const slot = this.queue.shift()!;
      if (this.inflight.has(slot) || this.cache.has(slot)) continue;
      this.inflight.add(slot);
      let pending: Promise<PoolInfo | null>;
      try {
        pending = this.options.loadPool(slot);
      } catch {
        pending = Promise.resolve(null);
      }
      pending.then(
        (info) => this.onLoaded(slot, info),
        () => this.onLoaded(slot, null),
      );
    }
  }

  private onLoaded(slot: number, info: PoolInfo | null): void {
    this.inflight.delete(slot);
    if (this.destroyed) return;
    if (this.staleInflight.delete(slot)) {
      // Its pool changed while loading: ask again if it is still wanted.
      if (this.blocksOn) this.syncBlocks();
      return;
    }
    this.cache.set(slot, info);
    while (this.cache.size > POOL_CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value as number;
      this.cache.delete(oldest);
    }
    if (this.blocksOn) {
      const { gx, gy } = poolGridPos(this.layout, slot);
      const key = atlasKey(gx, gy);
      if (this.hasBlocks(slot)) this.writeAtlas(key, slot, info);
      this.pump();
    }
    if (this.hoverSlot === slot) this.refreshHover();
  }

  /** Blocks of a pool, when loaded (for the tooltip and for tests). */
  poolInfo(slot: number): PoolInfo | null {
    return this.cache.get(slot) ?? null;
  }

  // ---------------------------------------------------------------------------------------------
  // Pointer, wheel, keyboard
  // ---------------------------------------------------------------------------------------------

  private local(e: MouseEvent): { x: number; y: number } {
    const r = this.host.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private inMinimap(p: { x: number; y: number }): boolean {
    const m = this.minimap;
    return m !== null && p.x >= m.x && p.y >= m.y && p.x < m.x + m.width && p.y < m.y + m.height;
  }

  /** Centres the main view on the world point under minimap position p. */
  private minimapJump(p: { x: number; y: number }): void {
    const m = this.minimap;
    if (m === null) return;
    const w = screenToWorld(m.view, p.x - m.x, p.y - m.y);
    this.setView({
      scale: this.view.scale,
      x: w.x - this.viewport.width / 2 / this.view.scale,
      y: w.y - this.viewport.height / 2 / this.view.scale,
    });
  }

  /** Whether an event is over the map itself, not an overlay (legend, tooltip) inside it. */
  private onMap(e: Event): boolean {
    return e.target === this.host || (e.target !== null && e.target === this.engine.element);
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0 || !this.onMap(e)) return;
    const p = this.local(e);
    const minimap = this.inMinimap(p);
    this.drag = { id: e.pointerId, x: p.x, y: p.y, moved: false, minimap };
    try {
      this.host.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events may have no active pointer to capture.
    }
    if (minimap) this.minimapJump(p);
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    const p = this.local(e);
    this.lastPointer = p;
    const d = this.drag;
    if (d !== null && d.id === e.pointerId) {
      if (d.minimap) {
        this.minimapJump(p);
        return;
      }
      const dx = p.x - d.x;
      const dy = p.y - d.y;
      if (!d.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
      d.moved = true;
      d.x = p.x;
      d.y = p.y;
      this.setView(panBy(this.view, dx, dy));
      this.host.classList.add('dragging');
      return;
    }
    if (this.onMap(e)) this.hoverAt(p);
    else this.setHover(null);
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.drag;
    if (d === null || d.id !== e.pointerId) return;
    this.drag = null;
    this.host.classList.remove('dragging');
    if (!d.moved && !d.minimap) this.click(this.local(e), e.shiftKey);
  };

  private readonly onPointerCancel = (): void => {
    this.drag = null;
    this.host.classList.remove('dragging');
  };

  private readonly onPointerLeave = (): void => {
    this.lastPointer = null;
    if (this.drag === null) this.setHover(null);
  };

  private readonly onWheel = (e: WheelEvent): void => {
    // Over the legend the wheel scrolls the legend.
    if (!this.onMap(e)) return;
    e.preventDefault();
    const p = this.local(e);
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.viewport.height : 1;
    if (this.inMinimap(p)) return;
    const dy = e.deltaY * unit;
    const dx = e.deltaX * unit;
    if (dy !== 0) {
      const factor = Math.min(2, Math.max(0.5, Math.exp(-dy * 0.002)));
      this.setView(zoomAt(this.view, p.x, p.y, factor, zoomLimits(this.layout, this.viewport)));
    }
    if (dx !== 0) this.setView(panBy(this.view, -dx, 0));
    this.hoverAt(p);
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const step = e.shiftKey ? 0.5 : 0.15;
    const vp = this.viewport;
    const lim = zoomLimits(this.layout, vp);
    let handled = true;
    switch (e.key) {
      case 'ArrowLeft': this.setView(panBy(this.view, vp.width * step, 0)); break;
      case 'ArrowRight': this.setView(panBy(this.view, -vp.width * step, 0)); break;
      case 'ArrowUp': this.setView(panBy(this.view, 0, vp.height * step)); break;
      case 'ArrowDown': this.setView(panBy(this.view, 0, -vp.height * step)); break;
      case '+':
      case '=': this.setView(zoomAt(this.view, vp.width / 2, vp.height / 2, 1.5, lim)); break;
      case '-':
      case '_': this.setView(zoomAt(this.view, vp.width / 2, vp.height / 2, 1 / 1.5, lim)); break;
      case '0': this.fit(); break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  };

  private readonly onDoubleClick = (e: MouseEvent): void => {
    if (!this.onMap(e)) return;
    const p = this.local(e);
    if (this.inMinimap(p)) return;
    const sel = this.pick(p, e.shiftKey);
    if (sel === null) return;
    // One level deeper: arena -> its tile, pool -> the pool, block -> around the block.
    this.zoomTo(sel);
  };

  /** What a click at screen point p selects. */
  pick(p: { x: number; y: number }, arenaOnly = false): HeapSelection | null {
    if (isEmptyLayout(this.layout)) return null;
    const w = screenToWorld(this.view, p.x, p.y);
    const hit = hitTest(this.layout, w.x, w.y);
    if (hit === null) return null;
    if (hit.kind === 'raw') {
      const r = rawHit(this.tape, hit.cell, hit.fx);
      return r === null || r.chunk < 0 ? null : { kind: 'raw', address: this.tape.chunkAddress[r.chunk]! + CHUNK_HDR_SZ };
    }
    if (hit.kind === 'arena' || arenaOnly || this.view.scale < ARENA_PICK_SCALE) return { kind: 'arena', arena: hit.arena };
    if (this.blocksOn) {
      const info = this.cache.get(hit.slot);
      if (info && info.carved && this.hasBlocks(hit.slot)) {
        const b = blockAt(drawnCapacity(info), hit.fx, hit.fy);
        if (b >= 0) return { kind: 'block', slot: hit.slot, block: b };
      }
    }
    return { kind: 'pool', slot: hit.slot };
  }

  private click(p: { x: number; y: number }, shift: boolean): void {
    if (this.inMinimap(p)) return;
    const sel = this.pick(p, shift);
    if (sel !== null) this.options.onSelect(sel);
  }

  private refreshHover(): void {
    if (this.lastPointer !== null && this.drag === null) this.hoverAt(this.lastPointer);
  }

  private hoverAt(p: { x: number; y: number }): void {
    if (this.inMinimap(p)) {
      this.setHover(null);
      return;
    }
    const w = screenToWorld(this.view, p.x, p.y);
    const hit = isEmptyLayout(this.layout) ? null : hitTest(this.layout, w.x, w.y);
    if (hit === null) {
      this.setHover(null);
      return;
    }
    if (hit.kind === 'raw') {
      const t = this.tape;
      const r = rawHit(t, hit.cell, hit.fx);
      if (r === null) {
        this.setHover(null);
        return;
      }
      const raw = {
        kind: t.segKind[r.segment] === RAW_MMAP ? ('mmap' as const) : ('brk' as const),
        address: r.address,
        regionStart: t.segStart[r.segment]!,
        regionLength: t.segLength[r.segment]!,
        chunk: r.chunk < 0 ? null : { address: t.chunkAddress[r.chunk]!, size: t.chunkSize[r.chunk]!, mmapped: t.chunkMmapped[r.chunk] === 1 },
      };
      this.setHover({ x: p.x, y: p.y, arena: -1, slot: null, ordinal: null, state: 0, block: null, pool: null, raw });
      return;
    }
    const arenaAddress = this.addresses?.[hit.arena] ?? null;
    if (hit.kind === 'arena') {
      this.setHover({ x: p.x, y: p.y, arena: hit.arena, slot: null, ordinal: null, state: 0, block: null, pool: null, arenaAddress });
      return;
    }
    const info = this.cache.get(hit.slot) ?? null;
    let block: number | null = null;
    if (this.blocksOn && info && info.carved && this.hasBlocks(hit.slot)) {
      const b = blockAt(drawnCapacity(info), hit.fx, hit.fy);
      block = b >= 0 ? b : null;
    }
    this.setHover({
      x: p.x,
      y: p.y,
      arena: hit.arena,
      slot: hit.slot,
      ordinal: hit.ordinal,
      state: this.states[hit.slot] ?? 0,
      block,
      pool: this.blocksOn ? info : null,
      arenaAddress,
    });
  }

  private setHover(info: HoverInfo | null): void {
    const slot = info?.slot ?? -1;
    const block = info?.block ?? -1;
    const chunk = info?.raw?.chunk ?? null;
    const rawChunk = chunk === null ? -1 : chunkIndexAt(this.tape, chunk.address);
    if (slot !== this.hoverSlot || block !== this.hoverBlock || rawChunk !== this.hoverRaw) {
      this.hoverSlot = slot;
      this.hoverBlock = block;
      this.hoverRaw = rawChunk;
      this.engine.setScene(this.view, this.blocksOn, this.selected, { slot, block, rawChunk });
    }
    this.ui.hover(info);
  }

  get themeName(): Theme {
    return this.theme;
  }

  get alignmentBytes(): number {
    return this.alignment;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.resizeObserver.disconnect();
    if (this.uiTimer !== null) clearTimeout(this.uiTimer);
    this.dprQuery?.removeEventListener('change', this.onDprChange);
    this.host.removeEventListener('pointerdown', this.onPointerDown);
    this.host.removeEventListener('pointermove', this.onPointerMove);
    this.host.removeEventListener('pointerup', this.onPointerUp);
    this.host.removeEventListener('pointercancel', this.onPointerCancel);
    this.host.removeEventListener('pointerleave', this.onPointerLeave);
    this.host.removeEventListener('wheel', this.onWheel);
    this.host.removeEventListener('keydown', this.onKeyDown);
    this.host.removeEventListener('dblclick', this.onDoubleClick);
    this.engine.destroy();
    this.cache.clear();
  }
}
