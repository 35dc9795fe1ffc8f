/**
 * Heap map rendering in this machine's headless Chromium with software WebGL (SwiftShader):
 * a synthetic heap of 16,384 arenas x 64 pools (1,048,576 pools; see
 * src/renderer/src/heapmap/synthetic.ts), targets: the first picture within 500 ms of the state
 * arriving, and at least 30 frames a second while panning and zooming.
 *
 *   1. Builds the renderer (`electron-vite build`; --no-build to skip) and serves out/renderer.
 *   2. Opens the heap map's test page (bench-heapmap.html) and mounts the map, which draws a
 *      one-arena heap first (shaders compiled, as in the app where the map is already showing).
 *   3. First picture: sets the big state and times until the first frame drawn with it, read
 *      back (the read waits for the GPU). Repeated on fresh mounts; the median is printed.
 *   4. Pans and zooms for --seconds: the view zooms from the whole heap to 160 px per pool
 *      (blocks drawn) and back every 4 s while the centre wanders; each frame drawn sets the next
 *      view, so frames are as fast as the pipeline allows. Frames counted per whole second.
 *
 * Prints `heapmap pools=<N> fps=<median frames per second>`, then the first-picture time and
 * the frame rate by zoom level (far: pools under 8 px; mid: pool edges; blocks).
 *
 *     npm run bench:render [-- --seconds 8 --width 1280 --height 800 --arenas 16384 --reps 5 --no-build]
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openBrowser } from '../test/e2e/browser';
import type { HarnessApi } from '../src/renderer/src/heapmap/harness-api';
import { median } from './workload';

type G = { heapmapHarness: HarnessApi };

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    arenas: { type: 'string' },
    reps: { type: 'string' },
    dpr: { type: 'string' },
    'no-build': { type: 'boolean' },
  },
});
const seconds = Number(values.seconds ?? 8);
const width = Number(values.width ?? 1280);
const height = Number(values.height ?? 800);
const arenas = Number(values.arenas ?? 16384);
const reps = Number(values.reps ?? 5);
const dpr = Number(values.dpr ?? 1);
const poolsPerArena = 64;

if (!values['no-build']) {
  execFileSync(process.execPath, [resolve(process.cwd(), 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const b = await openBrowser({ viewport: { width, height }, deviceScaleFactor: dpr });
try {
  await b.goto('/bench-heapmap.html');
  const mountWarm = async (): Promise<void> => {
    await b.page.evaluate(async ([w, h]) => {
      const hm = (globalThis as unknown as G).heapmapHarness;
      await hm.mount({ width: w!, height: h! });
      const frame = hm.nextFrame(1);
      hm.setStates(Array.from({ length: 64 }, () => 4 | (3 << 3) | (15 << 9)), null);
      await frame;
    }, [width, height]);
  };
  const firsts: number[] = [];
  let slots = 0;
  for (let r = 0; r < reps; r++) {
    await mountWarm();
    const fp = await b.page.evaluate(([a, p]) => (globalThis as unknown as G).heapmapHarness.firstPicture(a!, p!, 1), [arenas, poolsPerArena]);
    firsts.push(fp.firstPictureMs);
    slots = fp.slots;
  }
  // A cold first picture: the map mounted and given the big heap at once (programs compiled then).
  const cold = await b.page.evaluate(
    async ([w, h, a, p]) => {
      const hm = (globalThis as unknown as G).heapmapHarness;
      await hm.mount({ width: w!, height: h! });
      return (await hm.firstPicture(a!, p!, 1)).firstPictureMs;
    },
    [width, height, arenas, poolsPerArena],
  );
  await b.page.evaluate(() => (globalThis as unknown as G).heapmapHarness.useSyntheticPools(true));
  const pz = await b.page.evaluate((s) => (globalThis as unknown as G).heapmapHarness.panZoom(s), seconds);
  const whole = pz.perSecond.slice(0, Math.floor(pz.seconds));
  const fps = median(whole);
  if (b.errors.length > 0) console.error(`page errors: ${b.errors.join(' | ')}`);
  console.log(`heapmap pools=${slots} fps=${Math.round(fps)}`);
  console.log(
    `heapmap first_picture_ms=${Math.round(median(firsts))} first_picture_cold_ms=${Math.round(cold)} viewport=${width}x${height}@${dpr} ` +
      `frames=${pz.frames} seconds=${pz.seconds.toFixed(1)} per_second=${whole.join(',')}`,
  );
  console.log(
    'heapmap fps_by_zoom ' +
      Object.entries(pz.modes)
        .map(([m, v]) => `${m}=${v.ms > 0 ? ((v.frames * 1000) / v.ms).toFixed(1) : '-'}(${v.frames} frames)`)
        .join(' '),
  );
} finally {
  await b.close();
}
