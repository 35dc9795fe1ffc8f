/**
 * The GPU side of the heap map: a pixi v8 WebGL renderer, data textures, two colour caches and
 * the frame quads (map and minimap). No pixi object per pool: pool states are a texture,
 * updated by range, and every colour is computed by a shader (shaders.ts).
 *
 *   states      the pool-state array (r16uint). `setStates` copies the changed ranges into the CPU
 *               copy and uploads only those texels (BufferImageSource.update(start, end), which
 *               pixi turns into texSubImage2D of the rows they cover).
 *   order       tile position -> arena index (r32uint, layout.ts `order`): uploaded when the
 *               arena addresses change the order, which redraws the world cache whole.
 *   rawCells    the raw region's cell states (r16uint, raw.ts): uploaded with `setRaw`, which
 *               redraws the raw region's rows of the world cache.
 *   palette     palette.ts for the theme.
 *   blocks      the block atlas (rg16uint), one row per pool on screen at deep zoom.
 *   world       render texture, one texel per world cell: the world cache pass redraws only the
 *               rectangles whose pools changed (or had their blocks loaded).
 *   blockColor  render texture, one 32x32 tile per atlas row: redrawn for rows written.
 *   mips        render textures, the world cache's reduced levels (shaders.ts MIP_FRAGMENT), for
 *               views with more than one pool per pixel: redrawn over the rectangles of the level
 *               below that were, and only up to the level a frame reads.
 *
 * Each frame draws the caches' dirty parts, then the map quad (and the minimap quad) whose
 * shader reads the caches: the per-pixel cost stays one or two texture reads however many pools
 * there are, which is what keeps panning smooth in software WebGL. Below one pool a device pixel
 * the map quad reads two mip levels (the mean colour of the pools under the pixel, so none is
 * skipped and sub-pixel pans do not shimmer); only the levels it reads are brought up to date.
 *
 * Render on demand: `invalidate()` asks for one animation frame; nothing runs between changes
 * (no pixi ticker, no Application). Context loss: pixi keeps the data textures' CPU copies and
 * re-creates GPU objects on restore; the engine stops drawing while the context is lost, then
 * redraws both caches whole (render textures lose their contents) and the frame. `destroy()`
 * frees textures, meshes and the context.
 *
 * pixi's Application is not used (its ticker would run a frame loop), nor its system ticker
 * (see init); `autoDetectRenderer` with `skipExtensionImports` also keeps pixi's event and
 * accessibility systems out: the controller handles input itself.
 */
import 'pixi.js/unsafe-eval';
import {
  autoDetectRenderer,
  BufferImageSource,
  Container,
  Geometry,
  GlProgram,
  Mesh,
  RendererType,
  RenderTexture,
  Shader,
  Ticker,
  UniformGroup,
  type WebGLRenderer,
} from 'pixi.js';
import type { EngineStats } from './engine-stats';
import {
  arenaAt,
  arenaRect,
  atlasKey,
  BLOCK_ATLAS_MAX_BLOCKS,
  BLOCK_ATLAS_SIDE,
  BLOCK_ATLAS_WIDTH,
  blockGrid,
  blockRectInPool,
  mergeRects,
  poolGridPos,
  isEmptyLayout,
  poolRect,
  sameLayout,
  shaderOrigin,
  slotRangeRects,
  visibleSlots,
  worldTexels,
  worldToScreen,
  type HeapLayout,
  type Rect,
  type View,
  type Viewport,
} from './layout';
import {
  PALETTE_ROWS,
  PALETTE_WIDTH,
  paletteBytes,
  paletteColor,
  ROW_RAW_BRK,
  ROW_RAW_MMAP,
  ROW_UI,
  UI_BACKGROUND,
  UI_BLOCK_EDGE,
  UI_HOVER,
  UI_MINIMAP_EDGE,
  UI_POOL_EDGE,
  UI_SELECTION,
  UI_TEXT_ON_FREE,
  UI_VIEW_RECT,
  type Theme,
} from './palette';
import { coalesceRanges } from './ranges';
import { chunkOfPointer, chunkRects, EMPTY_TAPE, rawDetail, type RawTape } from './raw';
import {
  BLOCK_CACHE_SIDE,
  BLOCK_FRAGMENT,
  BLOCK_TILE,
  DIGIT_MIN_PX,
  frameFragment,
  LABEL_FRAGMENT,
  LABEL_VERTEX,
  MIP_FRAGMENT,
  mipLevels,
  OVERLAY_FRAGMENT,
  OVERLAY_VERTEX,
  PASS_VERTEX,
  POOL_EDGE_SCALE,
  QUAD_VERTEX,
  STATES_WIDTH,
  WORLD_BORDER,
  worldFragment,
  type FrameMode,
} from './shaders';
import type { HeapSelection, SlotRange } from './types';

type Vec4 = Float32Array;
const MAIN_UNIFORMS = ['uOrigin', 'uScale', 'uGrid', 'uWorldSize', 'uQuad', 'uColEdge', 'uColBlockEdge', 'uMip', 'uMipSize'] as const;
type MainUniform = (typeof MAIN_UNIFORMS)[number];
type Rgba = [number, number, number, number];

/** Pools get a hover outline from this many CSS px. */
const HOVER_MIN_SCALE = 6;
/** At most this many free-list numbers are drawn (the screen holds fewer at any zoom that shows them). */
const MAX_LABELS = 20000;

/**
 * A mesh whose quads are rebuilt from the CPU (outlines, numbers): a handful per frame, never
 * one per pool.
 */
class QuadBatch {
  readonly mesh: Mesh<Geometry, Shader>;
  private readonly geometry: Geometry;
  private readonly sizes: Record<string, number>;

  constructor(program: GlProgram, attributes: Record<string, number>, resources: Record<string, unknown>, blend: boolean) {
    this.sizes = attributes;
    const formats: Record<number, 'float32' | 'float32x2' | 'float32x4'> = { 1: 'float32', 2: 'float32x2', 4: 'float32x4' };
    this.geometry = new Geometry({
      attributes: Object.fromEntries(
        Object.entries(attributes).map(([name, size]) => [name, { buffer: new Float32Array(size * 4), format: formats[size]! }]),
      ),
      indexBuffer: new Uint32Array([0, 1, 2, 0, 2, 3]),
    });
    this.mesh = new Mesh({ geometry: this.geometry, shader: new Shader({ glProgram: program, resources }) });
    this.mesh.state.blend = blend;
    this.mesh.visible = false;
  }

  /** Sets the quads: per attribute, 4 vertices' values per quad (corners clockwise from top-left). */
  set(count: number, data: Record<string, Float32Array>): void {
    this.mesh.visible = count > 0;
    if (count === 0) return;
    for (const name of Object.keys(this.sizes)) this.geometry.getBuffer(name).data = data[name]!.subarray(0, count * 4 * this.sizes[name]!);
    const idx = new Uint32Array(count * 6);
    for (let i = 0; i < count; i++) idx.set([i * 4, i * 4 + 1, i * 4 + 2, i * 4, i * 4 + 2, i * 4 + 3], i * 6);
    this.geometry.indexBuffer.data = idx;
  }

  destroy(): void {
    this.mesh.shader?.destroy();
    this.mesh.destroy();
    this.geometry.destroy();
  }
}

/** Collects outline quads (rings) with colours, premultiplied for the normal blend mode. */
class Outlines {
  private pos: number[] = [];
  private col: number[] = [];

  rect(x: number, y: number, w: number, h: number, c: Rgba): void {
    if (w <= 0 || h <= 0) return;
    this.pos.push(x, y, x + w, y, x + w, y + h, x, y + h);
    const pre = [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]];
    for (let i = 0; i < 4; i++) this.col.push(...pre);
  }

  /** A ring of thickness t inside the rectangle (or outside, with `outside`). */
  ring(r: Rect, t: number, c: Rgba, outside = false): void {
    const x = outside ? r.x - t : r.x;
    const y = outside ? r.y - t : r.y;
    const w = outside ? r.width + 2 * t : r.width;
    const h = outside ? r.height + 2 * t : r.height;
    const tt = Math.min(t, w / 2, h / 2);
    this.rect(x, y, w, tt, c);
    this.rect(x, y + h - tt, w, tt, c);
    this.rect(x, y + tt, tt, h - 2 * tt, c);
    this.rect(x + w - tt, y + tt, tt, h - 2 * tt, c);
  }

  flush(batch: QuadBatch): void {
    batch.set(this.pos.length / 8, { aPosition: new Float32Array(this.pos), aColor: new Float32Array(this.col) });
    this.pos = [];
    this.col = [];
  }
}

interface Quad {
  mesh: Mesh<Geometry, Shader>;
  group: UniformGroup;
  /** One shader per frame mode (shaders.ts frameFragment), made on first use. */
  shaders: Map<string, Shader>;
  u: Record<MainUniform, Vec4>;
  /** In 'mip' mode, pools per device pixel (the levels read follow, at render time); else null. */
  mip: number | null;
}

interface Pass {
  mesh: Mesh<Geometry, Shader>;
  shader: Shader;
  u: { uGrid: Vec4; uHeap: Vec4; uRaw: Vec4 };
}

/** What the pointer is over, for its outline: a pool (and block), or a raw chunk (raw.ts index). */
export interface SceneHover {
  slot: number;
  block: number;
  rawChunk: number;
}

/** Raw chunks are drawn one by one (over the cell shading) from this many CSS px per cell. */
const RAW_DETAIL_SCALE = 8;
/** At most this many rectangles of raw detail (more on screen: the cell shading alone). */
const MAX_RAW_RECTS = 20000;

export interface EngineCallbacks {
  /** After every frame drawn. */
  onFrame?(frame: number): void;
  /** The renderer could not start (no WebGL 2, ...). */
  onError?(message: string): void;
}

export interface MinimapPlacement {
  /** Quad position and size, CSS px. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The view that shows the whole map inside the quad. */
  view: View;
}

function vec4(v: number[] = [0, 0, 0, 0]): Vec4 {
  return new Float32Array(v);
}

/** A geometry of one quad per rectangle (positions in target texels). */
function quadsGeometry(rects: readonly Rect[]): Geometry {
  const pos = new Float32Array(rects.length * 8);
  const idx = new Uint32Array(rects.length * 6);
  rects.forEach((r, i) => {
    pos.set([r.x, r.y, r.x + r.width, r.y, r.x + r.width, r.y + r.height, r.x, r.y + r.height], i * 8);
    const v = i * 4;
    idx.set([v, v + 1, v + 2, v, v + 2, v + 3], i * 6);
  });
  return new Geometry({ attributes: { aPosition: { buffer: pos, format: 'float32x2' } }, indexBuffer: idx });
}

export class HeapMapEngine {
  private renderer: WebGLRenderer | null = null;
  private readonly stage = new Container();
  private readonly empty = new Container();
  private readonly unitQuad = quadsGeometry([{ x: 0, y: 0, width: 1, height: 1 }]);
  private readonly worldProgram = GlProgram.from({ vertex: PASS_VERTEX, fragment: worldFragment(false), name: 'heapmap-world', preferredFragmentPrecision: 'highp' });
  private readonly flagProgram = GlProgram.from({ vertex: PASS_VERTEX, fragment: worldFragment(true), name: 'heapmap-world-blocks', preferredFragmentPrecision: 'highp' });
  private readonly blockProgram = GlProgram.from({ vertex: PASS_VERTEX, fragment: BLOCK_FRAGMENT, name: 'heapmap-blocks', preferredFragmentPrecision: 'highp' });
  private readonly mipProgram = GlProgram.from({ vertex: PASS_VERTEX, fragment: MIP_FRAGMENT, name: 'heapmap-mip', preferredFragmentPrecision: 'highp' });
  private statesSource: BufferImageSource;
  private statesData: Uint16Array;
  private slotCount = 0;
  private orderSource: BufferImageSource;
  private rawSource: BufferImageSource;
  /** The raw region laid out (raw.ts), for its outlines and deep-zoom chunks. */
  private tape: RawTape = EMPTY_TAPE;
  private readonly paletteSource: BufferImageSource;
  private readonly blocksSource: BufferImageSource;
  private readonly blocksData: Uint16Array;
  private world: RenderTexture;
  private readonly blockColor: RenderTexture;
  private readonly worldPass: Pass;
  private readonly flagPass: Pass;
  private readonly blockPass: Pass;
  /** Levels 1, 2, ... of the world cache's mip chain (mips[k - 1] is level k), down to 1x1. */
  private mips: RenderTexture[] = [];
  /** Per level (as mips), what to redraw, in that level's texels. */
  private mipDirty: (Rect[] | 'all')[] = [];
  private readonly mipPass: { mesh: Mesh<Geometry, Shader>; shader: Shader; srcSize: Vec4 };
  private readonly main: Quad;
  private readonly mini: Quad;
  private readonly mainOverlay: QuadBatch;
  private readonly labels: QuadBatch;
  private readonly miniOverlay: QuadBatch;
  private readonly overlayProgram = GlProgram.from({ vertex: OVERLAY_VERTEX, fragment: OVERLAY_FRAGMENT, name: 'heapmap-overlay' });
  private readonly labelProgram = GlProgram.from({ vertex: LABEL_VERTEX, fragment: LABEL_FRAGMENT, name: 'heapmap-labels', preferredFragmentPrecision: 'highp' });
  private readonly labelColour = vec4();
  private scene: { view: View; blocks: boolean; sel: HeapSelection | null; hover: SceneHover } | null = null;
  private layout: HeapLayout | null = null;
  /** World cache rectangles to redraw ('all' after a resize, a theme or a lost context). */
  private worldDirty: Rect[] | 'all' = 'all';
  /** Pools whose world texel must be redrawn with their block-grid code (blocks loaded or evicted). */
  private readonly flagDirty = new Set<number>();
  private blockDirty: Set<number> | 'all' = 'all';
  /** Which slot each atlas row holds (-1: none). */
  private readonly atlasOccupant = new Int32Array(BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE).fill(-1);
  private raf = 0;
  private destroyed = false;
  private lost = false;
  private canvas: HTMLCanvasElement | null = null;
  private viewport: Viewport;
  private dpr: number;
  private theme: Theme = 'dark';
  private alignment = 16;
  readonly stats: EngineStats = { frames: 0, uploadedTexels: 0, fullUploads: 0, blockRows: 0, contextLosses: 0, contextRestores: 0, worldTexelsDrawn: 0 };
  /** Resolves when the renderer is up (or failed: see `error`). */
  readonly ready: Promise<void>;
  error: string | null = null;

  constructor(
    private readonly host: HTMLElement,
    viewport: Viewport,
    dpr: number,
    private readonly callbacks: EngineCallbacks = {},
  ) {
    this.viewport = { ...viewport };
    this.dpr = dpr;
    this.statesData = new Uint16Array(STATES_WIDTH);
    this.statesSource = this.makeStatesSource(this.statesData, 1);
    this.orderSource = this.makeDataSource(new Uint32Array(STATES_WIDTH), 1, 'r32uint');
    this.rawSource = this.makeDataSource(new Uint16Array(STATES_WIDTH), 1, 'r16uint');
    this.paletteSource = new BufferImageSource({
      resource: paletteBytes(this.theme, this.alignment),
      width: PALETTE_WIDTH,
      height: PALETTE_ROWS,
      format: 'rgba8unorm',
      scaleMode: 'nearest',
      alphaMode: 'no-premultiply-alpha',
      autoGenerateMipmaps: false,
    });
    const atlasRows = BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE;
    this.blocksData = new Uint16Array(BLOCK_ATLAS_WIDTH * atlasRows * 2);
    this.blocksSource = new BufferImageSource({
      resource: this.blocksData,
      width: BLOCK_ATLAS_WIDTH,
      height: atlasRows,
      format: 'rg16uint',
      scaleMode: 'nearest',
      autoGenerateMipmaps: false,
    });
    this.world = this.makeTarget(1, 1);
    this.blockColor = this.makeTarget(BLOCK_CACHE_SIDE, BLOCK_CACHE_SIDE);
    this.worldPass = this.makePass(this.worldProgram);
    this.flagPass = this.makePass(this.flagProgram);
    this.blockPass = this.makePass(this.blockProgram);
    const srcSize = vec4();
    const mipShader = new Shader({
      glProgram: this.mipProgram,
      resources: { uSrc: this.world.source, mipUniforms: new UniformGroup({ uSrcSize: { value: srcSize, type: 'vec4<f32>' } }) },
    });
    const mipMesh = new Mesh({ geometry: this.unitQuad, shader: mipShader });
    mipMesh.state.blend = false;
    this.mipPass = { mesh: mipMesh, shader: mipShader, srcSize };
    this.main = this.makeQuad();
    this.mini = this.makeQuad();
    this.mini.mesh.visible = false;
    this.mainOverlay = new QuadBatch(this.overlayProgram, { aPosition: 2, aColor: 4 }, {}, true);
    this.miniOverlay = new QuadBatch(this.overlayProgram, { aPosition: 2, aColor: 4 }, {}, true);
    this.labels = new QuadBatch(
      this.labelProgram,
      { aPosition: 2, aGlyph: 2, aNumber: 1 },
      { labelUniforms: new UniformGroup({ uColText: { value: this.labelColour, type: 'vec4<f32>' } }) },
      false,
    );
    this.stage.addChild(this.main.mesh, this.mainOverlay.mesh, this.labels.mesh, this.mini.mesh, this.miniOverlay.mesh);
    this.applyColours();
    this.ready = this.init();
  }

  private makeStatesSource(data: Uint16Array, rows: number): BufferImageSource {
    return this.makeDataSource(data, rows, 'r16uint');
  }

  /** A data texture STATES_WIDTH texels wide (states, order, raw cells). */
  private makeDataSource(data: Uint16Array | Uint32Array, rows: number, format: 'r16uint' | 'r32uint'): BufferImageSource {
    return new BufferImageSource({
      resource: data,
      width: STATES_WIDTH,
      height: rows,
      format,
      scaleMode: 'nearest',
      autoGenerateMipmaps: false,
    });
  }

  private makeTarget(width: number, height: number, scaleMode: 'nearest' | 'linear' = 'nearest'): RenderTexture {
    return RenderTexture.create({
      width,
      height,
      resolution: 1,
      format: 'rgba8unorm',
      scaleMode,
      antialias: false,
      autoGenerateMipmaps: false,
      alphaMode: 'no-premultiply-alpha',
    });
  }

  private makePass(program: GlProgram): Pass {
    const u = { uGrid: vec4(), uHeap: vec4(), uRaw: vec4() };
    const shader = new Shader({
      glProgram: program,
      resources: {
        uStates: this.statesSource,
        uPalette: this.paletteSource,
        uBlocks: this.blocksSource,
        uOrder: this.orderSource,
        uRawCells: this.rawSource,
        passUniforms: new UniformGroup({
          uGrid: { value: u.uGrid, type: 'vec4<f32>' },
          uHeap: { value: u.uHeap, type: 'vec4<f32>' },
          uRaw: { value: u.uRaw, type: 'vec4<f32>' },
        }),
      },
    });
    const mesh = new Mesh({ geometry: this.unitQuad, shader });
    // The caches are written, never blended: alpha carries data.
    mesh.state.blend = false;
    return { mesh, shader, u };
  }

  private makeQuad(): Quad {
    const u = Object.fromEntries(MAIN_UNIFORMS.map((n) => [n, vec4()])) as Record<MainUniform, Vec4>;
    const group = new UniformGroup(Object.fromEntries(MAIN_UNIFORMS.map((n) => [n, { value: u[n], type: 'vec4<f32>' as const }])));
    const quad: Quad = { mesh: null as unknown as Mesh<Geometry, Shader>, group, shaders: new Map(), u, mip: null };
    quad.mesh = new Mesh({ geometry: this.unitQuad, shader: this.frameShader(quad, 'far') });
    quad.mesh.state.blend = false;
    return quad;
  }

  private frameShader(q: Quad, mode: FrameMode): Shader {
    let shader = q.shaders.get(mode);
    if (shader === undefined) {
      const program = GlProgram.from({ vertex: QUAD_VERTEX, fragment: frameFragment(mode), name: `heapmap-${mode}`, preferredFragmentPrecision: 'highp' });
      shader = new Shader({
        glProgram: program,
        resources:
          mode === 'blocks'
            ? { uWorld: this.world.source, uBlockColor: this.blockColor.source, frameUniforms: q.group }
            : mode === 'mip'
              ? { uMipA: this.world.source, uMipB: this.world.source, frameUniforms: q.group }
              : { uWorld: this.world.source, frameUniforms: q.group },
      });
      q.shaders.set(mode, shader);
    }
    return shader;
  }

  private async init(): Promise<void> {
    try {
      // pixi's scheduler (for its texture GC) hangs on Ticker.system, which would run an
      // animation-frame loop for as long as the page lives. The map frees what it creates and
      // its render textures must never be collected (their contents would be lost), so the GC
      // is off and the system ticker never starts: no frame is requested unless invalidate() asks.
      Ticker.system.autoStart = false;
      Ticker.system.stop();
      const renderer = await autoDetectRenderer({
        gcActive: false,
        preference: 'webgl',
        width: this.viewport.width,
        height: this.viewport.height,
        resolution: this.dpr,
        autoDensity: true,
        antialias: false,
        background: this.backgroundHex(),
        backgroundAlpha: 1,
        skipExtensionImports: true,
        preserveDrawingBuffer: false,
        hello: false,
        webgl: { preferWebGLVersion: 2 },
      });
      if (this.destroyed) {
        renderer.destroy({ removeView: true });
        return;
      }
      if (renderer.type !== RendererType.WEBGL || (renderer as WebGLRenderer).context.webGLVersion !== 2) {
        renderer.destroy({ removeView: true });
        throw new Error('the heap map needs WebGL 2');
      }
      this.renderer = renderer as WebGLRenderer;
      // The theme may have changed while the renderer was starting.
      this.renderer.background.color = this.backgroundHex();
      const canvas = this.renderer.canvas as HTMLCanvasElement;
      this.canvas = canvas;
      canvas.classList.add('heapmap-canvas');
      canvas.addEventListener('webglcontextlost', this.onContextLost);
      canvas.addEventListener('webglcontextrestored', this.onContextRestored);
      this.host.prepend(canvas);
      this.warmUp(this.renderer);
      this.invalidate();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.callbacks.onError?.(this.error);
    }
  }

  /**
   * Compiles every program now, by drawing each once into a 1x1 scratch target: linking blocks
   * the page for a moment per program (about half a second in all on SwiftShader, the numbers'
   * program the most), which is better spent before the first heap arrives than in the middle
   * of the first zoom.
   */
  private warmUp(r: WebGLRenderer): void {
    const target = this.makeTarget(1, 1);
    const modes: FrameMode[] = ['mip', 'far', 'mid', 'blocks'];
    for (const mode of modes) {
      const mesh = new Mesh({ geometry: this.unitQuad, shader: this.frameShader(this.main, mode) });
      r.render({ container: mesh, target, clear: false });
      mesh.destroy();
    }
    for (const pass of [this.worldPass, this.flagPass, this.blockPass, this.mipPass]) r.render({ container: pass.mesh, target, clear: false });
    const one = (n: number): Float32Array => new Float32Array(4 * n);
    this.mainOverlay.set(1, { aPosition: one(2), aColor: one(4) });
    this.labels.set(1, { aPosition: one(2), aGlyph: one(2), aNumber: one(1) });
    for (const batch of [this.mainOverlay, this.labels]) {
      r.render({ container: batch.mesh, target, clear: false });
      batch.set(0, {});
    }
    target.destroy(true);
  }

  private readonly onContextLost = (): void => {
    // pixi's own listener (added first) calls preventDefault, so the context can come back.
    this.lost = true;
    this.stats.contextLosses++;
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    this.raf = 0;
  };

  private readonly onContextRestored = (): void => {
    // pixi's listener has already re-created its systems; data textures re-upload from their
    // CPU copies, and the caches (render textures) are drawn again from them.
    this.lost = false;
    this.stats.contextRestores++;
    this.worldDirty = 'all';
    this.blockDirty = 'all';
    this.invalidate();
  };

  private backgroundHex(): string {
    const [r, g, b] = paletteColor(this.theme, this.alignment, ROW_UI, UI_BACKGROUND);
    return '#' + [r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('');
  }

  private colour(x: number): Rgba {
    const [r, g, b] = paletteColor(this.theme, this.alignment, ROW_UI, x);
    return [r / 255, g / 255, b / 255, 1];
  }

  private applyColours(): void {
    for (const q of [this.main, this.mini]) {
      q.u.uColEdge.set(this.colour(UI_POOL_EDGE));
      q.u.uColBlockEdge.set(this.colour(UI_BLOCK_EDGE));
    }
    this.labelColour.set(this.colour(UI_TEXT_ON_FREE));
  }

  /** The canvas, once the renderer is up. */
  get element(): HTMLCanvasElement | null {
    return this.canvas;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** The pool-state value the engine holds for `slot` (0 past the end). */
  stateAt(slot: number): number {
    return slot >= 0 && slot < this.slotCount ? this.statesData[slot]! : 0;
  }

  /** Sets the layout: the world cache is resized (and redrawn whole) when its size changes. */
  setLayout(L: HeapLayout): void {
    const prev = this.layout;
    this.layout = L;
    if (prev === null || prev.order !== L.order || prev.arenas !== L.arenas) this.uploadOrder(L);
    const t = worldTexels(L);
    const width = t.width + 2 * WORLD_BORDER;
    const height = t.height + 2 * WORLD_BORDER;
    if (this.world.width !== width || this.world.height !== height) {
      const old = this.world;
      this.world = this.makeTarget(width, height);
      for (const q of [this.main, this.mini]) for (const [mode, sh] of q.shaders) if (mode !== 'mip') sh.resources.uWorld = this.world.source;
      old.destroy(true);
      this.makeMips(width, height);
    }
    if (prev === null || !sameLayout(prev, L)) this.worldDirty = 'all';
    for (const p of [this.worldPass, this.flagPass, this.blockPass]) {
      p.u.uGrid.set([L.cols, L.rows, L.pitchX, 0]);
      p.u.uHeap.set([L.arenasPerRow, L.arenas, L.poolsPerArena, this.slotCount]);
      p.u.uRaw.set([L.rawY, L.rawWidth, L.rawCells, L.order === null ? 0 : 1]);
    }
    this.invalidate();
  }

  /** Uploads the layout's tile order (the identity for index order). */
  private uploadOrder(L: HeapLayout): void {
    const rows = Math.max(1, Math.ceil(L.arenas / STATES_WIDTH));
    const data = new Uint32Array(rows * STATES_WIDTH);
    for (let p = 0; p < L.arenas; p++) data[p] = arenaAt(L, p);
    if (rows !== this.orderSource.height) {
      const old = this.orderSource;
      this.orderSource = this.makeDataSource(data, rows, 'r32uint');
      for (const p of [this.worldPass, this.flagPass, this.blockPass]) p.shader.resources.uOrder = this.orderSource;
      old.destroy();
    } else {
      (this.orderSource.resource as Uint32Array).set(data);
      this.orderSource.update();
    }
  }

  /**
   * Sets the raw region's contents (raw.ts), laid out by the layout set last (its rawCells must
   * be `tape.cells`): uploads the cell states and redraws the region's rows of the world cache.
   */
  setRaw(tape: RawTape): void {
    this.tape = tape;
    const rows = Math.max(1, Math.ceil(tape.cells / STATES_WIDTH));
    if (rows !== this.rawSource.height) {
      const data = new Uint16Array(rows * STATES_WIDTH);
      data.set(tape.cellStates);
      const old = this.rawSource;
      this.rawSource = this.makeDataSource(data, rows, 'r16uint');
      for (const p of [this.worldPass, this.flagPass, this.blockPass]) p.shader.resources.uRawCells = this.rawSource;
      old.destroy();
    } else {
      const data = this.rawSource.resource as Uint16Array;
      data.fill(0);
      data.set(tape.cellStates);
      this.rawSource.update();
    }
    const L = this.layout;
    if (L !== null && L.rawCells > 0) this.markWorld([{ x: 0, y: L.rawY, width: worldTexels(L).width, height: Math.min(L.rawRows, worldTexels(L).height - L.rawY) }]);
    this.invalidate();
  }

  /** Marks world cells (not texels: the border is added here) for the colour pass. */
  private markWorld(rects: Rect[]): void {
    if (this.worldDirty === 'all' || rects.length === 0) return;
    for (const r of rects) this.worldDirty.push({ ...r, x: r.x + WORLD_BORDER, y: r.y + WORLD_BORDER });
  }

  /**
   * Applies a new pool-state array. `changed` = the ranges that differ from the previous call's
   * array (null: everything). Only those texels are uploaded, unless the array grew or shrank
   * past a texture row.
   */
  setStates(states: Uint16Array, changed: readonly SlotRange[] | null): void {
    const n = states.length;
    const rows = Math.max(1, Math.ceil(n / STATES_WIDTH));
    const prevCount = this.slotCount;
    this.slotCount = n;
    for (const p of [this.worldPass, this.flagPass, this.blockPass]) p.u.uHeap[3] = n;
    if (rows !== this.statesSource.height) {
      // Re-allocated: the texture's height changes (the arena vector grew).
      const data = new Uint16Array(rows * STATES_WIDTH);
      data.set(states);
      const old = this.statesSource;
      this.statesData = data;
      this.statesSource = this.makeStatesSource(data, rows);
      for (const p of [this.worldPass, this.flagPass, this.blockPass]) p.shader.resources.uStates = this.statesSource;
      old.destroy();
      this.stats.uploadedTexels += data.length;
      this.stats.fullUploads++;
      this.worldDirty = 'all';
      this.blockDirty = 'all';
      this.invalidate();
      return;
    }
    if (changed === null) {
      this.statesData.set(states);
      this.statesData.fill(0, n);
      this.statesSource.update();
      this.stats.uploadedTexels += this.statesData.length;
      this.stats.fullUploads++;
      this.worldDirty = 'all';
      this.blockDirty = 'all';
    } else {
      const ranges = [...changed];
      // Slots dropped off the end read as arena-not-live (0).
      if (prevCount > n) {
        this.statesData.fill(0, n, prevCount);
        ranges.push({ start: n, end: prevCount });
      }
      for (const r of ranges) {
        const s = Math.max(0, r.start);
        const e = Math.min(n, r.end);
        if (e > s) this.statesData.set(states.subarray(s, e), s);
      }
      // Nearby ranges go up together (one texSubImage2D beats many tiny ones).
      for (const r of coalesceRanges(ranges, STATES_WIDTH, this.statesData.length)) {
        this.statesSource.update(r.start, r.end);
        this.stats.uploadedTexels += r.end - r.start;
        if (this.layout !== null) this.markWorld(slotRangeRects(this.layout, r.start, r.end));
      }
      // A pool's class tints its blocks: redraw the block tiles of pools that changed.
      if (this.blockDirty !== 'all') {
        const sorted = coalesceRanges(changed, 1, n);
        for (let key = 0; key < this.atlasOccupant.length; key++) {
          const s = this.atlasOccupant[key]!;
          if (s >= 0 && sorted.some((r) => s >= r.start && s < r.end)) this.blockDirty.add(key);
        }
      }
    }
    this.invalidate();
  }

  setTheme(theme: Theme, alignment: number): void {
    if (theme === this.theme && alignment === this.alignment) return;
    this.theme = theme;
    this.alignment = alignment;
    (this.paletteSource.resource as Uint8Array).set(paletteBytes(theme, alignment));
    this.paletteSource.update();
    this.applyColours();
    if (this.renderer) this.renderer.background.color = this.backgroundHex();
    this.worldDirty = 'all';
    this.blockDirty = 'all';
    this.invalidate();
  }

  /**
   * Sets the frame uniforms of the map from the view; outlines for the selection and hover, and
   * free-list numbers, are rebuilt before the next frame (they also depend on blocks loaded later).
   */
  setScene(view: View, blocks: boolean, sel: HeapSelection | null, hover: SceneHover): void {
    this.scene = { view: { ...view }, blocks, sel, hover: { ...hover } };
    this.invalidate();
  }

  private buildScene(): void {
    const L = this.layout;
    const sc = this.scene;
    if (L === null || sc === null) return;
    const { view, blocks, sel, hover } = sc;
    this.fill(this.main, L, view, this.viewport.width, this.viewport.height);
    const poolsPerPixel = 1 / (view.scale * this.dpr);
    const mode: FrameMode = blocks ? 'blocks' : view.scale >= POOL_EDGE_SCALE ? 'mid' : poolsPerPixel > 1 ? 'mip' : 'far';
    this.frameMode(this.main, mode, poolsPerPixel);
    const o = new Outlines();
    const slots = L.arenas * L.poolsPerArena;
    const screenRect = (r: Rect): Rect => {
      const p = worldToScreen(view, r.x, r.y);
      return { x: p.x, y: p.y, width: r.width * view.scale, height: r.height * view.scale };
    };
    // The block's rectangle on screen, when its pool's blocks are drawn.
    const blockRect = (slot: number, block: number): Rect | null => {
      if (!blocks || block < 0) return null;
      const key = this.atlasKeyOf(slot);
      if (this.atlasOccupant[key] !== slot) return null;
      const cap = this.blocksData[(key * BLOCK_ATLAS_WIDTH + BLOCK_ATLAS_MAX_BLOCKS) * 2]!;
      if (block >= cap) return null;
      const pool = poolRect(L, slot);
      const b = blockRectInPool(cap, block);
      return screenRect({ x: pool.x + b.x, y: pool.y + b.y, width: b.width, height: b.height });
    };
    this.rawScene(o, L, view, screenRect);
    const tape = this.tape;
    if (hover.rawChunk >= 0 && hover.rawChunk < tape.chunkAddress.length) {
      for (const r of chunkRects(L, tape, hover.rawChunk)) o.ring(screenRect(r), 1.5, this.colour(UI_HOVER), r.width * view.scale < 4);
    }
    if (hover.slot >= 0 && hover.slot < slots) {
      const hc = this.colour(UI_HOVER);
      const br = blockRect(hover.slot, hover.block);
      if (br !== null) o.ring(br, 1.5, hc);
      else if (view.scale >= HOVER_MIN_SCALE) o.ring(screenRect(poolRect(L, hover.slot)), 1.5, hc);
    }
    if (sel !== null) {
      const selColour = this.colour(UI_SELECTION);
      if (sel.kind === 'arena') {
        if (sel.arena >= 0 && sel.arena < L.arenas) o.ring(screenRect(arenaRect(L, sel.arena)), 2.5, selColour, true);
      } else if (sel.kind === 'raw') {
        const i = chunkOfPointer(tape, sel.address);
        if (i >= 0) {
          for (const r of chunkRects(L, tape, i)) {
            const sr = screenRect(r);
            if (sr.width >= 10) o.ring(sr, 2.5, selColour);
            else o.ring(sr, 2, selColour, true);
          }
        }
      } else if (sel.slot >= 0 && sel.slot < slots) {
        const br = sel.kind === 'block' ? blockRect(sel.slot, sel.block) : null;
        const r = br ?? screenRect(poolRect(L, sel.slot));
        if (r.width >= 10) o.ring(r, 2.5, selColour);
        else o.ring(r, 2, selColour, true);
      }
    }
    o.flush(this.mainOverlay);
    this.setLabels(L, view, blocks);
  }

  /**
   * The raw region at deep zoom: each region's visible part in its free colour, then each live
   * chunk on screen in its full colour with an edge at its start, over the cell shading (which
   * is all that shows from further out, or when too many chunks are on screen).
   */
  private rawScene(o: Outlines, L: HeapLayout, view: View, screenRect: (r: Rect) => Rect): void {
    if (L.rawCells === 0 || view.scale < RAW_DETAIL_SCALE) return;
    const d = rawDetail(L, this.tape, view, this.viewport, MAX_RAW_RECTS);
    if (d === null) return;
    const rgba = (row: number, x: number): Rgba => {
      const [r, g, b] = paletteColor(this.theme, this.alignment, row, x);
      return [r / 255, g / 255, b / 255, 1];
    };
    const free = rgba(ROW_RAW_BRK, 0);
    for (const r of d.free) {
      const sr = screenRect(r);
      o.rect(sr.x, sr.y, sr.width, sr.height, free);
    }
    const brk = rgba(ROW_RAW_BRK, 15);
    const mmap = rgba(ROW_RAW_MMAP, 15);
    const edge = this.colour(UI_POOL_EDGE);
    for (const c of d.chunks) {
      const sr = screenRect(c.rect);
      o.rect(sr.x, sr.y, sr.width, sr.height, this.tape.chunkMmapped[c.index] === 1 ? mmap : brk);
      // An edge where the chunk starts, when it is wide enough to keep some colour.
      if (c.start && sr.width >= 4) o.rect(sr.x, sr.y, 1, sr.height, edge);
    }
  }

  /** Free-list numbers for the free blocks on screen that are big enough to hold them. */
  private setLabels(L: HeapLayout, view: View, blocks: boolean): void {
    if (!blocks) {
      this.labels.set(0, {});
      return;
    }
    const pos: number[] = [];
    const glyph: number[] = [];
    const num: number[] = [];
    const vw = this.viewport.width;
    const vh = this.viewport.height;
    for (const slot of visibleSlots(L, view, this.viewport, BLOCK_ATLAS_SIDE * BLOCK_ATLAS_SIDE)) {
      const key = this.atlasKeyOf(slot);
      if (this.atlasOccupant[key] !== slot) continue;
      const row = key * BLOCK_ATLAS_WIDTH * 2;
      const cap = this.blocksData[row + BLOCK_ATLAS_MAX_BLOCKS * 2]!;
      const { cols, rows } = blockGrid(cap);
      const cw = view.scale / cols;
      const ch = view.scale / rows;
      if (Math.min(cw, ch) < 2 * DIGIT_MIN_PX) continue;
      const p = worldToScreen(view, poolRect(L, slot).x, poolRect(L, slot).y);
      // Only the block rows and columns on screen.
      const c0 = Math.max(0, Math.floor(-p.x / cw));
      const c1 = Math.min(cols - 1, Math.floor((vw - p.x) / cw));
      const r0 = Math.max(0, Math.floor(-p.y / ch));
      const r1 = Math.min(rows - 1, Math.floor((vh - p.y) / ch));
      for (let by = r0; by <= r1; by++) {
        for (let bx = c0; bx <= c1; bx++) {
          const b = by * cols + bx;
          if (b >= cap) break;
          const n = this.blocksData[row + b * 2 + 1]!;
          if (n === 0) continue;
          const nd = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : 4;
          const gw = nd * 4 - 1;
          const u = Math.min((ch * 0.5) / 5, (cw * 0.8) / gw);
          if (u * 5 < DIGIT_MIN_PX) continue;
          const x = p.x + bx * cw + (cw - gw * u) / 2;
          const y = p.y + by * ch + (ch - 5 * u) / 2;
          pos.push(x, y, x + gw * u, y, x + gw * u, y + 5 * u, x, y + 5 * u);
          glyph.push(0, 0, gw, 0, gw, 5, 0, 5);
          num.push(n, n, n, n);
          if (num.length / 4 >= MAX_LABELS) break;
        }
      }
    }
    this.labels.set(num.length / 4, { aPosition: new Float32Array(pos), aGlyph: new Float32Array(glyph), aNumber: new Float32Array(num) });
  }

  /** Shows the minimap at `place` with the main view's world rectangle, or hides it (null). */
  setMinimap(place: MinimapPlacement | null, mainView: View): void {
    const L = this.layout;
    if (place === null || L === null) {
      if (this.mini.mesh.visible) {
        this.mini.mesh.visible = false;
        this.miniOverlay.set(0, {});
        this.invalidate();
      }
      return;
    }
    this.mini.mesh.visible = true;
    this.mini.mesh.position.set(place.x, place.y);
    this.fill(this.mini, L, place.view, place.width, place.height);
    const poolsPerPixel = 1 / (place.view.scale * this.dpr);
    this.frameMode(this.mini, poolsPerPixel > 1 ? 'mip' : 'far', poolsPerPixel);
    // The main view's rectangle (clipped to the minimap), the rest dimmed, and a frame.
    const s = place.view.scale;
    const x0 = Math.max(0, (mainView.x - place.view.x) * s);
    const y0 = Math.max(0, (mainView.y - place.view.y) * s);
    const x1 = Math.min(place.width, (mainView.x + this.viewport.width / mainView.scale - place.view.x) * s);
    const y1 = Math.min(place.height, (mainView.y + this.viewport.height / mainView.scale - place.view.y) * s);
    const o = new Outlines();
    const dim: Rgba = [...this.colour(UI_BACKGROUND).slice(0, 3), 0.45] as Rgba;
    const X = place.x;
    const Y = place.y;
    if (x1 > x0 && y1 > y0) {
      o.rect(X, Y, place.width, y0, dim);
      o.rect(X, Y + y1, place.width, place.height - y1, dim);
      o.rect(X, Y + y0, x0, y1 - y0, dim);
      o.rect(X + x1, Y + y0, place.width - x1, y1 - y0, dim);
      o.ring({ x: X + x0, y: Y + y0, width: Math.max(x1 - x0, 3), height: Math.max(y1 - y0, 3) }, 1.5, this.colour(UI_VIEW_RECT));
    } else {
      o.rect(X, Y, place.width, place.height, dim);
    }
    o.ring({ x: X, y: Y, width: place.width, height: place.height }, 1, this.colour(UI_MINIMAP_EDGE));
    o.flush(this.miniOverlay);
    this.invalidate();
  }

  private fill(q: Quad, L: HeapLayout, view: View, width: number, height: number): void {
    const o = shaderOrigin(L, view);
    q.u.uOrigin.set([o.tileX, o.tileY, o.fracX, o.fracY]);
    q.u.uScale[0] = 1 / view.scale;
    q.u.uScale[1] = view.scale;
    q.u.uGrid.set([L.cols, L.rows, L.pitchX, 0]);
    q.u.uWorldSize.set([this.world.width, this.world.height, 0, 0]);
    q.u.uQuad[0] = width;
    q.u.uQuad[1] = height;
  }

  /**
   * Writes atlas row `key` for pool `slot`: block states (0 never used, 1 free, 2 in use), the
   * free list's order, capacity and grid columns, and the tag. `blocks` null empties the row.
   */
  writeBlocks(key: number, slot: number, blocks: ArrayLike<number> | null, freeList: ArrayLike<number>, cols: number): void {
    const row = this.blocksData.subarray(key * BLOCK_ATLAS_WIDTH * 2, (key + 1) * BLOCK_ATLAS_WIDTH * 2);
    row.fill(0);
    if (blocks !== null) {
      const cap = Math.min(blocks.length, BLOCK_ATLAS_MAX_BLOCKS);
      for (let b = 0; b < cap; b++) row[b * 2] = blocks[b]!;
      for (let i = 0; i < freeList.length; i++) {
        const b = freeList[i]!;
        if (b >= 0 && b < cap) row[b * 2 + 1] = Math.min(i + 1, 0xffff);
      }
      const meta = BLOCK_ATLAS_MAX_BLOCKS * 2;
      row[meta] = cap;
      row[meta + 1] = cols;
      const tag = slot + 1;
      row[meta + 2] = tag & 0xffff;
      row[meta + 3] = Math.floor(tag / 0x10000);
    }
    this.blocksSource.update(key * BLOCK_ATLAS_WIDTH, (key + 1) * BLOCK_ATLAS_WIDTH);
    this.stats.blockRows++;
    // The world cache's alpha says which pools have blocks: redraw the old and the new occupant.
    const prev = this.atlasOccupant[key]!;
    this.atlasOccupant[key] = blocks === null ? -1 : slot;
    if (prev >= 0) this.flagDirty.add(prev);
    if (blocks !== null) this.flagDirty.add(slot);
    if (this.blockDirty !== 'all') this.blockDirty.add(key);
    this.invalidate();
  }

  /** Empties every atlas row (all pools' block data stale). */
  clearBlocks(): void {
    this.blocksData.fill(0);
    this.blocksSource.update();
    this.atlasOccupant.fill(-1);
    this.worldDirty = 'all';
    this.blockDirty = 'all';
    this.invalidate();
  }

  /** The atlas row a slot's blocks go to, in the current layout. */
  atlasKeyOf(slot: number): number {
    if (this.layout === null) return 0;
    const { gx, gy } = poolGridPos(this.layout, slot);
    return atlasKey(gx, gy);
  }

  resize(viewport: Viewport, dpr: number): void {
    if (viewport.width === this.viewport.width && viewport.height === this.viewport.height && dpr === this.dpr) return;
    this.viewport = { ...viewport };
    this.dpr = dpr;
    if (this.renderer) this.renderer.resize(Math.max(1, viewport.width), Math.max(1, viewport.height), dpr);
    this.invalidate();
  }

  /** Asks for one frame (coalesced: any number of calls before it draw once). */
  invalidate(): void {
    if (this.destroyed || this.raf !== 0 || this.lost) return;
    this.raf = requestAnimationFrame(this.frame);
  }

  private readonly frame = (): void => {
    this.raf = 0;
    this.renderNow();
  };

  /** Draws the caches' dirty parts into their render textures. */
  private drawCaches(r: WebGLRenderer): void {
    const L = this.layout;
    if (L === null) return;
    const slots = L.arenas * L.poolsPerArena;
    if (this.worldDirty === 'all' || this.worldDirty.length > 0) {
      const rects = this.worldDirty === 'all' ? [{ x: 0, y: 0, width: this.world.width, height: this.world.height }] : mergeRects(this.worldDirty);
      if (this.worldDirty === 'all') this.mipDirty.fill('all');
      else this.markMip(0, rects);
      this.worldDirty = [];
      this.runPass(r, this.worldPass.mesh, rects, this.world);
      for (const q of rects) this.stats.worldTexelsDrawn += q.width * q.height;
      // The colour pass wrote alpha 0 over any pool with blocks: put their codes back.
      for (const s of this.atlasOccupant) if (s >= 0) this.flagDirty.add(s);
    }
    if (this.flagDirty.size > 0) {
      const rects = [...this.flagDirty].filter((s) => s < slots).map((s) => {
        const r = poolRect(L, s);
        return { ...r, x: r.x + WORLD_BORDER, y: r.y + WORLD_BORDER };
      });
      this.flagDirty.clear();
      if (rects.length > 0) this.runPass(r, this.flagPass.mesh, rects, this.world);
    }
    if (this.blockDirty === 'all' || this.blockDirty.size > 0) {
      const rects =
        this.blockDirty === 'all'
          ? [{ x: 0, y: 0, width: BLOCK_CACHE_SIDE, height: BLOCK_CACHE_SIDE }]
          : [...this.blockDirty].map((key) => ({ x: (key % BLOCK_ATLAS_SIDE) * BLOCK_TILE, y: Math.floor(key / BLOCK_ATLAS_SIDE) * BLOCK_TILE, width: BLOCK_TILE, height: BLOCK_TILE }));
      this.blockDirty = new Set();
      this.runPass(r, this.blockPass.mesh, rects, this.blockColor);
    }
  }

  private runPass(r: WebGLRenderer, mesh: Mesh<Geometry, Shader>, rects: Rect[], target: RenderTexture): void {
    const geometry = quadsGeometry(rects);
    mesh.geometry = geometry;
    r.render({ container: mesh, target, clear: false });
    mesh.geometry = this.unitQuad;
    geometry.destroy();
  }

  /** (Re)creates the mip chain for a world cache of width x height texels: levels down to 1x1. */
  private makeMips(width: number, height: number): void {
    for (const m of this.mips) m.destroy(true);
    this.mips = [];
    let w = width;
    let h = height;
    while (w > 1 || h > 1) {
      w = Math.ceil(w / 2);
      h = Math.ceil(h / 2);
      this.mips.push(this.makeTarget(w, h, 'linear'));
    }
    this.mipDirty = this.mips.map(() => 'all' as const);
  }

  /** Level `k` (0: the world cache). */
  private level(k: number): RenderTexture {
    return k === 0 ? this.world : this.mips[k - 1]!;
  }

  /** Marks level k + 1 under `rects` of level k (texels) as needing a redraw. */
  private markMip(k: number, rects: readonly Rect[]): void {
    const d = this.mipDirty[k];
    if (d === undefined || d === 'all') return;
    for (const r of rects) {
      const x = Math.floor(r.x / 2);
      const y = Math.floor(r.y / 2);
      d.push({ x, y, width: Math.ceil((r.x + r.width) / 2) - x, height: Math.ceil((r.y + r.height) / 2) - y });
    }
    // Levels nobody reads keep collecting: keep the list short.
    if (d.length > 256) this.mipDirty[k] = mergeRects(d);
  }

  /** Brings mip levels 1 .. `upTo` up to date with the world cache. */
  private drawMips(r: WebGLRenderer, upTo: number): void {
    for (let k = 1; k <= Math.min(upTo, this.mips.length); k++) {
      const d = this.mipDirty[k - 1]!;
      if (d !== 'all' && d.length === 0) continue;
      const target = this.mips[k - 1]!;
      const rects = d === 'all' ? [{ x: 0, y: 0, width: target.width, height: target.height }] : mergeRects(d);
      this.mipDirty[k - 1] = [];
      if (d === 'all' && k < this.mips.length) this.mipDirty[k] = 'all';
      else this.markMip(k, rects);
      const src = this.level(k - 1);
      this.mipPass.shader.resources.uSrc = src.source;
      this.mipPass.srcSize.set([src.width, src.height, 0, 0]);
      this.runPass(r, this.mipPass.mesh, rects, target);
      for (const q of rects) this.stats.worldTexelsDrawn += q.width * q.height;
    }
  }

  /** Chooses a quad's frame program; in 'mip' mode the levels are chosen at render time (bindMips). */
  private frameMode(q: Quad, mode: FrameMode, poolsPerPixel: number): void {
    q.mesh.shader = this.frameShader(q, mode);
    q.mip = mode === 'mip' ? poolsPerPixel : null;
  }

  /** Brings the levels a 'mip' quad reads up to date and points its shader at them. */
  private bindMips(r: WebGLRenderer, q: Quad, poolsPerPixel: number): void {
    const { k0, k1, t } = mipLevels(poolsPerPixel, this.mips.length);
    this.drawMips(r, k1);
    const a = this.level(k0);
    const b = this.level(k1);
    q.u.uMip.set([t, 2 ** -k0, 2 ** -k1, 0]);
    q.u.uMipSize.set([a.width, a.height, b.width, b.height]);
    const sh = q.mesh.shader!;
    sh.resources.uMipA = a.source;
    sh.resources.uMipB = b.source;
  }

  /** Draws now, if the renderer is up and the context is not lost. Returns whether it drew. */
  renderNow(): boolean {
    const r = this.renderer;
    if (this.destroyed || r === null || this.lost || r.context.isLost) return false;
    if (this.layout === null) {
      // No heap yet: the background, rather than an undefined drawing buffer.
      r.render({ container: this.empty, clear: true });
      return true;
    }
    if (isEmptyLayout(this.layout)) {
      // An empty heap (no arena slot, no raw memory): the background, and a frame reported.
      r.render({ container: this.empty, clear: true });
      this.stats.frames++;
      this.callbacks.onFrame?.(this.stats.frames);
      return true;
    }
    this.drawCaches(r);
    this.buildScene();
    for (const q of [this.main, this.mini]) if (q.mesh.visible && q.mip !== null) this.bindMips(r, q, q.mip);
    r.render({ container: this.stage, clear: false });
    this.stats.frames++;
    this.callbacks.onFrame?.(this.stats.frames);
    return true;
  }

  /**
   * The pixel at CSS (x, y) of the drawing buffer, read straight after a draw (`draw`: draw
   * first; otherwise call it right after a frame, in the same task). The read waits for the GPU
   * to finish the frame, which is what the benchmark uses it for.
   */
  readPixel(x: number, y: number, draw = true): [number, number, number, number] | null {
    const r = this.renderer;
    if (r === null || this.lost) return null;
    if (draw) this.renderNow();
    const gl = r.gl;
    const px = new Uint8Array(4);
    const h = gl.drawingBufferHeight;
    gl.readPixels(Math.floor(x * this.dpr), h - 1 - Math.floor(y * this.dpr), 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    return [px[0]!, px[1]!, px[2]!, px[3]!];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    this.raf = 0;
    if (this.canvas) {
      this.canvas.removeEventListener('webglcontextlost', this.onContextLost);
      this.canvas.removeEventListener('webglcontextrestored', this.onContextRestored);
    }
    this.stage.removeChildren();
    this.stage.destroy();
    this.empty.destroy();
    this.main.mesh.destroy();
    this.mini.mesh.destroy();
    for (const p of [this.worldPass, this.flagPass, this.blockPass, this.mipPass]) {
      p.mesh.destroy();
      p.shader.destroy();
    }
    for (const m of this.mips) m.destroy(true);
    for (const q of [this.main, this.mini]) for (const sh of q.shaders.values()) sh.destroy();
    for (const b of [this.mainOverlay, this.miniOverlay, this.labels]) b.destroy();
    this.unitQuad.destroy();
    this.statesSource.destroy();
    this.orderSource.destroy();
    this.rawSource.destroy();
    this.paletteSource.destroy();
    this.blocksSource.destroy();
    this.world.destroy(true);
    this.blockColor.destroy(true);
    this.renderer?.destroy({ removeView: true });
    this.renderer = null;
    this.canvas = null;
  }
}
