/**
 * The shared browser for end-to-end tests and the render benchmark: Debian's Chromium driven by
 * playwright-core, headless, with software WebGL (SwiftShader through ANGLE), against the built
 * renderer (out/renderer, from `npx electron-vite build`) served over HTTP from this process.
 *
 * The server sends the app's own Content-Security-Policy (src/main/window-options.ts) as a
 * header, so a page that works here also works under the policy the Electron window enforces.
 *
 * Availability: `browserAvailable()` is false when /usr/bin/chromium is missing, so a developer
 * machine without it can skip; under CI (`process.env.CI` set) a missing browser throws instead,
 * so the run fails rather than passing with nothing tested.
 *
 *   const b = await openBrowser();            // serves out/renderer
 *   await b.goto('/index.html');
 *   const png = await b.page.screenshot();    // decodePng(png) for pixels
 *   await b.close();
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../src/main/window-options';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * playwright-core is loaded from node_modules at run time rather than imported: the benchmarks
 * are bundled by scripts/run-ts.mjs (rolldown), and a bundled playwright-core cannot find its
 * own package.json.
 */
function playwright(): typeof import('playwright-core') {
  return createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');
}

/** Software WebGL that works on a machine without a GPU (WebGPU does not draw here). */
export const CHROMIUM_ARGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-webgl',
  '--ignore-gpu-blocklist',
];

/**
 * The built renderer, as `npx electron-vite build` writes it. Relative to the working directory
 * (tests and benchmarks run from the repository root; a bundled benchmark has no __dirname).
 */
export const RENDERER_ROOT = resolve(process.cwd(), 'out/renderer');

/**
 * Whether the browser can run here. Without /usr/bin/chromium: false on a developer machine,
 * an Error under CI (a missing browser must fail the run, never skip it).
 */
export function browserAvailable(path = CHROMIUM_PATH): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI) throw new Error(`end-to-end tests need Chromium at ${path} (CI is set, so this is an error, not a skip)`);
  return false;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the files under `root` read-only over HTTP on 127.0.0.1 (an ephemeral port), with
 * correct MIME types and the app's CSP on every HTML document. Paths outside `root` are 404.
 */
export async function startStaticServer(root = RENDERER_ROOT, csp: string | null = CONTENT_SECURITY_POLICY): Promise<StaticServer> {
  const base = resolve(root);
  if (!existsSync(join(base, 'index.html'))) {
    throw new Error(`nothing to serve at ${base}: run \`npx electron-vite build\` first`);
  }
  const server: Server = createServer((req, res) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (pathname === '/favicon.ico') {
      // Chromium asks for it on every page; the app has none (Electron never asks).
      res.writeHead(204).end();
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = resolve(base, '.' + pathname);
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const type = mimeType(file);
    const headers: Record<string, string> = { 'Content-Type': type, 'Cache-Control': 'no-store' };
    if (csp !== null && type.startsWith('text/html')) headers['Content-Security-Policy'] = csp;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface BrowserOptions {
  /** Folder to serve; out/renderer by default. */
  root?: string;
  viewport?: { width: number; height: number };
  /** devicePixelRatio of the page (1 by default). */
  deviceScaleFactor?: number;
  /** Run before any page script (e.g. to install a `window.pyheap` bridge). */
  initScript?: string;
  /** Extra Chromium arguments. */
  args?: string[];
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Base URL of the static server. */
  baseUrl: string;
  /** Uncaught page errors, console errors and CSP violations seen so far. */
  errors: string[];
  /** Navigates to `path` on the static server (e.g. '/index.html') and waits for load. */
  goto(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Launches headless Chromium with software WebGL and serves the built renderer to it. */
export async function openBrowser(options: BrowserOptions = {}): Promise<BrowserSession> {
  if (!browserAvailable()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}`);
  const server = await startStaticServer(options.root ?? RENDERER_ROOT);
  let browser: Browser | null = null;
  try {
    browser = await playwright().chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    });
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      deviceScaleFactor: options.deviceScaleFactor ?? 1,
    });
    if (options.initScript !== undefined) await context.addInitScript(options.initScript);
    // CSP violations are reported to the page as events, not always as console errors.
    await context.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    const b = browser;
    return {
      browser: b,
      context,
      page,
      baseUrl: server.url,
      errors,
      async goto(path: string) {
        await page.goto(server.url + (path.startsWith('/') ? path : '/' + path), { waitUntil: 'load' });
      },
      async close() {
        await b.close().catch(() => undefined);
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server.close();
    throw e;
  }
}

export interface Rgba {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, rows top to bottom. */
  data: Uint8Array;
}

/**
 * Decodes a PNG as Chromium's screenshots write it (8-bit RGB or RGBA, not interlaced) into RGBA
 * pixels, so tests can check the colours the user sees.
 */
export function decodePng(png: Uint8Array): Rgba {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  for (let i = 0; i < 8; i++) if (png[i] !== sig[i]) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(png[pos + 4]!, png[pos + 5]!, png[pos + 6]!, png[pos + 7]!);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const depth = data[8];
      colorType = data[9]!;
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || data[12] !== 0) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${data[12]}`);
      }
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = colorType === 6 ? 4 : 3;
  const stride = width * bpp;
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const off = y * (stride + 1);
    const filter = raw[off]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[off + 1 + i]!;
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      cur[i] = v & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const o = (y * width + px) * 4;
      out[o] = cur[px * bpp]!;
      out[o + 1] = cur[px * bpp + 1]!;
      out[o + 2] = cur[px * bpp + 2]!;
      out[o + 3] = bpp === 4 ? cur[px * bpp + 3]! : 255;
    }
    prev.set(cur);
  }
  return { width, height, data: out };
}

/** The pixel at (x, y) of decoded screenshot pixels, as [r, g, b, a]. */
export function pixelAt(img: Rgba, x: number, y: number): [number, number, number, number] {
  const o = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!, img.data[o + 3]!];
}
