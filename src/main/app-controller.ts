/**
 * What the app does with files and sessions, free of `electron`: the current document, New /
 * Open / Save / Save As / Close, importing traces, Open Recent, autosave, the offer to restore
 * after a crash, and the demo session of a first start. `index.ts` passes in the dialogs and
 * the file system; tests pass real files in a temporary folder and fake dialogs.
 *
 * Crash detection: a `running` marker is written to the data folder at start and removed on
 * a clean quit. If it is there at the next start and an autosave exists, the user is offered
 * to restore it.
 *
 * Failures never lose work: a session that cannot be read or decoded is refused with a
 * message and the current session stays; saving goes through an atomic write.
 */
import { join } from 'node:path';
import type { HostEvent, RunResult, SessionState } from '../shared/protocol';
import type { SessionSettings } from '../core/session/model';
import { defaultSettings } from '../core/session/model';
import type { SimulationHost } from './host';
import { fileKind } from './menu';

export interface Dialogs {
  openSession(): Promise<string | null>;
  openTrace(): Promise<string | null>;
  saveSessionAs(defaultName: string): Promise<string | null>;
  /** Asks whether to restore the autosaved session after a crash. */
  confirmRestore(): Promise<boolean>;
  showError(message: string): void;
}

export interface FileSystem {
  /** Writes atomically: a failure leaves the previous file intact. */
  saveAtomic(path: string, bytes: Uint8Array): Promise<void>;
  readSession(path: string): Promise<Uint8Array>;
  readText(path: string, maxBytes: number): Promise<string>;
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
  writeSmall(path: string, text: string): Promise<void>;
}

export interface ControllerOptions {
  host: SimulationHost;
  dataDir: string;
  dialogs: Dialogs;
  files: FileSystem;
  /** Events for the renderer (title and recent-list changes, errors). */
  emit: (event: HostEvent) => void;
  /** Called when the recent list or the document changes (menu, window title). */
  onDocumentChanged?: () => void;
  /** Autosave period in ms (default 30 s); 0 turns autosave off. */
  autosaveEvery?: number;
}

export const DEMO_CODE = `# The talk's examples: why 5 takes 28 bytes and object() 16, and a list with its GC header.
import sys
import gc
five = 5
nothing = object()
print(sys.getsizeof(five), sys.getsizeof(nothing))
big = 2 ** 100
x = [1000, 2000]
d = {'answer': 42}
print(sys.getsizeof(x), gc.is_tracked(x), gc.is_tracked(five))
`;

const MAX_RECENT = 10;
const MAX_TRACE_BYTES = 512 * 1024 * 1024;

export class AppController {
  private readonly o: ControllerOptions;
  currentPath: string | null = null;
  recent: string[] = [];
  /** Whether the session changed since it was last saved or opened. */
  dirty = false;
  private lastSavedVersion = -1;
  private lastVersion = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: ControllerOptions) {
    this.o = options;
  }

  get autosavePath(): string {
    return join(this.o.dataDir, 'autosave.pyheap');
  }

  private get markerPath(): string {
    return join(this.o.dataDir, 'running');
  }

  private get statePath(): string {
    return join(this.o.dataDir, 'state.json');
  }

  /**
   * Starts the app's session: restores after a crash if the user wants, else opens the files
   * given on the command line, else (on a first start) the demo, else an empty session.
   */
  async startup(files: readonly string[]): Promise<SessionState> {
    const firstStart = !(await this.o.files.exists(this.statePath));
    if (!firstStart) {
      try {
        const saved = JSON.parse(await this.o.files.readText(this.statePath, 1 << 20)) as { recent?: unknown };
        if (Array.isArray(saved.recent)) this.recent = saved.recent.filter((p): p is string => typeof p === 'string').slice(0, MAX_RECENT);
      } catch {
        this.recent = [];
      }
    }
    const crashed = await this.o.files.exists(this.markerPath);
    await this.o.files.writeSmall(this.markerPath, String(Date.now()));
    let state: SessionState | null = null;
    if (crashed && (await this.o.files.exists(this.autosavePath)) && (await this.o.dialogs.confirmRestore())) {
      try {
        const bytes = await this.o.files.readSession(this.autosavePath);
        state = await this.o.host.request({ op: 'loadSession', bytes: toArrayBuffer(bytes), name: 'autosave' });
        this.currentPath = null;
        this.markDirty(state);
      } catch (e) {
        this.o.dialogs.showError(`The autosaved session could not be restored: ${(e as Error).message}`);
      }
    }
    for (const f of files) {
      if (state !== null) break;
      if (fileKind(f) === 'session') state = (await this.openSession(f)).state;
    }
    if (state === null) {
      state = await this.newSession(defaultSettings());
      if (firstStart) {
        const r = await this.runDemo();
        state = r.state;
        this.lastSavedVersion = state.version;
        this.dirty = false;
      }
    }
    for (const f of files) if (fileKind(f) === 'trace') state = (await this.importTraceFile(f))?.state ?? state;
    await this.saveState();
    this.startAutosave();
    return state;
  }

  runDemo(): Promise<RunResult> {
    return this.o.host.request({ op: 'runPython', code: DEMO_CODE });
  }

  async newSession(settings: SessionSettings): Promise<SessionState> {
    const state = await this.o.host.request({ op: 'newSession', settings });
    this.currentPath = null;
    this.lastSavedVersion = state.version;
    this.lastVersion = state.version;
    this.dirty = false;
    this.o.onDocumentChanged?.();
    return state;
  }

  /** Opens a session file (`path`, or one the user picks). The current session stays on failure. */
  async openSession(path: string | null): Promise<{ path: string | null; state: SessionState | null }> {
    const p = path ?? (await this.o.dialogs.openSession());
    if (p === null) return { path: null, state: null };
    try {
      const bytes = await this.o.files.readSession(p);
      const state = await this.o.host.request({ op: 'loadSession', bytes: toArrayBuffer(bytes), name: p });
      this.currentPath = p;
      this.lastSavedVersion = state.version;
      this.lastVersion = state.version;
      this.dirty = false;
      await this.addRecent(p);
      this.o.onDocumentChanged?.();
      return { path: p, state };
    } catch (e) {
      this.o.dialogs.showError(`${p}: ${(e as Error).message}`);
      this.o.emit({ kind: 'error', message: `${p}: ${(e as Error).message}` });
      return { path: null, state: null };
    }
  }

  /** Saves to the current file, or asks for one (always with `saveAs`). */
  async saveSession(saveAs: boolean): Promise<{ path: string | null; state: SessionState | null }> {
    let p = saveAs ? null : this.currentPath;
    if (p === null) p = await this.o.dialogs.saveSessionAs(this.currentPath ?? 'session.pyheap');
    if (p === null) return { path: null, state: null };
    if (!p.toLowerCase().endsWith('.pyheap')) p += '.pyheap';
    try {
      const bytes = await this.o.host.request({ op: 'encodeSession' });
      await this.o.files.saveAtomic(p, new Uint8Array(bytes));
      const state = await this.o.host.request({ op: 'pause' });
      this.currentPath = p;
      this.lastSavedVersion = this.lastVersion;
      this.dirty = false;
      await this.addRecent(p);
      this.o.onDocumentChanged?.();
      return { path: p, state };
    } catch (e) {
      this.o.dialogs.showError(`Could not save ${p}: ${(e as Error).message}`);
      this.o.emit({ kind: 'error', message: `could not save ${p}: ${(e as Error).message}` });
      return { path: null, state: null };
    }
  }

  async importTraceFile(path: string | null): Promise<RunResult | null> {
    const p = path ?? (await this.o.dialogs.openTrace());
    if (p === null) return null;
    try {
      const text = await this.o.files.readText(p, MAX_TRACE_BYTES);
      const r = await this.o.host.request({ op: 'importTrace', name: p.split(/[\\/]/).pop() ?? p, text });
      if (r.error !== null) this.o.emit({ kind: 'error', message: `${p}: ${r.error}` });
      this.markDirty(r.state);
      return r;
    } catch (e) {
      this.o.emit({ kind: 'error', message: `${p}: ${(e as Error).message}` });
      return null;
    }
  }

  /** Any state the renderer saw: tracks whether there is unsaved work. */
  markDirty(state: SessionState): void {
    this.lastVersion = state.version;
    this.dirty = state.inputs.length > 0 && state.version !== this.lastSavedVersion;
  }

  async closeSession(): Promise<SessionState> {
    return this.newSession(defaultSettings());
  }

  private async addRecent(p: string): Promise<void> {
    this.recent = [p, ...this.recent.filter((r) => r !== p)].slice(0, MAX_RECENT);
    await this.saveState();
  }

  async clearRecent(): Promise<void> {
    this.recent = [];
    await this.saveState();
    this.o.onDocumentChanged?.();
  }

  /** The recent list in the data folder; failing to write it loses only the list. */
  private async saveState(): Promise<void> {
    try {
      await this.o.files.writeSmall(this.statePath, JSON.stringify({ recent: this.recent }));
    } catch (e) {
      this.o.emit({ kind: 'error', message: `could not write ${this.statePath}: ${(e as Error).message}` });
    }
  }

  private startAutosave(): void {
    const every = this.o.autosaveEvery ?? 30_000;
    if (every <= 0) return;
    this.timer = setInterval(() => void this.autosave(), every);
  }

  /** Writes the session to the data folder when it has unsaved work. */
  async autosave(): Promise<boolean> {
    if (!this.dirty) return false;
    try {
      const bytes = await this.o.host.request({ op: 'encodeSession' });
      await this.o.files.saveAtomic(this.autosavePath, new Uint8Array(bytes));
      return true;
    } catch {
      return false;
    }
  }

  /** A clean quit: no crash marker, no autosave to offer next time. */
  async shutdown(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.o.files.remove(this.markerPath);
    await this.o.files.remove(this.autosavePath);
  }
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
