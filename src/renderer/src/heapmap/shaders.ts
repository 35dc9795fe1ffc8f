/**
 * The heap map's shaders (GLSL ES 3.00, WebGL 2). Colours are computed on the GPU from the pool
 * states, in two steps, the way speedscope's row atlas caches rendered rows:
 *
 *   1. Cache passes, run only for what changed:
 *      WORLD_FRAGMENT renders the world cache, one texel per world cell (layout.ts: a pool, a
 *        gap cell or a cell of the raw region), over the rectangles whose pools changed: tile
 *        position from the texel position, arena from the order texture, slot, state from the
 *        state texture, colour from the palette; a raw cell's colour from its state in the raw
 *        cell texture (raw.ts), alpha 255 (no pool edges). Alpha carries the pool's block
 *        grid when its blocks are in the atlas (code = cols * 2 + (rows == cols)), 0 for a pool
 *        without, 255 for a gap or no pool.
 *      BLOCK_FRAGMENT renders the block cache: a 32x32 texel tile per atlas row (one per pool on
 *        screen at deep zoom), one texel per block, alpha = 0 never used, 1 free, 2 in use, 3 past
 *        the last block.
 *   2. The frame pass, MAIN_FRAGMENT, per pixel: the world cell under the pixel (exact integer
 *      arithmetic from the split origin, see layout.ts shaderOrigin), one fetch from the world
 *      cache, and at deep zoom one from the block cache; then pool and block edges, hover and
 *      selection outlines, free-list numbers and, for the minimap, the view rectangle.
 *
 * Software WebGL (SwiftShader) pays for every texture fetch and integer operation per pixel, so
 * the frame pass does as little as the zoom level needs; the work per pool happens once per
 * change in the cache passes. Arithmetic agrees with layout.ts (unit-tested); the browser tests
 * check the two agree on pixels.
 *
 * Textures:
 *   uStates    r16uint, STATES_WIDTH texels a row, slot s at (s % W, s / W): pool-state.ts bits
 *   uOrder     r32uint, the same shape: tile position p -> arena index (identity for index order)
 *   uRawCells  r16uint, the same shape: raw cell c -> kind | level << 2 (raw.ts)
 *   uPalette   rgba8, palette.ts rows x size classes
 *   uBlocks    rg16uint block atlas, row = atlas key (layout.ts atlasKey): texel b < 1022:
 *              r = block state (0 never used, 1 free, 2 in use), g = 1 + position in the free
 *              list (0: not on it); texel 1022: r = capacity, g = grid columns; texel 1023: slot + 1
 *              (r low 16 bits, g high), 0 for an empty row
 *   uWorld     rgba8 world cache, with a one-texel border;  uBlockColor  rgba8 block cache (1024 x 1024)
 *
 * Outlines (hover, selection, the minimap's view rectangle) and free-list numbers are not drawn
 * per pixel of the map: they are a few quads (OVERLAY_*, LABEL_*) built for what is on screen.
 */
import { BLOCK_ATLAS_SIDE, BLOCK_ATLAS_WIDTH } from './layout';
import {
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
  UI_TAIL,
} from './palette';

/** Texels per row of the state texture (a power of two: the shader masks and shifts). */
export const STATES_WIDTH_LOG2 = 11;
export const STATES_WIDTH = 1 << STATES_WIDTH_LOG2;
/** Side of one pool's tile in the block cache (the largest block grid: 32 x 32 for 1,021 blocks). */
export const BLOCK_TILE = 32;
export const BLOCK_CACHE_SIDE = BLOCK_ATLAS_SIDE * BLOCK_TILE;

/** Pool edges appear from this many CSS pixels per pool. */
export const POOL_EDGE_SCALE = 8;
/** Free-list numbers appear once a digit would be at least this many CSS pixels tall. */
export const DIGIT_MIN_PX = 7;

/** Texels of border around the world cache (see WORLD_FRAGMENT). */
export const WORLD_BORDER = 1;

/** 3x5 pixel digits, rows top to bottom, 3 bits a row, most significant bit on the left. */
export const DIGIT_FONT = [
  0b111_101_101_101_111, 0b010_110_010_010_111, 0b111_001_111_100_111, 0b111_001_111_001_111, 0b101_101_111_001_001,
  0b111_100_111_001_111, 0b111_100_111_101_111, 0b111_001_010_010_010, 0b111_101_111_101_111, 0b111_101_111_001_111,
];

const HEADER = `#version 300 es
precision highp float;
precision highp int;
precision highp usampler2D;
precision highp sampler2D;
`;

/** Vertex shader of the frame pass: a unit quad scaled to uQuad.xy CSS px; vPos in CSS px. */
export const QUAD_VERTEX = `#version 300 es
precision highp float;
in vec2 aPosition;
out vec2 vPos;
uniform mat3 uProjectionMatrix;
uniform mat3 uWorldTransformMatrix;
uniform mat3 uTransformMatrix;
uniform vec4 uQuad;
void main() {
  vec2 p = aPosition * uQuad.xy;
  mat3 mvp = uProjectionMatrix * uWorldTransformMatrix * uTransformMatrix;
  gl_Position = vec4((mvp * vec3(p, 1.0)).xy, 0.0, 1.0);
  vPos = p;
}
`;

/** Vertex shader of the cache passes: positions are texel coordinates of the target. */
export const PASS_VERTEX = `#version 300 es
precision highp float;
in vec2 aPosition;
uniform mat3 uProjectionMatrix;
uniform mat3 uWorldTransformMatrix;
uniform mat3 uTransformMatrix;
void main() {
  mat3 mvp = uProjectionMatrix * uWorldTransformMatrix * uTransformMatrix;
  gl_Position = vec4((mvp * vec3(aPosition, 1.0)).xy, 0.0, 1.0);
}
`;

const COMMON = `
const int STATES_W_LOG2 = ${STATES_WIDTH_LOG2};
const int STATES_W_MASK = ${STATES_WIDTH - 1};
const int ATLAS_SIDE = ${BLOCK_ATLAS_SIDE};
const int ATLAS_META = ${BLOCK_ATLAS_WIDTH - 2};
const int ATLAS_TAG = ${BLOCK_ATLAS_WIDTH - 1};
const int TILE = ${BLOCK_TILE};
uint stateOf(int slot) { return texelFetch(uStates, ivec2(slot & STATES_W_MASK, slot >> STATES_W_LOG2), 0).r; }
#ifdef WORLD_PASS
uint orderOf(int p) { return texelFetch(uOrder, ivec2(p & STATES_W_MASK, p >> STATES_W_LOG2), 0).r; }
uint rawCellOf(int c) { return texelFetch(uRawCells, ivec2(c & STATES_W_MASK, c >> STATES_W_LOG2), 0).r; }
#endif
vec4 pal(int x, int row) { return texelFetch(uPalette, ivec2(x, row), 0); }
`;

/**
 * World cache pass. uGrid = cols, rows, pitch (x = y), 0; uHeap = arenasPerRow, arenas,
 * poolsPerArena, slots in the state array; uRaw = the raw region's first row, cells a row, cells
 * (layout.ts), 1 when tiles are in address order (uOrder), 0 for index order. `withBlocks`: also look the pool up in the block atlas and put its block-grid
 * code in alpha (costly: only run over the few pools in the atlas).
 */
export function worldFragment(withBlocks: boolean): string {
  return `${HEADER}
#define WITH_BLOCKS ${withBlocks ? 1 : 0}
#define WORLD_PASS 1
uniform usampler2D uStates;
uniform sampler2D uPalette;
uniform usampler2D uBlocks;
uniform usampler2D uOrder;
uniform usampler2D uRawCells;
uniform vec4 uGrid;
uniform vec4 uHeap;
uniform vec4 uRaw;
out vec4 fragColor;
${COMMON}
void main() {
  // Texel (x, y) holds world cell (x - 1, y - 1): a border of background all round, so the
  // frame pass can clamp instead of testing bounds.
  ivec2 t = ivec2(gl_FragCoord.xy) - 1;
  vec4 background = vec4(pal(${UI_BACKGROUND}, ${ROW_UI}).rgb, 1.0);
  int rawY = int(uRaw.x);
  if (uRaw.z > 0.0 && t.y >= rawY) {
    int rw = int(uRaw.y);
    int c = (t.y - rawY) * rw + t.x;
    uint rv = t.x >= 0 && t.x < rw && c < int(uRaw.z) ? rawCellOf(c) : 0u;
    int kind = int(rv & 3u);
    fragColor = kind == 0 ? background : vec4(pal(int((rv >> 2u) & 15u), kind == 2 ? ${ROW_RAW_MMAP} : ${ROW_RAW_BRK}).rgb, 1.0);
    return;
  }
  int cols = int(uGrid.x);
  int rows = int(uGrid.y);
  int pitch = int(uGrid.z);
  int apr = int(uHeap.x);
  ivec2 tile = t / pitch;
  ivec2 cell = t - tile * pitch;
  int pos = tile.y * apr + tile.x;
  int ord = cell.y * cols + cell.x;
  int ppa = int(uHeap.z);
  if (t.x < 0 || t.y < 0 || cell.x >= cols || cell.y >= rows || tile.x >= apr || pos >= int(uHeap.y) || ord >= ppa) {
    fragColor = background;
    return;
  }
  // Index order (uRaw.w 0) needs no lookup: the first picture of a big heap skips one fetch a texel.
  int arena = pos;
  if (uRaw.w > 0.5) arena = int(orderOf(pos));
  int slot = arena * ppa + ord;
  uint v = slot < int(uHeap.w) ? stateOf(slot) : 0u;
  int status = int(v & 7u);
  int szidx = int((v >> 3u) & 63u);
  int row = status == 4 ? max(int((v >> 9u) & 15u), 1)
          : status == 3 ? ${ROW_EMPTY_POOL}
          : status == 2 ? ${ROW_NEVER_CARVED}
          : status == 1 ? ${ROW_LOST}
          : status == 0 ? ${ROW_NOT_LIVE} : ${ROW_INVALID};
  float code = 0.0;
#if WITH_BLOCKS
  if (status == 3 || status == 4) {
    ivec2 g = tile * ivec2(cols, rows) + cell;
    int key = (g.y % ATLAS_SIDE) * ATLAS_SIDE + (g.x % ATLAS_SIDE);
    uvec4 tag = texelFetch(uBlocks, ivec2(ATLAS_TAG, key), 0);
    if (int(tag.r | (tag.g << 16u)) == slot + 1) {
      uvec4 meta = texelFetch(uBlocks, ivec2(ATLAS_META, key), 0);
      int cap = int(meta.r);
      int bc = max(int(meta.g), 1);
      int br = max((cap + bc - 1) / bc, 1);
      code = float(bc * 2 + (br == bc ? 1 : 0));
    }
  }
#endif
  fragColor = vec4(pal(szidx, row).rgb, code / 255.0);
}
`;
}

/** Block cache pass: a TILE x TILE tile per atlas row. */
export const BLOCK_FRAGMENT = `${HEADER}
uniform usampler2D uStates;
uniform sampler2D uPalette;
uniform usampler2D uBlocks;
out vec4 fragColor;
${COMMON}
void main() {
  ivec2 t = ivec2(gl_FragCoord.xy);
  ivec2 kt = t / TILE;
  ivec2 bxy = t - kt * TILE;
  int key = kt.y * ATLAS_SIDE + kt.x;
  vec4 tail = vec4(pal(${UI_TAIL}, ${ROW_UI}).rgb, 3.0 / 255.0);
  uvec4 tag = texelFetch(uBlocks, ivec2(ATLAS_TAG, key), 0);
  int slot = int(tag.r | (tag.g << 16u)) - 1;
  uvec4 meta = texelFetch(uBlocks, ivec2(ATLAS_META, key), 0);
  int cap = int(meta.r);
  int bc = max(int(meta.g), 1);
  int br = max((cap + bc - 1) / bc, 1);
  int b = bxy.y * bc + bxy.x;
  if (slot < 0 || bxy.x >= bc || bxy.y >= br || b >= cap) {
    fragColor = tail;
    return;
  }
  int szidx = int((stateOf(slot) >> 3u) & 63u);
  int st = int(texelFetch(uBlocks, ivec2(b, key), 0).r);
  int row = st == 2 ? ${ROW_BLOCK_USED} : st == 1 ? ${ROW_BLOCK_FREE} : ${ROW_BLOCK_NEVER};
  fragColor = vec4(pal(szidx, row).rgb, float(st) / 255.0);
}
`;

/**
 * Reduced levels of the world cache (a mip chain computed by cache passes): texel (x, y) of level
 * k + 1 is the mean colour of texels (2x .. 2x + 1, 2y .. 2y + 1) of level k (level 0: the world
 * cache, border included; texels past an odd edge repeat the edge, which is background at level 0).
 * Level k texel (x, y) therefore covers world texels [x * 2^k, (x + 1) * 2^k), and the frame pass
 * reads a level at world texel position p as p / 2^k. Alpha is 1 (no block codes).
 * Key invariant: level k + 1 is redrawn over every rectangle of level k that was, before it is read.
 */
export const MIP_FRAGMENT = `${HEADER}
uniform sampler2D uSrc;
uniform vec4 uSrcSize;
out vec4 fragColor;
void main() {
  ivec2 t = ivec2(gl_FragCoord.xy) * 2;
  ivec2 m = ivec2(uSrcSize.xy) - 1;
  vec3 c = texelFetch(uSrc, min(t, m), 0).rgb + texelFetch(uSrc, min(t + ivec2(1, 0), m), 0).rgb
         + texelFetch(uSrc, min(t + ivec2(0, 1), m), 0).rgb + texelFetch(uSrc, min(t + ivec2(1, 1), m), 0).rgb;
  fragColor = vec4(c * 0.25, 1.0);
}
`;

/**
 * How much the frame pass draws. SwiftShader runs every instruction of a fragment shader for
 * every pixel, branches or not, so each zoom level gets a program with only what it shows.
 *   mip      more than one pool per device pixel: the mean colour of the pools under the pixel,
 *            from two levels of the world cache's mip chain (MIP_FRAGMENT), filtered linearly and
 *            mixed by the fraction of the level (trilinear): no pool is skipped, and panning or
 *            zooming by less than a pixel moves the picture smoothly instead of swapping pools
 *   far      pools under POOL_EDGE_SCALE px: the cached colour
 *   mid      and pool edges
 *   blocks   and the blocks of pools whose blocks are loaded, with block edges
 */
export type FrameMode = 'mip' | 'far' | 'mid' | 'blocks';

/**
 * The two mip levels a frame reads for `poolsPerPixel` pools per device pixel (> 1): level k0
 * (0: the world cache itself), k0 + 1 (clamped to the last, `levels`), and the mix t between them.
 */
export function mipLevels(poolsPerPixel: number, levels: number): { k0: number; k1: number; t: number } {
  const l = Math.log2(Math.max(1, poolsPerPixel));
  const k0 = Math.min(Math.floor(l), levels);
  const k1 = Math.min(k0 + 1, levels);
  return { k0, k1, t: k1 === k0 ? 0 : Math.min(1, l - k0) };
}

/**
 * Frame pass. Uniforms (vec4 each):
 *   uOrigin    tileX, tileY, fracX, fracY           (layout.ts shaderOrigin)
 *   uScale     world units per CSS px, CSS px per world unit, 0, 0
 *   uGrid      cols, rows, pitch, 0
 *   uWorldSize world cache width, height (texels, border included), 0, 0
 *   uColEdge, uColBlockEdge: palette.ts UI colours
 * Everything is float arithmetic on whole numbers (exact below 2^24), which SwiftShader runs
 * faster than integer division; cache reads clamp to the world cache's background border.
 */
export function frameFragment(mode: FrameMode): string {
  if (mode === 'mip') return MIP_FRAME;
  const mid = mode !== 'far';
  const blocks = mode === 'blocks';
  return `${HEADER}
#define MID ${mid ? 1 : 0}
#define BLOCKS ${blocks ? 1 : 0}
in vec2 vPos;
out vec4 fragColor;
uniform sampler2D uWorld;
uniform vec4 uOrigin;
uniform vec4 uScale;
uniform vec4 uGrid;
uniform vec4 uWorldSize;
#if MID
uniform vec4 uColEdge;
#endif
#if BLOCKS
uniform sampler2D uBlockColor;
uniform vec4 uColBlockEdge;
#endif

void main() {
  vec2 local = uOrigin.zw + vPos * uScale.x;
  vec2 fl = floor(local);
  vec2 cell = uOrigin.xy * uGrid.z + fl;
  vec4 w = texture(uWorld, (cell + ${(WORLD_BORDER + 0.5).toFixed(1)}) / uWorldSize.xy);
  vec3 color = w.rgb;
#if MID
  vec2 f = local - fl;
#if BLOCKS
  // Alpha: 0 a pool without blocks loaded, 255 no pool, else the block grid (cols * 2 + square).
  float code = floor(w.a * 255.0 + 0.5);
  float bc = max(floor(code * 0.5), 1.0);
  float br = max(bc - 1.0 + (code - 2.0 * floor(code * 0.5)), 1.0);
  vec2 grid = vec2(bc, br);
  vec2 bpos = f * grid;
  vec2 bi = min(floor(bpos), grid - 1.0);
  vec2 tile = floor((cell + 0.5) / uGrid.z);
  vec2 g = tile * uGrid.xy + (cell - tile * uGrid.z);
  vec2 atlas = g - floor((g + 0.5) / ${BLOCK_ATLAS_SIDE.toFixed(1)}) * ${BLOCK_ATLAS_SIDE.toFixed(1)};
  vec4 bcol = texture(uBlockColor, (atlas * ${BLOCK_TILE.toFixed(1)} + bi + 0.5) / ${BLOCK_CACHE_SIDE.toFixed(1)});
  vec2 cellPx = vec2(uScale.y) / grid;
  vec2 bp = (bpos - bi) * cellPx;
  // Block edges where blocks are 5 px or more, not past the last block (alpha 3).
  float be = (1.0 - step(1.0, min(bp.x, bp.y))) * step(5.0, min(cellPx.x, cellPx.y)) * step(bcol.a, 2.5 / 255.0);
  color = code > 0.0 && code < 255.0 ? mix(bcol.rgb, uColBlockEdge.rgb, 0.75 * be) : color;
#endif
  // Pool edges: the top and left pixel of every pool.
  vec2 fp = f * uScale.y;
  float e = step(w.a, 254.5 / 255.0) * (1.0 - step(1.0, min(fp.x, fp.y)));
  color = mix(color, uColEdge.rgb, 0.6 * e);
#endif
  fragColor = vec4(color, 1.0);
}
`;
}

/**
 * Frame pass of the 'mip' mode. uMip = t, 2^-k0, 2^-k1, 0; uMipSize = level k0's width and height,
 * level k1's (texels). uMipA is level k0 (the world cache, nearest, when k0 = 0), uMipB level k1,
 * both filtered linearly and clamped to their edges.
 */
const MIP_FRAME = `${HEADER}
in vec2 vPos;
out vec4 fragColor;
uniform sampler2D uMipA;
uniform sampler2D uMipB;
uniform vec4 uOrigin;
uniform vec4 uScale;
uniform vec4 uGrid;
uniform vec4 uMip;
uniform vec4 uMipSize;
void main() {
  // World texel position (border included) of the pixel's centre.
  vec2 p = uOrigin.xy * uGrid.z + uOrigin.zw + vPos * uScale.x + ${WORLD_BORDER.toFixed(1)};
  vec3 a = texture(uMipA, p * uMip.y / uMipSize.xy).rgb;
  vec3 b = texture(uMipB, p * uMip.z / uMipSize.zw).rgb;
  fragColor = vec4(mix(a, b, uMip.x), 1.0);
}
`;

/** Outline quads: positions in CSS px, one colour per vertex. */
export const OVERLAY_VERTEX = `#version 300 es
precision highp float;
in vec2 aPosition;
in vec4 aColor;
out vec4 vColor;
uniform mat3 uProjectionMatrix;
uniform mat3 uWorldTransformMatrix;
uniform mat3 uTransformMatrix;
void main() {
  mat3 mvp = uProjectionMatrix * uWorldTransformMatrix * uTransformMatrix;
  gl_Position = vec4((mvp * vec3(aPosition, 1.0)).xy, 0.0, 1.0);
  vColor = aColor;
}
`;

export const OVERLAY_FRAGMENT = `#version 300 es
precision highp float;
in vec4 vColor;
out vec4 fragColor;
void main() { fragColor = vColor; }
`;

/**
 * Free-list numbers: one quad per number, over the box its digits fill. aGlyph runs over
 * (0 .. digits * 4 - 1, 0 .. 5) across the quad: 3x5 glyphs with a column of space between.
 */
export const LABEL_VERTEX = `#version 300 es
precision highp float;
in vec2 aPosition;
in vec2 aGlyph;
in float aNumber;
out vec2 vGlyph;
flat out int vNumber;
uniform mat3 uProjectionMatrix;
uniform mat3 uWorldTransformMatrix;
uniform mat3 uTransformMatrix;
void main() {
  mat3 mvp = uProjectionMatrix * uWorldTransformMatrix * uTransformMatrix;
  gl_Position = vec4((mvp * vec3(aPosition, 1.0)).xy, 0.0, 1.0);
  vGlyph = aGlyph;
  vNumber = int(aNumber + 0.5);
}
`;

export const LABEL_FRAGMENT = `${HEADER}
in vec2 vGlyph;
flat in int vNumber;
out vec4 fragColor;
uniform vec4 uColText;
const int FONT[10] = int[10](${DIGIT_FONT.join(', ')});
void main() {
  int n = vNumber;
  int ndig = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : 4;
  ivec2 q = ivec2(floor(vGlyph));
  int di = q.x / 4;
  int cx = q.x - di * 4;
  int div = 1;
  for (int i = 0; i < 3; i++) { if (i < ndig - 1 - di) div *= 10; }
  int d = (n / div) % 10;
  int bit = 14 - (q.y * 3 + cx);
  if (cx == 3 || q.y < 0 || q.y > 4 || ((FONT[d] >> bit) & 1) == 0) discard;
  fragColor = vec4(uColText.rgb, 1.0);
}
`;
