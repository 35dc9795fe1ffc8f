/**
 * IPC handlers of the main process, free of `electron` imports: `index.ts` registers each with
 * `ipcMain.handle`, passing the sender's frame URL and the raw arguments. Every handler
 * validates its sender and its arguments before doing anything; a renderer that sends
 * anything else gets an error and changes nothing.
 */
import { PROFILE_IDS } from '../core/profiles';
import { parseWorkloadSpec } from '../core/workloads/spec';
import { IPC_CHANNELS, type AppInfo, type SessionState } from '../shared/protocol';
import type { AppController } from './app-controller';
import type { SimulationHost } from './host';
import { fileKind } from './menu';
import { RequestError, parseQuery, parseSettings, parseUi } from './sim-service';

export class IpcRejected extends Error {}

/** Only the app's own renderer may call: the packaged file:// document or the dev server. */
export function assertTrustedSender(senderUrl: string | undefined, rendererFileUrl: string, devServerUrl: string | undefined): void {
  if (senderUrl === undefined || senderUrl === '') throw new IpcRejected('IPC from an unknown sender');
  const url = senderUrl.split('#')[0]!.split('?')[0]!;
  if (url === rendererFileUrl) return;
  if (devServerUrl !== undefined && devServerUrl !== '') {
    try {
      if (new URL(senderUrl).origin === new URL(devServerUrl).origin) return;
    } catch {
      // fall through
    }
  }
  throw new IpcRejected(`IPC from an untrusted sender: ${senderUrl}`);
}

/** Validates that a call carries no arguments (for argument-less operations). */
export function assertNoArgs(args: readonly unknown[], op: string): void {
  if (args.length !== 0) throw new IpcRejected(`${op}: expected no arguments, got ${args.length}`);
}

function assertArgs(args: readonly unknown[], n: number, op: string): void {
  if (args.length !== n) throw new IpcRejected(`${op}: expected ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`);
}

export function appInfo(version: string): AppInfo {
  return { name: 'PyHeap Lab', version, pythonVersions: [...PROFILE_IDS] };
}

function validated<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RequestError || e instanceof IpcRejected) throw new IpcRejected(e.message);
    throw new IpcRejected((e as Error).message);
  }
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length > max) throw new IpcRejected(`${what}: expected a string of at most ${max} characters`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new IpcRejected(`${what}: expected an integer`);
  return v;
}

export interface IpcDeps {
  host: SimulationHost;
  controller: AppController;
  version: string;
}

export type IpcHandler = (args: readonly unknown[]) => Promise<unknown>;

/** One handler per channel; each validates its arguments, then acts. */
export function ipcHandlers(d: IpcDeps): Record<(typeof IPC_CHANNELS)[Exclude<keyof typeof IPC_CHANNELS, 'event'>], IpcHandler> {
  const track = <T extends SessionState | { state: SessionState }>(v: T): T => {
    d.controller.markDirty('state' in v ? v.state : v);
    return v;
  };
  return {
    [IPC_CHANNELS.appInfo]: async (a) => (assertNoArgs(a, 'appInfo'), appInfo(d.version)),
    [IPC_CHANNELS.newSession]: async (a) => {
      assertArgs(a, 1, 'newSession');
      const settings = validated(() => parseSettings(a[0]));
      return d.controller.newSession(settings);
    },
    [IPC_CHANNELS.openSession]: async (a) => {
      assertArgs(a, 1, 'openSession');
      const p = a[0] === null ? null : str(a[0], 'openSession.path', 4096);
      if (p !== null && fileKind(p) !== 'session') throw new IpcRejected('openSession.path: not a .pyheap file');
      return d.controller.openSession(p);
    },
    [IPC_CHANNELS.saveSession]: async (a) => {
      assertArgs(a, 1, 'saveSession');
      if (typeof a[0] !== 'boolean') throw new IpcRejected('saveSession.saveAs: expected a boolean');
      return d.controller.saveSession(a[0]);
    },
    [IPC_CHANNELS.runPython]: async (a) => {
      assertArgs(a, 1, 'runPython');
      return track(await d.host.request({ op: 'runPython', code: str(a[0], 'runPython.code', 1 << 20) }));
    },
    [IPC_CHANNELS.importTrace]: async (a) => {
      assertArgs(a, 2, 'importTrace');
      const name = str(a[0], 'importTrace.name', 4096);
      const text = str(a[1], 'importTrace.text', 512 * 1024 * 1024);
      return track(await d.host.request({ op: 'importTrace', name, text }));
    },
    [IPC_CHANNELS.startWorkload]: async (a) => {
      assertArgs(a, 1, 'startWorkload');
      const spec = validated(() => parseWorkloadSpec(a[0], 'startWorkload.spec'));
      return track(await d.host.request({ op: 'startWorkload', spec }));
    },
    [IPC_CHANNELS.cancel]: async (a) => {
      assertNoArgs(a, 'cancel');
      d.host.cancel();
    },
    [IPC_CHANNELS.step]: async (a) => (assertArgs(a, 1, 'step'), d.host.request({ op: 'step', delta: int(a[0], 'step.delta') })),
    [IPC_CHANNELS.seek]: async (a) => {
      assertArgs(a, 1, 'seek');
      const p = int(a[0], 'seek.position');
      if (p < 0) throw new IpcRejected('seek.position: expected a position >= 0');
      return d.host.request({ op: 'seek', position: p });
    },
    [IPC_CHANNELS.seekMarker]: async (a) => {
      assertArgs(a, 1, 'seekMarker');
      if (a[0] !== 1 && a[0] !== -1) throw new IpcRejected('seekMarker.direction: expected 1 or -1');
      return d.host.request({ op: 'seekMarker', direction: a[0] });
    },
    [IPC_CHANNELS.play]: async (a) => {
      assertArgs(a, 1, 'play');
      const r = a[0];
      if (typeof r !== 'number' || !(r > 0 && r <= 1e9)) throw new IpcRejected('play.opsPerSecond: expected a number in (0, 1e9]');
      return d.host.request({ op: 'play', opsPerSecond: r });
    },
    [IPC_CHANNELS.pause]: async (a) => (assertNoArgs(a, 'pause'), d.host.request({ op: 'pause' })),
    [IPC_CHANNELS.setUi]: async (a) => {
      assertArgs(a, 1, 'setUi');
      return track(await d.host.request({ op: 'setUi', ui: validated(() => parseUi(a[0])) }));
    },
    [IPC_CHANNELS.query]: async (a) => {
      assertArgs(a, 1, 'query');
      return d.host.request({ op: 'query', query: validated(() => parseQuery(a[0])) });
    },
  };
}
