/**
 * Every IPC handler validates its arguments before anything reaches the host: bad calls are
 * refused with a message naming the argument, and good ones are forwarded as typed requests.
 */
import { describe, expect, it } from 'vitest';
import { IpcRejected, ipcHandlers } from '../../src/main/ipc';
import { IPC_CHANNELS as C, type SimRequest } from '../../src/shared/protocol';
import type { SimulationHost } from '../../src/main/host';
import type { AppController } from '../../src/main/app-controller';
import { defaultSettings } from '../../src/core/session/model';

function setup(): { handlers: ReturnType<typeof ipcHandlers>; sent: SimRequest[]; opened: (string | null)[] } {
  const sent: SimRequest[] = [];
  const opened: (string | null)[] = [];
  const state = { inputs: [], version: 1 };
  const host = {
    request: async (r: SimRequest) => {
      sent.push(r);
      return r.op === 'runPython' ? { state } : state;
    },
    cancel: () => sent.push({ op: 'pause' }),
  } as unknown as SimulationHost;
  const controller = {
    markDirty: () => undefined,
    newSession: async () => state,
    openSession: async (p: string | null) => (opened.push(p), { path: p, state }),
    saveSession: async () => ({ path: null, state: null }),
  } as unknown as AppController;
  return { handlers: ipcHandlers({ host, controller, version: '1.2.3' }), sent, opened };
}

describe('IPC handlers', () => {
  it('refuse malformed arguments with a message naming them', async () => {
    const { handlers, sent } = setup();
    const bad: [string, unknown[], RegExp][] = [
      [C.runPython, [42], /runPython.code: expected a string/],
      [C.runPython, ['x', 'y'], /runPython: expected 1 argument, got 2/],
      [C.step, [1.5], /step.delta: expected an integer/],
      [C.seek, [-1], /seek.position: expected a position >= 0/],
      [C.seekMarker, [2], /seekMarker.direction/],
      [C.play, [0], /play.opsPerSecond/],
      [C.play, [Number.NaN], /play.opsPerSecond/],
      [C.query, [{ what: 'everything' }], /query.what: unknown query/],
      [C.query, [{ what: 'pool', slot: -3 }], /query.slot/],
      [C.newSession, [{ ...defaultSettings(), python: '2.7' }], /settings.python: unsupported version/],
      [C.newSession, [{ ...defaultSettings(), pythonMalloc: 'jemalloc' }], /settings.pythonMalloc/],
      [C.startWorkload, [{ kind: 'churn', seed: 1 }], /startWorkload.spec/],
      [C.startWorkload, [{ kind: 'python', scenario: 'list-of-ints', count: 1e12 }], /startWorkload.spec.count/],
      [C.openSession, ['/etc/passwd'], /not a .pyheap file/],
      [C.saveSession, ['yes'], /saveSession.saveAs: expected a boolean/],
      [C.setUi, [{ view: 'heap', selection: null, bookmarks: 'none' }], /ui.bookmarks/],
      [C.cancel, [1], /cancel: expected no arguments/],
      [C.appInfo, [1], /appInfo: expected no arguments/],
    ];
    for (const [ch, args, msg] of bad) {
      const h = (handlers as Record<string, (a: unknown[]) => Promise<unknown>>)[ch]!;
      await expect(h(args), ch).rejects.toThrow(IpcRejected);
      await expect(h(args), ch).rejects.toThrow(msg);
    }
    expect(sent).toEqual([]);
  });

  it('forward good calls as typed requests', async () => {
    const { handlers, sent, opened } = setup();
    const call = (ch: string, ...a: unknown[]): Promise<unknown> => (handlers as Record<string, (a: unknown[]) => Promise<unknown>>)[ch]!(a);
    await call(C.runPython, 'x = 1');
    await call(C.step, -3);
    await call(C.seek, 10);
    await call(C.query, { what: 'pool', slot: 65 });
    await call(C.startWorkload, { kind: 'python', scenario: 'dict-grow-shrink', count: 1000 });
    await call(C.openSession, '/home/u/a.pyheap');
    await call(C.openSession, null);
    expect(sent).toEqual([
      { op: 'runPython', code: 'x = 1' },
      { op: 'step', delta: -3 },
      { op: 'seek', position: 10 },
      { op: 'query', query: { what: 'pool', slot: 65 } },
      { op: 'startWorkload', spec: { kind: 'python', scenario: 'dict-grow-shrink', count: 1000 } },
    ]);
    expect(opened).toEqual(['/home/u/a.pyheap', null]);
    expect(await call(C.appInfo)).toMatchObject({ name: 'PyHeap Lab', version: '1.2.3' });
  });
});
