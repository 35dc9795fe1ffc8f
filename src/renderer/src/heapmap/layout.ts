/**
 * Where every pool of the heap map sits, and how the view (pan and zoom) maps the screen to it.
 * Pure arithmetic, no DOM and no pixi: the same formulas run in the fragment shader
 * (shaders.ts), and the unit tests in test/renderer pin them.
 *
 * World coordinates are in pool units: one pool is a 1x1 square. An arena is a tile of
 * `cols x rows` pools (8 x 8 for 64 pools), its pools in ordinal (address) order, row-major. Tiles
 * are laid out in address order (`order`: tile position -> arena index; live arenas by address,
 * then the slots with no arena in index order; null when that is index order), `arenasPerRow` to
 * a row, `gap` units apart:
 *
 *     position p of arena a:      p = position[a]   (a when `order` is null)
 *     tile (tx, ty) of arena a:   tx = p % arenasPerRow,  ty = floor(p / arenasPerRow)
 *     pool o of arena a at:       x = tx * pitchX + o % cols,  y = ty * pitchY + floor(o / cols)
 *     pitchX = cols + gap,        pitchY = rows + gap
 *
 * The raw region (raw.ts: the C library's memory, one cell per pool size of bytes) is a strip
 * below the tiles, RAW_GAP units under them: `rawCells` cells, `rawWidth` to a row, from world
 * row `rawY`; cell c at (c % rawWidth, rawY + floor(c / rawWidth)).
 *
 * A view is the world point at the top-left corner of the screen and a scale in CSS pixels per
 * pool. Screen to world: w = view.x + sx / view.scale.
 *
 * Precision: at the deepest zoom a pool is tens of thousands of pixels wide, more than float32
 * world coordinates of a million-pool heap can resolve. The shader therefore never sees the
 * absolute world position: `shaderOrigin` splits the view's corner into a whole tile (exact
 * integers) and a small remainder inside that tile, and the shader adds pixel offsets to the
 * remainder only.
 *
 * Blocks: a pool at deep zoom shows its blocks as a grid of `blockGrid(capacity)` cells in
 * address order, row-major. Their states live in an atlas keyed by the pool's position in the
 * global pool grid modulo BLOCK_ATLAS_SIDE (`atlasKey`), which is injective over any window of at
 * most BLOCK_ATLAS_SIDE pool columns and rows: `blocksVisible` only turns blocks on when the
 * viewport spans fewer than that.
 */

export interface HeapLayout {
  /** Pools per arena (64 in every CPython version). */
  readonly poolsPerArena: number;
  /** Arena slots drawn (the pool-state array's length / poolsPerArena, rounded up). */
  readonly arenas: number;
  /** Pools across and down one arena tile. */
  readonly cols: number;
  readonly rows: number;
  /** World units between arena tiles. */
  readonly gap: number;
  readonly pitchX: number;
  readonly pitchY: number;
  readonly arenasPerRow: number;
  /** Rows of arena tiles. */
  readonly tileRows: number;
  /** Tile position -> arena index (address order), or null for index order. */
  readonly order: readonly number[] | null;
  /** Arena index -> tile position (the inverse of `order`), or null. */
  readonly position: readonly number[] | null;
  /** The raw region: first world row, cells a row, rows, cells (0: none). */
  readonly rawY: number;
  readonly rawWidth: number;
  readonly rawRows: number;
  readonly rawCells: number;
  /** World size of the whole map (tiles and raw region). */
  readonly width: number;
  readonly height: number;
}

/** Options of `makeLayout` beyond the tiles' shape. */
export interface LayoutExtras {
  /** Tile position -> arena index (arenaOrder); null or absent: index order. */
  order?: readonly number[] | null;
  /** Cells of the raw region (raw.ts RawTape.cells). */
  rawCells?: number;
}

/** World rows between the arena tiles and the raw region. */
export const RAW_GAP = 2;

export interface View {
  /** World point at the top-left corner of the screen. */
  x: number;
  y: number;
  /** CSS pixels per world unit (per pool). */
  scale: number;
}

export interface Viewport {
  /** CSS pixels. */
  width: number;
  height: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Blocks are drawn once a pool is at least this many CSS pixels across. */
export const BLOCK_MIN_SCALE = 96;
/** Side of the block atlas window (pools): see `atlasKey`. */
export const BLOCK_ATLAS_SIDE = 32;
/** Texels per atlas row: blocks 0..BLOCK_ATLAS_MAX_BLOCKS-1, then capacity/columns, then the tag. */
export const BLOCK_ATLAS_WIDTH = 1024;
export const BLOCK_ATLAS_MAX_BLOCKS = BLOCK_ATLAS_WIDTH - 2;
/** The deepest zoom: one pool spans this many viewport sides (a block of a 1,021-block pool about half). */
export const MAX_POOL_VIEWPORTS = 16;
/** Below this many CSS pixels per pool, a click picks the arena rather than a pool. */
export const ARENA_PICK_SCALE = 4;

/**
 * Lays out `arenas` arena tiles of `poolsPerArena` pools, about `aspect` (width / height) overall,
 * and the raw region below them: as wide as the tiles, or wider when it would otherwise be taller
 * than a strip of that aspect (with no arenas it is the whole map).
 */
export function makeLayout(arenas: number, poolsPerArena: number, aspect = 1.6, gap = 1, extras: LayoutExtras = {}): HeapLayout {
  if (!Number.isInteger(poolsPerArena) || poolsPerArena < 1) throw new RangeError(`poolsPerArena ${poolsPerArena}`);
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap ${gap}: the world texture needs whole cells`);
  const n = Math.max(0, Math.floor(arenas));
  const cols = Math.ceil(Math.sqrt(poolsPerArena));
  const rows = Math.ceil(poolsPerArena / cols);
  const pitchX = cols + gap;
  const pitchY = rows + gap;
  const a = aspect > 0 && Number.isFinite(aspect) ? aspect : 1.6;
  const arenasPerRow = n === 0 ? 1 : Math.min(n, Math.max(1, Math.round(Math.sqrt((n * a * pitchY) / pitchX))));
  const tileRows = Math.ceil(n / arenasPerRow);
  const tilesWidth = n === 0 ? 0 : arenasPerRow * pitchX - gap;
  const tilesHeight = n === 0 ? 0 : tileRows * pitchY - gap;
  const order = extras.order !== undefined && extras.order !== null && extras.order.length === n ? extras.order : null;
  let position: number[] | null = null;
  if (order !== null) {
    position = new Array<number>(n);
    for (let p = 0; p < n; p++) position[order[p]!] = p;
  }
  const rawCells = Math.max(0, Math.floor(extras.rawCells ?? 0));
  const rawWidth = rawCells === 0 ? 0 : Math.max(tilesWidth, Math.ceil(Math.sqrt(rawCells * a)));
  const rawRows = rawCells === 0 ? 0 : Math.ceil(rawCells / rawWidth);
  const rawY = n === 0 ? 0 : tilesHeight + RAW_GAP;
  return {
    poolsPerArena,
    arenas: n,
    cols,
    rows,
    gap,
    pitchX,
    pitchY,
    arenasPerRow,
    tileRows,
    order,
    position,
    rawY,
    rawWidth,
    rawRows,
    rawCells,
    width: Math.max(tilesWidth, rawWidth),
    height: rawCells === 0 ? tilesHeight : rawY + rawRows,
  };
}

/** Whether the layout shows nothing at all (no arena slot, no raw memory). */
export function isEmptyLayout(L: HeapLayout): boolean {
  return L.arenas === 0 && L.rawCells === 0;
}

/**
 * The tile order for arena `addresses` (one per arena index, 0 where no arena is associated):
 * live arenas by address, then the empty slots in index order; null when that is index order
 * (or no addresses are known). Only indexes below `arenas` are placed.
 */
export function arenaOrder(addresses: ArrayLike<number> | null, arenas: number): number[] | null {
  if (addresses === null || arenas <= 0) return null;
  const live: number[] = [];
  const dead: number[] = [];
  for (let a = 0; a < arenas; a++) ((addresses[a] ?? 0) !== 0 ? live : dead).push(a);
  live.sort((x, y) => addresses[x]! - addresses[y]! || x - y);
  const order = live.concat(dead);
  for (let p = 0; p < arenas; p++) if (order[p] !== p) return order;
  return null;
}

/** Tile position of arena `arena`. */
export function positionOf(L: HeapLayout, arena: number): number {
  return L.position === null ? arena : (L.position[arena] ?? arena);
}

/** Arena at tile position `p`. */
export function arenaAt(L: HeapLayout, p: number): number {
  return L.order === null ? p : (L.order[p] ?? p);
}

/** Whether two layouts place everything in the same cells. */
export function sameLayout(a: HeapLayout, b: HeapLayout): boolean {
  if (
    a.poolsPerArena !== b.poolsPerArena ||
    a.arenas !== b.arenas ||
    a.arenasPerRow !== b.arenasPerRow ||
    a.gap !== b.gap ||
    a.rawY !== b.rawY ||
    a.rawWidth !== b.rawWidth ||
    a.rawCells !== b.rawCells ||
    (a.order === null) !== (b.order === null)
  ) {
    return false;
  }
  if (a.order !== null && b.order !== null) for (let p = 0; p < a.order.length; p++) if (a.order[p] !== b.order[p]) return false;
  return true;
}

/**
 * The world as a texture: one texel per world unit (pool or gap cell), so the layout's pitch must
 * be whole (it is: cols and gap are integers). Texel (x, y) = world cell (x, y).
 */
export function worldTexels(L: HeapLayout): { width: number; height: number } {
  return { width: Math.max(1, Math.round(L.width)), height: Math.max(1, Math.round(L.height)) };
}

/**
 * World texel rectangles that cover every pool of slots [start, end): whole tile rows, narrowed
 * to the tiles touched when the range stays inside one row of tiles. Gaps are included (they
 * never change), so the rectangles tile cleanly.
 */
export function slotRangeRects(L: HeapLayout, start: number, end: number): Rect[] {
  const s = Math.max(0, start);
  const e = Math.min(L.arenas * L.poolsPerArena, end);
  if (e <= s) return [];
  const a0 = Math.floor(s / L.poolsPerArena);
  const a1 = Math.floor((e - 1) / L.poolsPerArena);
  const { width, height } = worldTexels(L);
  const clip = (r: Rect): Rect => ({ x: r.x, y: r.y, width: Math.min(r.width, width - r.x), height: Math.min(r.height, height - r.y) });
  if (L.position !== null) {
    // Address order: the arenas of the range are anywhere. A few: their tiles; more: the band
    // of tile rows they touch.
    if (a1 - a0 < 64) {
      const out: Rect[] = [];
      for (let a = a0; a <= a1; a++) {
        const p = L.position[a]!;
        out.push(clip({ x: (p % L.arenasPerRow) * L.pitchX, y: Math.floor(p / L.arenasPerRow) * L.pitchY, width: L.pitchX, height: L.pitchY }));
      }
      return out;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let a = a0; a <= a1; a++) {
      const row = Math.floor(L.position[a]! / L.arenasPerRow);
      lo = Math.min(lo, row);
      hi = Math.max(hi, row);
    }
    return [clip({ x: 0, y: lo * L.pitchY, width, height: (hi - lo + 1) * L.pitchY })];
  }
  const r0 = Math.floor(a0 / L.arenasPerRow);
  const r1 = Math.floor(a1 / L.arenasPerRow);
  if (r0 === r1) {
    const x0 = (a0 % L.arenasPerRow) * L.pitchX;
    const x1 = ((a1 % L.arenasPerRow) + 1) * L.pitchX;
    return [clip({ x: x0, y: r0 * L.pitchY, width: x1 - x0, height: L.pitchY })];
  }
  return [clip({ x: 0, y: r0 * L.pitchY, width, height: (r1 - r0 + 1) * L.pitchY })];
}

/**
 * Merges rectangles into at most `max` (the bounding box of all when there are more): each one
 * becomes a quad of the cache pass.
 */
export function mergeRects(rects: readonly Rect[], max = 64): Rect[] {
  if (rects.length === 0) return [];
  // Rectangles from slotRangeRects are whole tile rows or parts of one; join touching ones of a row.
  const sorted = [...rects].sort((a, b) => a.y - b.y || a.x - b.x);
  const out: Rect[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.y === r.y && last.height === r.height && r.x <= last.x + last.width) {
      const x1 = Math.max(last.x + last.width, r.x + r.width);
      last.width = x1 - last.x;
    } else if (last !== undefined && last.x === r.x && last.width === r.width && r.y <= last.y + last.height) {
      const y1 = Math.max(last.y + last.height, r.y + r.height);
      last.height = y1 - last.y;
    } else out.push({ ...r });
  }
  if (out.length <= max) return out;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of out) {
    x0 = Math.min(x0, r.x);
    y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.width);
    y1 = Math.max(y1, r.y + r.height);
  }
  return [{ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }];
}

/** Block-grid code kept in the world cache's alpha (0: no blocks; see shaders.ts). */
export function blockGridCode(capacity: number): number {
  const { cols, rows } = blockGrid(capacity);
  return cols * 2 + (rows === cols ? 1 : 0);
}

/** Arena slots covered by a pool-state array of `length` slots. */
export function arenaCount(length: number, poolsPerArena: number): number {
  return Math.ceil(length / poolsPerArena);
}

/** World rectangle of arena `arena`'s tile. */
export function arenaRect(L: HeapLayout, arena: number): Rect {
  const p = positionOf(L, arena);
  const tx = p % L.arenasPerRow;
  const ty = Math.floor(p / L.arenasPerRow);
  return { x: tx * L.pitchX, y: ty * L.pitchY, width: L.cols, height: L.rows };
}

/** World rectangle of pool slot `slot` (arena * poolsPerArena + ordinal). */
export function poolRect(L: HeapLayout, slot: number): Rect {
  const arena = Math.floor(slot / L.poolsPerArena);
  const o = slot - arena * L.poolsPerArena;
  const p = positionOf(L, arena);
  const tx = p % L.arenasPerRow;
  const ty = Math.floor(p / L.arenasPerRow);
  return { x: tx * L.pitchX + (o % L.cols), y: ty * L.pitchY + Math.floor(o / L.cols), width: 1, height: 1 };
}

/** Position of a slot's pool in the global pool grid (gaps not counted): the atlas's key space. */
export function poolGridPos(L: HeapLayout, slot: number): { gx: number; gy: number } {
  const arena = Math.floor(slot / L.poolsPerArena);
  const o = slot - arena * L.poolsPerArena;
  const p = positionOf(L, arena);
  return {
    gx: (p % L.arenasPerRow) * L.cols + (o % L.cols),
    gy: Math.floor(p / L.arenasPerRow) * L.rows + Math.floor(o / L.cols),
  };
}

export type Hit =
  /** A pool: `fx`, `fy` in [0, 1) inside it. */
  | { kind: 'pool'; arena: number; ordinal: number; slot: number; fx: number; fy: number }
  /** Inside an arena's tile but on no pool (a tile with fewer pools than cols * rows). */
  | { kind: 'arena'; arena: number }
  /** A cell of the raw region: `fx`, `fy` in [0, 1) inside it (raw.ts turns it into an address). */
  | { kind: 'raw'; cell: number; fx: number; fy: number }
  | null;

/** What is at world point (wx, wy). */
export function hitTest(L: HeapLayout, wx: number, wy: number): Hit {
  if (!(wx >= 0 && wy >= 0)) return null;
  if (L.rawCells > 0 && wy >= L.rawY) {
    const cx = Math.floor(wx);
    const cy = Math.floor(wy - L.rawY);
    if (cx >= L.rawWidth || cy >= L.rawRows) return null;
    const cell = cy * L.rawWidth + cx;
    return cell < L.rawCells ? { kind: 'raw', cell, fx: wx - cx, fy: wy - L.rawY - cy } : null;
  }
  const tx = Math.floor(wx / L.pitchX);
  const ty = Math.floor(wy / L.pitchY);
  if (tx >= L.arenasPerRow) return null;
  const p = ty * L.arenasPerRow + tx;
  if (p >= L.arenas) return null;
  const arena = arenaAt(L, p);
  const ix = wx - tx * L.pitchX;
  const iy = wy - ty * L.pitchY;
  if (ix >= L.cols || iy >= L.rows) return null; // the gap between tiles
  const cx = Math.floor(ix);
  const cy = Math.floor(iy);
  const ordinal = cy * L.cols + cx;
  if (ordinal >= L.poolsPerArena) return { kind: 'arena', arena };
  return { kind: 'pool', arena, ordinal, slot: arena * L.poolsPerArena + ordinal, fx: ix - cx, fy: iy - cy };
}

/** Columns and rows of a pool's block grid: as square as possible, `cols * rows >= capacity`. */
export function blockGrid(capacity: number): { cols: number; rows: number } {
  if (capacity <= 0) return { cols: 1, rows: 1 };
  let cols = Math.floor(Math.sqrt(capacity));
  if (cols * cols < capacity) cols++;
  return { cols, rows: Math.ceil(capacity / cols) };
}

/** Block index at (fx, fy) in [0, 1) inside a pool of `capacity` blocks, or -1 (past the last block). */
export function blockAt(capacity: number, fx: number, fy: number): number {
  if (capacity <= 0) return -1;
  const { cols, rows } = blockGrid(capacity);
  const bx = Math.min(cols - 1, Math.max(0, Math.floor(fx * cols)));
  const by = Math.min(rows - 1, Math.max(0, Math.floor(fy * rows)));
  const b = by * cols + bx;
  return b < capacity ? b : -1;
}

/** Rectangle of block `block` inside its pool, in pool units ([0, 1) squared). */
export function blockRectInPool(capacity: number, block: number): Rect {
  const { cols, rows } = blockGrid(capacity);
  return { x: (block % cols) / cols, y: Math.floor(block / cols) / rows, width: 1 / cols, height: 1 / rows };
}

export function screenToWorld(v: View, sx: number, sy: number): { x: number; y: number } {
  return { x: v.x + sx / v.scale, y: v.y + sy / v.scale };
}

export function worldToScreen(v: View, wx: number, wy: number): { x: number; y: number } {
  return { x: (wx - v.x) * v.scale, y: (wy - v.y) * v.scale };
}

/** The view that shows `rect` whole, centred, with `margin` CSS pixels around it. */
export function viewOfRect(vp: Viewport, rect: Rect, margin = 8): View {
  const w = Math.max(1, vp.width - 2 * margin);
  const h = Math.max(1, vp.height - 2 * margin);
  const rw = Math.max(rect.width, 1e-9);
  const rh = Math.max(rect.height, 1e-9);
  const scale = Math.min(w / rw, h / rh);
  return {
    scale,
    x: rect.x + rw / 2 - vp.width / 2 / scale,
    y: rect.y + rh / 2 - vp.height / 2 / scale,
  };
}

/** The whole map, centred. */
export function fitView(L: HeapLayout, vp: Viewport, margin = 8): View {
  return viewOfRect(vp, { x: 0, y: 0, width: Math.max(L.width, 1), height: Math.max(L.height, 1) }, margin);
}

/**
 * Scale limits: out to half the scale that fits the whole map, in until one pool spans
 * MAX_POOL_VIEWPORTS times the viewport's shorter side (a single block fills the screen).
 */
export function zoomLimits(L: HeapLayout, vp: Viewport): { min: number; max: number } {
  const fit = fitView(L, vp).scale;
  const max = Math.max(MAX_POOL_VIEWPORTS * Math.min(vp.width, vp.height), fit);
  return { min: Math.min(fit / 2, max), max };
}

/** Zooms by `factor` about the screen point (sx, sy), which stays over the same world point. */
export function zoomAt(v: View, sx: number, sy: number, factor: number, limits: { min: number; max: number }): View {
  const scale = Math.min(limits.max, Math.max(limits.min, v.scale * factor));
  const wx = v.x + sx / v.scale;
  const wy = v.y + sy / v.scale;
  return { scale, x: wx - sx / scale, y: wy - sy / scale };
}

/** Moves the view so the content follows a drag of (dx, dy) CSS pixels. */
export function panBy(v: View, dx: number, dy: number): View {
  return { scale: v.scale, x: v.x - dx / v.scale, y: v.y - dy / v.scale };
}

/**
 * Keeps part of the map on screen: at least `keep` CSS pixels of it (or all of it, when smaller)
 * along each axis, so panning can never lose the heap.
 */
export function clampView(v: View, L: HeapLayout, vp: Viewport, keep = 48): View {
  const clampAxis = (pos: number, extent: number, screen: number): number => {
    const k = Math.min(keep, extent * v.scale, screen) / v.scale;
    const lo = -screen / v.scale + k; // the map's far edge is `k` inside the screen's left edge
    const hi = extent - k; // the map's near edge is `k` inside the right edge
    return lo <= hi ? Math.min(hi, Math.max(lo, pos)) : (lo + hi) / 2;
  };
  return {
    scale: v.scale,
    x: clampAxis(v.x, Math.max(L.width, 1), vp.width),
    y: clampAxis(v.y, Math.max(L.height, 1), vp.height),
  };
}

/** World rectangle the view shows. */
export function viewRect(v: View, vp: Viewport): Rect {
  return { x: v.x, y: v.y, width: vp.width / v.scale, height: vp.height / v.scale };
}

/**
 * The view's corner split for the shader: a whole tile (exact integers, however large) and the
 * remainder inside it, in world units (small, so float32 keeps sub-pixel precision at any zoom).
 */
export function shaderOrigin(L: HeapLayout, v: View): { tileX: number; tileY: number; fracX: number; fracY: number } {
  const tileX = Math.floor(v.x / L.pitchX);
  const tileY = Math.floor(v.y / L.pitchY);
  return { tileX, tileY, fracX: v.x - tileX * L.pitchX, fracY: v.y - tileY * L.pitchY };
}

/** Whether the view draws blocks: pools big enough, and few enough on screen for the atlas. */
export function blocksVisible(v: View, vp: Viewport): boolean {
  const need = Math.max(BLOCK_MIN_SCALE, vp.width / (BLOCK_ATLAS_SIDE - 2), vp.height / (BLOCK_ATLAS_SIDE - 2));
  return v.scale >= need;
}

/** Atlas row of the pool at global grid position (gx, gy); gx, gy >= 0. */
export function atlasKey(gx: number, gy: number): number {
  return (gy % BLOCK_ATLAS_SIDE) * BLOCK_ATLAS_SIDE + (gx % BLOCK_ATLAS_SIDE);
}

/**
 * Pool slots whose squares intersect the view, nearest the centre first, at most `limit`.
 * Used to load block data for the pools on screen.
 */
export function visibleSlots(L: HeapLayout, v: View, vp: Viewport, limit = 4096): number[] {
  const r = viewRect(v, vp);
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(L.width, r.x + r.width);
  const y1 = Math.min(L.height, r.y + r.height);
  if (x1 <= x0 || y1 <= y0) return [];
  const cx = r.x + r.width / 2;
  const cy = r.y + r.height / 2;
  const found: { slot: number; d: number }[] = [];
  const tx0 = Math.floor(x0 / L.pitchX);
  const tx1 = Math.min(L.arenasPerRow - 1, Math.floor(x1 / L.pitchX));
  const ty0 = Math.floor(y0 / L.pitchY);
  const ty1 = Math.min(L.tileRows - 1, Math.floor(y1 / L.pitchY));
  // Bounded by the number of pools on screen: the caller only asks when pools are large.
  for (let ty = ty0; ty <= ty1; ty++) {
    for (let tx = tx0; tx <= tx1; tx++) {
      const p = ty * L.arenasPerRow + tx;
      if (p >= L.arenas) continue;
      const arena = arenaAt(L, p);
      const ox = tx * L.pitchX;
      const oy = ty * L.pitchY;
      const c0 = Math.max(0, Math.floor(x0 - ox));
      const c1 = Math.min(L.cols - 1, Math.ceil(x1 - ox) - 1);
      const r0 = Math.max(0, Math.floor(y0 - oy));
      const r1 = Math.min(L.rows - 1, Math.ceil(y1 - oy) - 1);
      for (let row = r0; row <= r1; row++) {
        for (let col = c0; col <= c1; col++) {
          const o = row * L.cols + col;
          if (o >= L.poolsPerArena) continue;
          const d = Math.hypot(ox + col + 0.5 - cx, oy + row + 0.5 - cy);
          found.push({ slot: arena * L.poolsPerArena + o, d });
        }
      }
    }
  }
  found.sort((a, b) => a.d - b.d || a.slot - b.slot);
  return found.slice(0, limit).map((f) => f.slot);
}
