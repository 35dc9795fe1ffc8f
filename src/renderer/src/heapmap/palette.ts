/**
 * The heap map's colours, computed once per theme into a small RGBA8 texture (PALETTE_WIDTH x
 * PALETTE_ROWS) that the fragment shader indexes by (size class, row). The legend reads the
 * same table, and the browser tests compare canvas pixels against it, so a colour is defined
 * in exactly one place.
 *
 * Size classes are coloured by block size (so a 64-byte class looks the same in 3.7.0 with 8-byte
 * alignment and in 3.13 with 16): a hue ramp on a log scale of the size, from cyan-blue (16 bytes)
 * through blue, purple, red and orange to yellow-green (512 bytes), so the small classes most
 * objects use are far apart; odd multiples of 16 are a little lighter so neighbours stay apart. A used pool is shaded from dim (one block in use) to the class colour (full).
 *
 * Rows:
 *   ROW_EMPTY_POOL          0      a carved pool with no block in use (tinted by the class it last held)
 *   1..15                          used pools by fullness (pool-state.ts: 15 = full)
 *   ROW_NEVER_CARVED        16     fresh arena memory not yet carved into a pool
 *   ROW_LOST                17     the pool lost to arena alignment
 *   ROW_NOT_LIVE            18     an arena slot with no arena
 *   ROW_BLOCK_USED          19     a block in use (deep zoom)
 *   ROW_BLOCK_FREE          20     a free block (on the pool's free list)
 *   ROW_BLOCK_NEVER         21     a block never handed out (past nextoffset)
 *   ROW_UI                  22     x = UI_* below (background, selection, hover, ...)
 *   ROW_INVALID             23     a state value no pool can have (status 5-7): loud on purpose
 *   ROW_RAW_BRK             24     the raw region's brk heap (raw.ts): x = level, 0 no byte of the
 *                                  cell in a live chunk (free chunks, top), 15 all of them
 *   ROW_RAW_MMAP            25     the same for an mmapped chunk's mapping
 *
 * Raw memory is drawn in two low-saturation hues outside the size classes' ramp (sand for the
 * brk heap, slate teal for mmapped chunks), so it never reads as a pool of some class.
 */

export type Theme = 'dark' | 'light';
export type Rgb = [number, number, number];

export const PALETTE_WIDTH = 64;
export const PALETTE_ROWS = 26;

export const ROW_EMPTY_POOL = 0;
export const ROW_NEVER_CARVED = 16;
export const ROW_LOST = 17;
export const ROW_NOT_LIVE = 18;
export const ROW_BLOCK_USED = 19;
export const ROW_BLOCK_FREE = 20;
export const ROW_BLOCK_NEVER = 21;
export const ROW_UI = 22;
export const ROW_INVALID = 23;
export const ROW_RAW_BRK = 24;
export const ROW_RAW_MMAP = 25;

export const UI_BACKGROUND = 0;
export const UI_SELECTION = 1;
export const UI_HOVER = 2;
export const UI_POOL_EDGE = 3;
export const UI_TEXT_ON_FREE = 4;
export const UI_VIEW_RECT = 5;
export const UI_MINIMAP_EDGE = 6;
export const UI_BLOCK_EDGE = 7;
export const UI_TAIL = 8;

interface ThemeBase {
  background: Rgb;
  notLive: Rgb;
  neverCarved: Rgb;
  lost: Rgb;
  freePool: Rgb;
  blockNever: Rgb;
  selection: Rgb;
  hover: Rgb;
  poolEdge: Rgb;
  text: Rgb;
  viewRect: Rgb;
  minimapEdge: Rgb;
  blockEdge: Rgb;
  tail: Rgb;
  invalid: Rgb;
  /** Raw memory: a live chunk of the brk heap, of an mmapped chunk, and free brk heap memory. */
  rawBrk: Rgb;
  rawMmap: Rgb;
  rawFree: Rgb;
  saturation: number;
  lightness: number;
  /** Mix toward the class colour of a used pool with one block in use. */
  dimmest: number;
}

const THEMES: Record<Theme, ThemeBase> = {
  dark: {
    background: [20, 22, 26],
    notLive: [31, 34, 40],
    neverCarved: [48, 54, 64],
    lost: [104, 40, 44],
    freePool: [70, 76, 88],
    blockNever: [44, 49, 58],
    selection: [255, 255, 255],
    hover: [255, 214, 102],
    poolEdge: [20, 22, 26],
    text: [255, 255, 255],
    viewRect: [255, 214, 102],
    minimapEdge: [120, 128, 140],
    blockEdge: [20, 22, 26],
    tail: [28, 31, 36],
    invalid: [255, 0, 255],
    rawBrk: [196, 170, 120],
    rawMmap: [112, 168, 164],
    rawFree: [58, 54, 48],
    saturation: 0.7,
    lightness: 0.58,
    dimmest: 0.3,
  },
  light: {
    background: [246, 247, 249],
    notLive: [232, 234, 238],
    neverCarved: [210, 215, 223],
    lost: [232, 176, 176],
    freePool: [186, 192, 202],
    blockNever: [220, 224, 230],
    selection: [0, 0, 0],
    hover: [200, 120, 0],
    poolEdge: [246, 247, 249],
    text: [0, 0, 0],
    viewRect: [200, 120, 0],
    minimapEdge: [140, 146, 156],
    blockEdge: [246, 247, 249],
    tail: [238, 240, 243],
    invalid: [255, 0, 255],
    rawBrk: [168, 134, 72],
    rawMmap: [60, 128, 124],
    rawFree: [226, 220, 208],
    saturation: 0.68,
    lightness: 0.48,
    dimmest: 0.3,
  },
};

function hslToRgb(h: number, s: number, l: number): Rgb {
  const hue = ((h % 360) + 360) % 360;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] =
    hue < 60 ? [c, x, 0] : hue < 120 ? [x, c, 0] : hue < 180 ? [0, c, x] : hue < 240 ? [0, x, c] : hue < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [
    Math.round(a[0] + (b[0] - a[0]) * t),
    Math.round(a[1] + (b[1] - a[1]) * t),
    Math.round(a[2] + (b[2] - a[2]) * t),
  ];
}

/** Block size of size class `szidx`: (szidx + 1) * ALIGNMENT. */
export function blockSizeOf(szidx: number, alignment: number): number {
  return (szidx + 1) * alignment;
}

/** The colour of size class `szidx` (a full pool of it). */
export function classColor(theme: Theme, alignment: number, szidx: number): Rgb {
  const t = THEMES[theme];
  const size = blockSizeOf(szidx, alignment);
  // Log scale: the small classes most objects use (16-128 bytes) get most of the hue range.
  const f = Math.min(1, Math.max(0, Math.log2(size / 16) / Math.log2(512 / 16)));
  const odd = Math.round(size / 16) % 2 === 1;
  return hslToRgb(200 + 320 * f, t.saturation, t.lightness + (odd ? 0.07 : -0.03));
}

/** The colour in row `row`, column `x` of the palette (see the file header). */
export function paletteColor(theme: Theme, alignment: number, row: number, x: number): Rgb {
  const t = THEMES[theme];
  if (row === ROW_EMPTY_POOL) return mix(t.freePool, classColor(theme, alignment, x), 0.2);
  if (row >= 1 && row <= 15) {
    return mix(t.freePool, classColor(theme, alignment, x), t.dimmest + ((1 - t.dimmest) * (row - 1)) / 14);
  }
  switch (row) {
    case ROW_NEVER_CARVED: return t.neverCarved;
    case ROW_LOST: return t.lost;
    case ROW_NOT_LIVE: return t.notLive;
    case ROW_BLOCK_USED: return classColor(theme, alignment, x);
    case ROW_BLOCK_FREE: return mix(t.background, classColor(theme, alignment, x), 0.32);
    case ROW_BLOCK_NEVER: return t.blockNever;
    case ROW_RAW_BRK:
    case ROW_RAW_MMAP: {
      const full = row === ROW_RAW_BRK ? t.rawBrk : t.rawMmap;
      if (x <= 0) return t.rawFree;
      return mix(t.rawFree, full, t.dimmest + ((1 - t.dimmest) * (Math.min(x, 15) - 1)) / 14);
    }
    case ROW_UI: {
      const ui: Rgb[] = [t.background, t.selection, t.hover, t.poolEdge, t.text, t.viewRect, t.minimapEdge, t.blockEdge, t.tail];
      return ui[x] ?? t.invalid;
    }
    default: return t.invalid;
  }
}

/** The palette texture's bytes: RGBA8, PALETTE_WIDTH x PALETTE_ROWS, row-major, opaque. */
export function paletteBytes(theme: Theme, alignment: number): Uint8Array {
  const out = new Uint8Array(PALETTE_WIDTH * PALETTE_ROWS * 4);
  for (let row = 0; row < PALETTE_ROWS; row++) {
    for (let x = 0; x < PALETTE_WIDTH; x++) {
      const [r, g, b] = paletteColor(theme, alignment, row, x);
      const o = (row * PALETTE_WIDTH + x) * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** The palette row a pool-state value is drawn with (before any outline or block overlay). */
export function paletteRowOfState(v: number): number {
  const status = v & 7;
  if (status === 4) return (v >>> 9) & 15 || 1;
  if (status === 3) return ROW_EMPTY_POOL;
  if (status === 2) return ROW_NEVER_CARVED;
  if (status === 1) return ROW_LOST;
  if (status === 0) return ROW_NOT_LIVE;
  return ROW_INVALID;
}

/** The colour a pool with state `v` is filled with. */
export function poolColor(theme: Theme, alignment: number, v: number): Rgb {
  return paletteColor(theme, alignment, paletteRowOfState(v), (v >>> 3) & 63);
}

export function cssRgb(c: Rgb): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Number of size classes for an alignment: SMALL_REQUEST_THRESHOLD (512) / ALIGNMENT. */
export function classCount(alignment: number): number {
  return Math.min(PALETTE_WIDTH, Math.floor(512 / alignment));
}
