/**
 * The heap map's test page: mounts HeapMap.svelte alone, with props driven from outside through
 * `globalThis.heapmapHarness` (harness-api.ts), for the browser tests and the render benchmark.
 * Not part of the app's UI: it is the separate entry src/renderer/bench-heapmap.html.
 */
import { mount, unmount } from 'svelte';
import type { PoolInfo } from '../../../shared/protocol';
import type { FirstPicture, HarnessApi, HarnessMountOptions, HarnessRaw, PanZoomResult } from './harness-api';
import HeapMap from './HeapMap.svelte';
import { blocksVisible, fitView, type View } from './layout';
import { POOL_EDGE_SCALE } from './shaders';
import { syntheticPoolInfo, syntheticPoolStates } from './synthetic';
import type { HeapSelection, RawRegions, RenderInfo, SlotRange } from './types';

interface HeapMapExports {
  fit(): void;
  zoomTo(sel: HeapSelection): void;
  getView(): View | null;
  setView(v: View): void;
  debugInfo(): ReturnType<HarnessApi['debug']>;
  readPixel(x: number, y: number, draw?: boolean): [number, number, number, number] | null;
  ready(): Promise<void>;
}

export function installHarness(root: HTMLElement): HarnessApi {
  let current: Uint16Array = new Uint16Array(0);
  let pools = new Map<number, PoolInfo>();
  let synthetic = false;
  let ppa = 64;
  let alignment = 16;
  const selections: HeapSelection[] = [];
  const loads: number[] = [];
  const waiters: { version: number; resolve: (r: RenderInfo) => void }[] = [];
  let frameHook: ((info: RenderInfo) => void) | null = null;
  let host: HTMLDivElement | null = null;
  let map: HeapMapExports | null = null;

  const props = $state({
    states: new Uint16Array(0) as Uint16Array,
    changed: null as SlotRange[] | null,
    poolsPerArena: 64,
    arenaAddresses: null as Float64Array | null,
    raw: null as RawRegions | null,
    loadPool: (slot: number): Promise<PoolInfo | null> => {
      loads.push(slot);
      const known = pools.get(slot);
      if (known !== undefined) return Promise.resolve(known);
      if (synthetic) return Promise.resolve(syntheticPoolInfo(slot, current[slot] ?? 0, ppa, alignment));
      return Promise.resolve(null);
    },
    selected: null as HeapSelection | null,
    onSelect: (s: HeapSelection): void => {
      selections.push(s);
    },
    theme: 'dark' as 'dark' | 'light',
    alignment: 16,
    onRender: (info: RenderInfo): void => {
      frameHook?.(info);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (info.statesVersion >= w.version) {
          waiters.splice(i, 1);
          w.resolve(info);
        }
      }
    },
  });

  function need(): HeapMapExports {
    if (map === null) throw new Error('heap map not mounted');
    return map;
  }

  function nextFrame(version = 0): Promise<RenderInfo> {
    return new Promise((resolve) => waiters.push({ version, resolve }));
  }

  const api: HarnessApi = {
    async mount(o: HarnessMountOptions) {
      api.unmount();
      ppa = o.poolsPerArena ?? 64;
      alignment = o.alignment ?? 16;
      props.poolsPerArena = ppa;
      props.alignment = alignment;
      props.theme = o.theme ?? 'dark';
      props.states = new Uint16Array(0);
      props.changed = null;
      props.arenaAddresses = null;
      props.raw = null;
      props.selected = null;
      current = new Uint16Array(0);
      selections.length = 0;
      loads.length = 0;
      pools = new Map();
      synthetic = false;
      host = document.createElement('div');
      host.style.cssText = `position:absolute;left:0;top:0;width:${o.width}px;height:${o.height}px;`;
      root.appendChild(host);
      map = mount(HeapMap, { target: host, props }) as unknown as HeapMapExports;
      await map.ready();
    },
    unmount() {
      if (map !== null) void unmount(map);
      map = null;
      host?.remove();
      host = null;
    },
    setStates(states: number[], changed: SlotRange[] | null) {
      current = Uint16Array.from(states);
      props.states = current;
      props.changed = changed;
    },
    setArenaAddresses(addresses: number[] | null) {
      props.arenaAddresses = addresses === null ? null : Float64Array.from(addresses);
    },
    setRaw(raw: HarnessRaw | null) {
      props.raw =
        raw === null
          ? null
          : {
              cellBytes: raw.cellBytes,
              regionStart: Float64Array.from(raw.regions, (r) => r.start),
              regionLength: Float64Array.from(raw.regions, (r) => r.length),
              regionKind: Uint8Array.from(raw.regions, (r) => r.kind),
              chunkAddress: Float64Array.from(raw.chunks, (c) => c.address),
              chunkSize: Float64Array.from(raw.chunks, (c) => c.size),
              chunkMmapped: Uint8Array.from(raw.chunks, (c) => (c.mmapped ? 1 : 0)),
            };
    },
    setSlot(slot: number, value: number) {
      const next = current.slice();
      next[slot] = value;
      current = next;
      props.states = next;
      props.changed = [{ start: slot, end: slot + 1 }];
    },
    setPools(list: PoolInfo[]) {
      pools = new Map(list.map((p) => [p.slot, p]));
    },
    useSyntheticPools(on: boolean) {
      synthetic = on;
    },
    setSelected(sel: HeapSelection | null) {
      props.selected = sel;
    },
    setTheme(theme: 'dark' | 'light') {
      props.theme = theme;
    },
    selections: () => selections.slice(),
    loadCalls: () => loads.slice(),
    nextFrame,
    debug: () => map?.debugInfo() ?? null,
    fit: () => need().fit(),
    zoomTo: (sel: HeapSelection) => need().zoomTo(sel),
    setView: (v: View) => need().setView(v),
    readPixel: (x: number, y: number) => need().readPixel(x, y),

    async firstPicture(arenas: number, poolsPerArena: number, seed: number): Promise<FirstPicture> {
      const m = need();
      const g0 = performance.now();
      const states = syntheticPoolStates(arenas, poolsPerArena, seed);
      const generateMs = performance.now() - g0;
      const version = (m.debugInfo()?.version ?? 0) + 1;
      let end = 0;
      const drawn = new Promise<void>((resolve) => {
        frameHook = (info) => {
          if (info.statesVersion < version) return;
          // Straight after the draw: a 1-pixel read waits for the GPU to finish the frame.
          m.readPixel(0, 0, false);
          end = performance.now();
          frameHook = null;
          resolve();
        };
      });
      const start = performance.now();
      ppa = poolsPerArena;
      current = states;
      props.poolsPerArena = poolsPerArena;
      props.states = states;
      props.changed = null;
      await drawn;
      return { slots: states.length, generateMs, firstPictureMs: end - start };
    },

    panZoom(seconds: number): Promise<PanZoomResult> {
      const m = need();
      const d = m.debugInfo();
      if (d === null) throw new Error('no heap map');
      const L = d.layout;
      const vp = d.viewport;
      const fit = fitView(L, vp);
      // Zoom from the whole heap to 160 px per pool (blocks drawn) and back every 4 s, while
      // the centre wanders over the heap.
      const maxZoom = Math.log(160 / fit.scale);
      const t0 = performance.now();
      const perSecond: number[] = [];
      let frames = 0;
      let blockFrames = 0;
      let minScale = Infinity;
      let maxScale = 0;
      const modes: PanZoomResult['modes'] = { far: { frames: 0, ms: 0 }, mid: { frames: 0, ms: 0 }, blocks: { frames: 0, ms: 0 } };
      let shown: 'far' | 'mid' | 'blocks' = 'far';
      let last = performance.now();
      return new Promise((resolve) => {
        const step = (): void => {
          const t = (performance.now() - t0) / 1000;
          const scale = fit.scale * Math.exp(maxZoom * (0.5 - 0.5 * Math.cos((2 * Math.PI * t) / 4)));
          const cx = L.width * (0.5 + 0.35 * Math.sin((2 * Math.PI * t) / 7));
          const cy = L.height * (0.5 + 0.35 * Math.sin((2 * Math.PI * t) / 5));
          const v = { scale, x: cx - vp.width / 2 / scale, y: cy - vp.height / 2 / scale };
          minScale = Math.min(minScale, scale);
          maxScale = Math.max(maxScale, scale);
          shown = blocksVisible(v, vp) ? 'blocks' : scale >= POOL_EDGE_SCALE ? 'mid' : 'far';
          if (shown === 'blocks') blockFrames++;
          m.setView(v);
        };
        frameHook = () => {
          const now = performance.now();
          const t = (now - t0) / 1000;
          if (t >= seconds) {
            frameHook = null;
            resolve({ frames, seconds: t, perSecond, blockFrames, minScale, maxScale, modes });
            return;
          }
          // The frame just drawn showed the view set after the previous one.
          modes[shown].frames++;
          modes[shown].ms += now - last;
          last = now;
          frames++;
          const sec = Math.floor(t);
          perSecond[sec] = (perSecond[sec] ?? 0) + 1;
          step();
        };
        step();
      });
    },
  };
  return api;
}
