/**
 * The app controller with real files (a temporary data folder) and a real worker thread:
 * first start with the demo, save / open / recent, a failed save, a damaged file, and the
 * offer to restore after a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppController, type Dialogs, type FileSystem } from '../../src/main/app-controller';
import { SimulationHost, type WorkerLike } from '../../src/main/host';
import { nodeFileSystem } from '../../src/main/node-files';
import type { HostEvent } from '../../src/shared/protocol';

const WORKER = resolve(__dirname, '../../out/worker/sim-worker.mjs');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Fixture {
  controller: AppController;
  host: SimulationHost;
  errors: string[];
  events: HostEvent[];
  dialogs: Dialogs & { next: (string | null)[]; restore: boolean };
}

function make(dataDir: string, files: FileSystem = nodeFileSystem): Fixture {
  const events: HostEvent[] = [];
  const errors: string[] = [];
  const host = new SimulationHost({ createWorker: () => new Worker(WORKER) as unknown as WorkerLike, onEvent: (e) => events.push(e) });
  cleanups.push(() => host.dispose());
  const dialogs = {
    next: [] as (string | null)[],
    restore: true,
    openSession: async () => dialogs.next.shift() ?? null,
    openTrace: async () => dialogs.next.shift() ?? null,
    saveSessionAs: async () => dialogs.next.shift() ?? null,
    confirmRestore: async () => dialogs.restore,
    showError: (m: string) => errors.push(m),
  };
  const controller = new AppController({ host, dataDir, dialogs, files, emit: (e) => events.push(e), autosaveEvery: 0 });
  return { controller, host, errors, events, dialogs };
}

describe('app controller', () => {
  it('opens the demo on a first start, then saves and reopens it exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyheap-ctl-'));
    const a = make(dir);
    const s = await a.controller.startup([]);
    expect(s.inputs).toHaveLength(1);
    expect(s.inputs[0]!.label).toContain("The talk's examples");
    expect(existsSync(join(dir, 'running'))).toBe(true);
    const demo = await a.host.request({ op: 'query', query: { what: 'summary' } });
    expect(demo.blocksAllocated).toBe(9);

    const path = join(dir, 'demo.pyheap');
    a.dialogs.next.push(path);
    const saved = await a.controller.saveSession(false);
    expect(a.errors).toEqual([]);
    expect(saved.path).toBe(path);
    expect(a.controller.recent).toEqual([path]);
    expect(a.controller.dirty).toBe(false);
    await a.controller.shutdown();
    expect(existsSync(join(dir, 'running'))).toBe(false);

    // A second start: not the demo again, the recent list is back, and the file reopens.
    const b = make(dir);
    const s2 = await b.controller.startup([]);
    expect(s2.inputs).toHaveLength(0);
    expect(b.controller.recent).toEqual([path]);
    const opened = await b.controller.openSession(path);
    expect(opened.state!.inputs.map((i) => i.label)).toEqual(s.inputs.map((i) => i.label));
    expect(await b.host.request({ op: 'query', query: { what: 'summary' } })).toEqual(demo);
  });

  it('refuses a damaged file and keeps the current session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyheap-ctl-'));
    const a = make(dir);
    await a.controller.startup([]);
    await a.host.request({ op: 'runPython', code: 'extra = [1, 2, 3]' });
    const good = join(dir, 'good.pyheap');
    a.dialogs.next.push(good);
    await a.controller.saveSession(true);
    const bytes = readFileSync(good);
    bytes[bytes.length >> 1] ^= 0x40;
    const bad = join(dir, 'bad.pyheap');
    writeFileSync(bad, bytes);
    const before = await a.host.request({ op: 'query', query: { what: 'summary' } });
    const r = await a.controller.openSession(bad);
    expect(r.state).toBeNull();
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0]).toMatch(/bad\.pyheap: .*(checksum|damaged)/);
    expect(await a.host.request({ op: 'query', query: { what: 'summary' } })).toEqual(before);
    expect(a.controller.currentPath).toBe(good);
  });

  it('leaves the previous file intact when a save fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyheap-ctl-'));
    let failing = false;
    const files: FileSystem = {
      ...nodeFileSystem,
      saveAtomic: async (p, b) => {
        if (failing) throw new Error('disk full');
        await nodeFileSystem.saveAtomic(p, b);
      },
    };
    const a = make(dir, files);
    await a.controller.startup([]);
    const path = join(dir, 's.pyheap');
    a.dialogs.next.push(path);
    await a.controller.saveSession(false);
    const first = readFileSync(path);
    await a.host.request({ op: 'runPython', code: 'more = [4, 5, 6]' });
    const before = await a.host.request({ op: 'query', query: { what: 'summary' } });
    failing = true;
    const r = await a.controller.saveSession(false);
    expect(r.path).toBeNull();
    expect(a.errors).toEqual([`Could not save ${path}: disk full`]);
    expect(readFileSync(path)).toEqual(first);
    expect(await a.host.request({ op: 'query', query: { what: 'summary' } })).toEqual(before);
    expect(a.controller.currentPath).toBe(path);
  });

  it('offers to restore the autosave after a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyheap-ctl-'));
    const a = make(dir);
    await a.controller.startup([]);
    const r = await a.host.request({ op: 'runPython', code: 'survivor = [10, 20, 30, 40]' });
    a.controller.markDirty(r.state);
    expect(await a.controller.autosave()).toBe(true);
    const before = await a.host.request({ op: 'query', query: { what: 'summary' } });
    await a.host.dispose(); // the app "crashes": no shutdown, the marker stays

    const b = make(dir);
    const s = await b.controller.startup([]);
    expect(s.inputs).toHaveLength(2);
    expect(await b.host.request({ op: 'query', query: { what: 'summary' } })).toEqual(before);
    expect(b.controller.dirty).toBe(true);

    // Declining starts empty.
    await b.host.dispose();
    const c = make(dir);
    c.dialogs.restore = false;
    const s3 = await c.controller.startup([]);
    expect(s3.inputs).toHaveLength(0);
  });
});
