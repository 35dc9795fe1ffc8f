/**
 * What the heap map's test page (src/renderer/bench-heapmap.html) exposes as
 * `globalThis.heapmapHarness`, for the browser tests (test/e2e/heapmap.test.ts) and the render
 * benchmark (bench/render.ts). Types only: both sides import it.
 */
import type { PoolInfo } from '../../../shared/protocol';
import type { EngineStats } from './engine-stats';
import type { HeapLayout, View, Viewport } from './layout';
import type { HeapSelection, RenderInfo, SlotRange } from './types';

export interface HarnessMountOptions {
  /** CSS px of the map's element. */
  width: number;
  height: number;
  poolsPerArena?: number;
  theme?: 'dark' | 'light';
  alignment?: number;
}

/** The raw region as plain data (it crosses page.evaluate as JSON); see types.ts RawRegions. */
export interface HarnessRaw {
  cellBytes: number;
  /** kind: 1 the brk heap, 2 an mmapped chunk's mapping. */
  regions: { start: number; length: number; kind: number }[];
  chunks: { address: number; size: number; mmapped: boolean }[];
}

export interface HarnessDebug {
  layout: HeapLayout;
  view: View;
  viewport: Viewport;
  stats: EngineStats;
  version: number;
  blocks: boolean;
  /** Where the minimap is (CSS px in the map), when shown. */
  minimap: { x: number; y: number; width: number; height: number } | null;
  lost: boolean;
}

export interface FirstPicture {
  slots: number;
  /** Time to generate the synthetic heap (not part of the measurement). */
  generateMs: number;
  /** From the state arriving (the component's `states` set) to the first frame drawn with it, GPU finished. */
  firstPictureMs: number;
}

export interface PanZoomResult {
  frames: number;
  seconds: number;
  /** Frames drawn in each whole second. */
  perSecond: number[];
  /** Frames whose scale put blocks on screen. */
  blockFrames: number;
  minScale: number;
  maxScale: number;
  /** Frames and time spent at each zoom level: far (pools under 8 px), mid, blocks. */
  modes: Record<'far' | 'mid' | 'blocks', { frames: number; ms: number }>;
}

export interface HarnessApi {
  mount(options: HarnessMountOptions): Promise<void>;
  unmount(): void;
  setStates(states: number[], changed: SlotRange[] | null): void;
  /** Arena addresses by index (0: no arena), or null: index order. */
  setArenaAddresses(addresses: number[] | null): void;
  setRaw(raw: HarnessRaw | null): void;
  /** Replaces one slot's value and passes the map exactly that range as changed. */
  setSlot(slot: number, value: number): void;
  /** Pools `loadPool` answers with (others: null, or synthetic ones when `syntheticPools`). */
  setPools(pools: PoolInfo[]): void;
  useSyntheticPools(on: boolean): void;
  setSelected(sel: HeapSelection | null): void;
  setTheme(theme: 'dark' | 'light'): void;
  selections(): HeapSelection[];
  loadCalls(): number[];
  /** Resolves after the next frame drawn whose states version is at least `version`. */
  nextFrame(version?: number): Promise<RenderInfo>;
  debug(): HarnessDebug | null;
  fit(): void;
  zoomTo(sel: HeapSelection): void;
  setView(v: View): void;
  readPixel(x: number, y: number): [number, number, number, number] | null;
  firstPicture(arenas: number, poolsPerArena: number, seed: number): Promise<FirstPicture>;
  panZoom(seconds: number): Promise<PanZoomResult>;
}
