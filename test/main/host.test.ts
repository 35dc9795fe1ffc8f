/**
 * The simulation host with a real worker thread (the bundle out/worker/sim-worker.mjs, built
 * by the global setup): requests, transferred pool states, progress, cancel, and a worker that
 * dies and is restarted with the session restored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import { HostError, SimulationHost, type WorkerLike } from '../../src/main/host';
import { defaultSettings } from '../../src/core/session/model';
import type { HostEvent } from '../../src/shared/protocol';

const WORKER = resolve(__dirname, '../../out/worker/sim-worker.mjs');

let hosts: SimulationHost[] = [];
afterEach(async () => {
  for (const h of hosts) await h.dispose();
  hosts = [];
});

function makeHost(): { host: SimulationHost; events: HostEvent[]; workers: number } {
  const events: HostEvent[] = [];
  const box = { host: null as unknown as SimulationHost, events, workers: 0 };
  box.host = new SimulationHost({
    createWorker: () => {
      box.workers++;
      return new Worker(WORKER) as unknown as WorkerLike;
    },
    onEvent: (e) => events.push(e),
  });
  hosts.push(box.host);
  return box;
}

function waitFor<T>(f: () => T | undefined, ms = 20_000): Promise<T> {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const tick = (): void => {
      const v = f();
      if (v !== undefined) res(v);
      else if (Date.now() - t0 > ms) rej(new Error('timed out'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('simulation host', () => {
  it('runs code in the worker and answers queries', async () => {
    const { host, events } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.13') });
    const r = await host.request({ op: 'runPython', code: 'import sys\nx = [1000, 2000]\nprint(sys.getsizeof(x))\n' });
    expect(r.output).toBe('72\n');
    expect(r.error).toBeNull();
    const sum = await host.request({ op: 'query', query: { what: 'summary' } });
    expect(sum.arenasLive).toBe(1);
    // The list object (16-byte GC header + 40 = 56 -> a 64-byte block), its item array (2 x 8
    // = 16), two ints (28 -> 32 each); getsizeof(x) = 56 + 16 = 72.
    expect(sum.blocksAllocated).toBe(4);
    expect(sum.blockBytes).toBe(64 + 16 + 32 + 32);
    const states = await host.request({ op: 'query', query: { what: 'poolStates' } });
    expect(states.full).toBe(true);
    expect(states.length).toBe(sum.maxarenas * 64);
    const arr = new Uint16Array(states.ranges[0]!.data);
    const used = Array.from(arr).filter((v) => (v & 7) === 4).length;
    expect(used).toBe(3); // pools of 16, 32 and 64 bytes
    const st = events.filter((e) => e.kind === 'state');
    expect(st.length).toBeGreaterThanOrEqual(2);
  });

  it('shows the object in a block and its annotated bytes, at the end of the timeline only', async () => {
    const { host } = makeHost();
    await host.request({ op: 'newSession', settings: { ...defaultSettings('3.13'), pythonMalloc: 'pymalloc_debug' } });
    const r = await host.request({ op: 'runPython', code: 'x = [1000, 2000]\nprint(id(x))\n' });
    const id = Number(r.output.trim());
    const b = await host.request({ op: 'query', query: { what: 'block', address: id } });
    expect(b.object?.type).toBe('list');
    expect(b.object?.refcount).toBe(1);
    expect(b.object?.size).toBe(72);
    const c = b.contents!;
    expect(c.what).toBe('list object');
    expect(c.domain).toBe('OBJ');
    // pymalloc_debug: 16 bytes of header (size word, api id 'o', 7 x 0xFD) before the data.
    expect(c.dataAddress - c.address).toBe(16);
    expect(c.hex.slice(0, 16).join('')).toBe('0000000000000038' + '6f' + 'fd'.repeat(7));
    expect(c.requested).toBe(56);
    const refcnt = c.ranges.find((x) => x.label.includes('ob_refcnt'))!;
    expect(c.hex.slice(refcnt.start, refcnt.end).join('')).toBe('0100000000000000');
    const items = c.ranges.find((x) => x.label.includes('ob_item'))!;
    expect(items.known).toBe('pointer');
    // The pointer's bytes are the simulated address it holds, little-endian.
    const le = c.hex.slice(items.start, items.end).reverse().join('');
    expect(Number.parseInt(le, 16)).toBe(items.pointsTo);
    // GC links are not modelled.
    expect(c.hex.slice(16, 24)).toEqual(Array(8).fill('..'));
    const arr = await host.request({ op: 'query', query: { what: 'block', address: items.pointsTo! } });
    expect(arr.contents?.what).toBe('list items');
    expect(arr.contents?.domain).toBe('MEM');
    // One operation before the end the list's block is in use, but objects are known at the end only.
    await host.request({ op: 'seek', position: r.end - 1 });
    const past = await host.request({ op: 'query', query: { what: 'block', address: id } });
    expect(past.where).toBe('pool');
    expect(past.object).toBeNull();
    expect(past.note).toMatch(/end of the timeline/);
    // Before the first operation there is no arena: nothing is at that address.
    await host.request({ op: 'seek', position: 0 });
    const none = await host.request({ op: 'query', query: { what: 'block', address: id } });
    expect([none.where, none.note]).toEqual(['none', null]);
  });

  it('places any address of the C library: a chunk the console owns, one it does not, free memory', async () => {
    const { host } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.11') });
    const r = await host.request({ op: 'runPython', code: 'b = bytearray(5000)\nprint(id(b))\n' });
    // The bytearray's 5,001-byte buffer is a malloc chunk (over 512 bytes: PyObject_Malloc
    // falls through to malloc). Find it from the object's ob_bytes pointer.
    const obj = await host.request({ op: 'query', query: { what: 'block', address: Number(r.output.trim()) } });
    const buf = obj.contents!.ranges.find((x) => x.label.includes('ob_bytes'))!.pointsTo!;
    const inside = await host.request({ op: 'query', query: { what: 'block', address: buf + 100 } });
    expect(inside.where).toBe('raw');
    expect(inside.address).toBe(buf);
    expect(inside.blockSize).toBe(5016); // chunk of 5,024 bytes (5001 + 8 rounded to 16), minus its size word
    expect(inside.contents?.what).toBe('bytearray buffer');
    expect(inside.contents?.requested).toBe(5001);
    // The arena vector is malloc'd by pymalloc itself: raw, but not the console's.
    const chunks = await host.request({ op: 'query', query: { what: 'rawChunks' } });
    const first = new Float64Array(chunks.chunks)[0]!;
    const vec = await host.request({ op: 'query', query: { what: 'block', address: first + 16 } });
    expect(vec.where).toBe('raw');
    expect(vec.contents).toBeNull();
    expect(vec.note).toMatch(/^A malloc chunk the console's objects do not own/);
  });

  it('shows the small-int cache and other statics as objects that are not on the heap', async () => {
    const { host } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.7') });
    const r = await host.request({ op: 'runPython', code: 'x = [5, None]\nprint(id(x))\n' });
    const list = await host.request({ op: 'query', query: { what: 'block', address: Number(r.output.trim()) } });
    const arr = list.contents!.ranges.find((x) => x.label.includes('ob_item'))!.pointsTo!;
    const items = await host.request({ op: 'query', query: { what: 'block', address: arr } });
    const five = items.contents!.ranges.find((x) => x.label === 'ob_item[0]')!.pointsTo!;
    const b = await host.request({ op: 'query', query: { what: 'block', address: five } });
    expect(b.where).toBe('none');
    expect(b.object?.type).toBe('int');
    expect(b.object?.size).toBe(28);
    expect(b.object?.fields.find((f) => f.name === 'ob_digit[0]')?.value).toBe('5');
    expect(b.note).toMatch(/^Static: a cached small int \(-5\.\.256\)/);
    const none = items.contents!.ranges.find((x) => x.label === 'ob_item[1]')!.pointsTo!;
    const n = await host.request({ op: 'query', query: { what: 'block', address: none } });
    expect([n.object?.type, n.object?.size]).toEqual(['NoneType', 16]);
    expect(n.note).toMatch(/^Static: a singleton/);
  });

  it('reports invalid requests as errors and keeps the session', async () => {
    const { host } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.8') });
    await host.request({ op: 'runPython', code: 'a = [1, 2, 3]' });
    await expect(host.request({ op: 'seek', position: -5 } as never)).rejects.toThrow('seek.position: expected an integer from 0');
    await expect(host.request({ op: 'loadSession', bytes: new ArrayBuffer(10), name: 'x.pyheap' })).rejects.toThrow(/not a PyHeap Lab session/);
    const sum = await host.request({ op: 'query', query: { what: 'summary' } });
    expect(sum.blocksAllocated).toBe(2);
  });

  it('restarts a worker that died and restores the session where it was', async () => {
    const box = makeHost();
    const { host, events } = box;
    await host.request({ op: 'newSession', settings: { ...defaultSettings('3.11'), placement: { kind: 'aslr', seed: 3 } } });
    await host.request({ op: 'runPython', code: 'xs = [str(i) for i in range(5000)]' });
    await host.request({ op: 'importTrace', name: 't', text: 'a 1 100\na 2 200\nf 1\n' });
    const mid = await host.request({ op: 'seek', position: 1234 });
    await host.request({ op: 'setUi', ui: { view: 'stats', selection: null, bookmarks: [{ op: 99, label: 'b' }] } });
    const before = await host.request({ op: 'query', query: { what: 'summary' } });
    const doc = new Uint8Array(await host.request({ op: 'encodeSession' }));
    await host.currentWorker!.terminate();
    const restored = await waitFor(() => events.find((e) => e.kind === 'restored'));
    expect(box.workers).toBe(2);
    if (restored.kind !== 'restored') throw new Error();
    expect(restored.state.position).toBe(mid.position);
    expect(restored.state.inputs.map((i) => i.kind)).toEqual(['python', 'trace']);
    expect(restored.state.ui.bookmarks).toEqual([{ op: 99, label: 'b' }]);
    expect(restored.lost).toBeNull();
    const after = await host.request({ op: 'query', query: { what: 'summary' } });
    expect(after).toEqual(before);
    expect(new Uint8Array(await host.request({ op: 'encodeSession' }))).toEqual(doc);
  });

  it('fails the request a dying worker was running, says so, and restores the session before it', async () => {
    const box = makeHost();
    const { host, events } = box;
    await host.request({ op: 'newSession', settings: defaultSettings('3.12') });
    await host.request({ op: 'runPython', code: 'keep = [1, 2, 3]' });
    const running = host.request({ op: 'runPython', code: 'xs = []\nfor i in range(3000000):\n    xs.append(i * 7)\n' });
    await new Promise((r) => setTimeout(r, 200)); // the worker is inside the loop now
    await host.currentWorker!.terminate();
    await expect(running).rejects.toThrow(HostError);
    const restored = await waitFor(() => events.find((e) => e.kind === 'restored'));
    if (restored.kind !== 'restored') throw new Error();
    expect(restored.lost).toBe('the worker stopped while running runPython; the session was restored to before it');
    expect(restored.state.inputs).toHaveLength(1);
    const r = await host.request({ op: 'runPython', code: 'print(len(keep))' });
    expect(r.output).toBe('3\n');
  });

  it('holds requests made during a restore until the session is back', async () => {
    const { host, events } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.9') });
    await host.request({ op: 'runPython', code: 'keep = [1, 2, 3, 4]' });
    await host.currentWorker!.terminate();
    const r = await host.request({ op: 'runPython', code: 'print(len(keep))' });
    expect(r.output).toBe('4\n');
    expect(events.some((e) => e.kind === 'restored')).toBe(true);
    expect(r.state.inputs).toHaveLength(2);
  });

  it('cancels a long job through shared memory while main stays responsive', async () => {
    const { host, events } = makeHost();
    await host.request({ op: 'newSession', settings: defaultSettings('3.13') });
    const job = host.request({ op: 'runPython', code: 'xs = []\nfor i in range(5000000):\n    xs.append(i * 3)\n' });
    // Main's event loop keeps turning while the worker computes.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
    host.cancel();
    const r = await job;
    expect(r.error).toMatch(/KeyboardInterrupt/);
    expect(r.state.inputs[0]!.interrupted).toBe(true);
    // Console code has no known end: progress counts its allocator calls, with total 0.
    const progress = events.flatMap((e) => (e.kind === 'progress' ? [e] : []));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.job === 'python' && p.total === 0)).toBe(true);
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(progress[progress.length - 1]!.done).toBeLessThanOrEqual(r.end - r.start);
  });
});
