/**
 * The renderer's state: one `AppModel` per window, holding what the host last said (session
 * state, summary, the per-pool state array, markers, history) and what the user is doing
 * (selection, console transcript, the running job, play). Components read it and call its
 * methods; only this class talks to `window.pyheap`.
 *
 * Pool states. After every `state` event the changed slot ranges it names are fetched with
 * `query({what:'poolStates', ranges})` and copied into `states` in place (a full fetch when
 * there is no array yet or its length changed); `changed` is then replaced by those ranges so
 * the heap map uploads only them. Refreshes are serialised: events arriving during one are
 * merged into the next. Key invariant: every range an event names is fetched after the event
 * arrived, so `states` ends equal to the host's array whatever the interleaving.
 *
 * Arena addresses (`arenaAddresses`, the heap map's tile order) come with the pool states, and
 * the raw region (`raw`) from the rawChunks query on every refresh; both carry a version the
 * host bumps when they change, so they cross only then. A full refresh asks for both afresh
 * (the host may be a restarted worker whose versions start over).
 *
 * Large data (`states`, results of queries) lives in `$state.raw`: it is replaced, never
 * proxied.
 */
import type {
  ArenaInfo,
  BlockInfo,
  HeapStats,
  HeapSummary,
  HistoryPoint,
  HostEvent,
  Marker,
  PoolInfo,
  PoolStatesResult,
  PyHeapApi,
  RunResult,
  SessionState,
  SizeClassRow,
} from '../../../shared/protocol';
import type { SessionSettings } from '../../../core/session/model';
import { getProfile } from '../../../core/profiles';
import type { WorkloadSpec } from '../../../core/workloads/spec';
import { blockAddress, sameSelection, type HeapSelection } from './selection';
import { rawRegionsOf } from '../heapmap/raw';
import type { RawRegions } from '../heapmap/types';
import { hexAddress } from './format';
import { mergeRanges, type Range } from './ranges';

export type Inspected =
  | { kind: 'arena'; arena: ArenaInfo | null }
  | { kind: 'pool'; pool: PoolInfo | null }
  | { kind: 'block'; pool: PoolInfo | null; block: BlockInfo | null }
  /** An address that is in no block (static memory, a pool header, raw memory). */
  | { kind: 'address'; block: BlockInfo };

export interface TranscriptEntry {
  id: number;
  code: string;
  output: string;
  error: string | null;
  start: number;
  end: number;
}

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export type Theme = 'dark' | 'light';
export type SideTab = 'inspector' | 'stats' | 'version';

/** Past this many ranges in one event, fetch the whole array instead. */
const MAX_RANGES = 4096;
/** Points of the timeline chart. */
export const HISTORY_POINTS = 600;
export const SPEEDS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] as const;

export class AppModel {
  readonly api: PyHeapApi;

  session = $state.raw<SessionState | null>(null);
  summary = $state.raw<HeapSummary | null>(null);
  /** One Uint16 per pool slot (core/pymalloc/pool-state.ts). Mutated in place on partial updates. */
  states = $state.raw<Uint16Array>(new Uint16Array(0));
  /** The ranges of `states` updated last, or null after a full replacement. */
  changed = $state.raw<Range[] | null>(null);
  /** Bumped whenever `states` changed (full or partial), for readers that need one signal. */
  statesVersion = $state(0);
  /** Address of each arena slot's arena (0: none), or null before the first answer. */
  arenaAddresses = $state.raw<Float64Array | null>(null);
  /** The C library's chunks and regions (the heap map's raw region), or null before the first answer. */
  raw = $state.raw<RawRegions | null>(null);
  markers = $state.raw<Marker[]>([]);
  history = $state.raw<HistoryPoint[]>([]);
  sizeClasses = $state.raw<SizeClassRow[]>([]);
  stats = $state.raw<HeapStats | null>(null);

  selection = $state.raw<HeapSelection | null>(null);
  inspected = $state.raw<Inspected | null>(null);
  /** Selections to go back to after following pointers. */
  backStack = $state.raw<HeapSelection[]>([]);

  /** The running job (run, import, workload, open...), or null. */
  job = $state<string | null>(null);
  progress = $state.raw<{ job: string; done: number; total: number } | null>(null);
  playing = $state(false);
  speed = $state(1_000);
  transcript = $state.raw<TranscriptEntry[]>([]);
  toasts = $state.raw<Toast[]>([]);
  filePath = $state<string | null>(null);
  theme = $state<Theme>('dark');
  sideTab = $state<SideTab>('inspector');

  /** Settings for the next New session. */
  newSettings = $state<{ python: string; pythonMalloc: SessionSettings['pythonMalloc']; placement: 'offsets' | 'aslr'; offsets: string; seed: number }>({
    python: '3.13',
    pythonMalloc: 'pymalloc',
    placement: 'offsets',
    offsets: '0',
    seed: 1,
  });

  private nextId = 1;
  private refreshing = false;
  private pendingRanges: Range[] | 'full' | null = null;
  private lastVersion = -1;
  /** Versions of `arenaAddresses` and `raw` as the host numbered them (undefined: ask for them whole). */
  private arenaVersion: number | undefined = undefined;
  private rawVersion: number | undefined = undefined;
  private lastTotal = -1;
  private lastBookmarks = '';
  private seekTarget: number | null = null;
  private seeking = false;
  private unsubscribe: (() => void) | null = null;
  /** Resolvers waiting for the next completed refresh (tests and `settled`). */
  private idleWaiters: (() => void)[] = [];

  constructor(api: PyHeapApi) {
    this.api = api;
  }

  /** Subscribes to host events and loads the current session. */
  async start(): Promise<void> {
    this.unsubscribe = this.api.onEvent((e) => this.onEvent(e));
    const st = await this.api.pause();
    this.applyState(st, 'full');
  }

  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  // ===========================================================================================
  // Events and refresh
  // ===========================================================================================

  onEvent(e: HostEvent): void {
    switch (e.kind) {
      case 'state':
        this.applyState(e.state, e.changed);
        break;
      case 'progress':
        this.progress = { job: e.job, done: e.done, total: e.total };
        break;
      case 'error':
        this.toast('error', e.message);
        break;
      case 'restored':
        this.toast('info', e.lost ?? 'The simulation worker stopped and was restarted; the session was restored.');
        this.applyState(e.state, 'full');
        break;
      case 'command':
        void this.command(e.command, e.path ?? null);
        break;
    }
  }

  private applyState(state: SessionState, changed: Range[] | 'full'): void {
    const prev = this.session;
    this.session = state;
    if (this.playing && state.position >= state.total) this.playing = false;
    const bookmarks = JSON.stringify(state.ui.bookmarks);
    const sessionChanged = prev === null || prev.python !== state.python || prev.pythonMalloc !== state.pythonMalloc || prev.placement !== state.placement;
    if (state.version === this.lastVersion && !sessionChanged && bookmarks === this.lastBookmarks && changed !== 'full' && changed.length === 0) return;
    this.requestRefresh(sessionChanged ? 'full' : changed);
  }

  private requestRefresh(changed: Range[] | 'full'): void {
    if (changed === 'full' || this.pendingRanges === 'full') this.pendingRanges = 'full';
    else this.pendingRanges = [...(this.pendingRanges ?? []), ...changed];
    if (!this.refreshing) void this.refreshLoop();
  }

  private async refreshLoop(): Promise<void> {
    this.refreshing = true;
    try {
      while (this.pendingRanges !== null) {
        const ranges = this.pendingRanges;
        this.pendingRanges = null;
        await this.refresh(ranges);
      }
    } catch (e) {
      this.toast('error', `Could not refresh the view: ${(e as Error).message}`);
    } finally {
      this.refreshing = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once no refresh is running or pending. */
  settled(): Promise<void> {
    if (!this.refreshing && this.pendingRanges === null) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async refresh(ranges: Range[] | 'full'): Promise<void> {
    const st = this.session;
    if (st === null) return;
    if (ranges === 'full') {
      this.arenaVersion = undefined;
      this.rawVersion = undefined;
    }
    await this.refreshStates(ranges);
    const raw = await this.api.query(this.rawVersion === undefined ? { what: 'rawChunks' } : { what: 'rawChunks', since: this.rawVersion });
    if (raw.changed) this.raw = rawRegionsOf(raw);
    this.rawVersion = raw.version;
    this.summary = await this.api.query({ what: 'summary' });
    const bookmarks = JSON.stringify(st.ui.bookmarks);
    if (st.total !== this.lastTotal || bookmarks !== this.lastBookmarks || ranges === 'full') {
      this.lastTotal = st.total;
      this.lastBookmarks = bookmarks;
      const [markers, history] = await Promise.all([this.api.query({ what: 'markers' }), this.api.query({ what: 'history', points: HISTORY_POINTS })]);
      this.markers = markers;
      this.history = history;
    }
    this.lastVersion = st.version;
    if (this.sideTab === 'stats') await this.loadStats();
    else this.stats = null;
    await this.reloadInspected();
  }

  /** Pool states (all, or `ranges`), with the arena addresses when they changed. */
  private async poolStates(ranges?: Range[]): Promise<PoolStatesResult> {
    const q: { what: 'poolStates'; ranges?: Range[]; arenaVersion?: number } = { what: 'poolStates' };
    if (ranges !== undefined) q.ranges = ranges;
    if (this.arenaVersion !== undefined) q.arenaVersion = this.arenaVersion;
    const r = await this.api.query(q);
    if (r.arenaAddresses !== null) this.arenaAddresses = new Float64Array(r.arenaAddresses);
    this.arenaVersion = r.arenaVersion;
    return r;
  }

  private async refreshStates(ranges: Range[] | 'full'): Promise<void> {
    const merged = ranges === 'full' ? 'full' : mergeRanges(ranges);
    if (merged !== 'full' && merged.length === 0 && this.states.length > 0) {
      // No pool changed, but an arena may have moved (an arena freed and another allocated).
      await this.poolStates([]);
      return;
    }
    if (merged === 'full' || merged.length > MAX_RANGES || this.states.length === 0) {
      const r = await this.poolStates();
      this.states = new Uint16Array(r.ranges[0]!.data);
      this.changed = null;
    } else {
      const r = await this.poolStates(merged);
      if (r.length !== this.states.length) {
        const full = await this.poolStates();
        this.states = new Uint16Array(full.ranges[0]!.data);
        this.changed = null;
      } else {
        const out: Range[] = [];
        for (const part of r.ranges) {
          const data = new Uint16Array(part.data);
          this.states.set(data, part.start);
          out.push({ start: part.start, end: part.start + data.length });
        }
        this.changed = out;
      }
    }
    this.statesVersion++;
  }

  async loadStats(): Promise<void> {
    const [stats, rows] = await Promise.all([this.api.query({ what: 'stats' }), this.api.query({ what: 'sizeClasses' })]);
    this.stats = stats;
    this.sizeClasses = rows;
  }

  // ===========================================================================================
  // Selection and inspector
  // ===========================================================================================

  /** ALIGNMENT of the session's CPython: block size = (szidx + 1) * ALIGNMENT. */
  get alignment(): number {
    return this.session === null ? 16 : getProfile(this.session.python).alignment;
  }

  get poolsPerArena(): number {
    return this.summary?.poolsPerArena ?? 64;
  }

  /** Selects on the heap map or in a panel; `push` keeps the previous one for Back. */
  async select(s: HeapSelection | null, push = false): Promise<void> {
    if (push && this.selection !== null && !sameSelection(this.selection, s)) this.backStack = [...this.backStack.slice(-49), this.selection];
    this.selection = s;
    if (s !== null) this.sideTab = 'inspector';
    await this.reloadInspected();
  }

  async back(): Promise<void> {
    const prev = this.backStack[this.backStack.length - 1];
    if (prev === undefined) return;
    this.backStack = this.backStack.slice(0, -1);
    this.selection = prev;
    await this.reloadInspected();
  }

  loadPool = (slot: number): Promise<PoolInfo | null> => this.api.query({ what: 'pool', slot });

  private async reloadInspected(): Promise<void> {
    const s = this.selection;
    if (s === null) {
      if (this.inspected?.kind !== 'address') this.inspected = null;
      return;
    }
    let next: Inspected;
    switch (s.kind) {
      case 'arena':
        next = { kind: 'arena', arena: await this.api.query({ what: 'arena', index: s.arena }) };
        break;
      case 'pool':
        next = { kind: 'pool', pool: await this.api.query({ what: 'pool', slot: s.slot }) };
        break;
      case 'block': {
        const pool = await this.api.query({ what: 'pool', slot: s.slot });
        const block = pool === null || !pool.carved ? null : await this.api.query({ what: 'block', address: blockAddress(pool.address, pool.blockSize, s.block) });
        next = { kind: 'block', pool, block };
        break;
      }
      case 'raw':
        next = { kind: 'address', block: await this.api.query({ what: 'block', address: s.address }) };
        break;
    }
    if (sameSelection(s, this.selection)) this.inspected = next;
  }

  /** Follows a pointer: selects the block (or pool) at `address`, or shows what is there. */
  async followPointer(address: number): Promise<void> {
    try {
      const b = await this.api.query({ what: 'block', address });
      if (b.where === 'pool' && b.pool !== null) {
        await this.select(b.block !== null ? { kind: 'block', slot: b.pool, block: b.block } : { kind: 'pool', slot: b.pool }, true);
      } else if (b.arena !== null) {
        await this.select({ kind: 'arena', arena: b.arena }, true);
      } else {
        if (this.selection !== null) this.backStack = [...this.backStack.slice(-49), this.selection];
        this.selection = null;
        this.inspected = { kind: 'address', block: b };
        this.sideTab = 'inspector';
      }
    } catch (e) {
      this.toast('error', `${hexAddress(address)}: ${(e as Error).message}`);
    }
  }

  // ===========================================================================================
  // Sessions and inputs
  // ===========================================================================================

  private async guard<T>(job: string, f: () => Promise<T>): Promise<T | null> {
    if (this.job !== null) {
      this.toast('info', `Wait for ${this.job} to finish (or cancel it).`);
      return null;
    }
    this.job = job;
    this.progress = null;
    try {
      return await f();
    } catch (e) {
      this.toast('error', (e as Error).message);
      return null;
    } finally {
      this.job = null;
      this.progress = null;
    }
  }

  settingsFromForm(): SessionSettings {
    const f = this.newSettings;
    const placement: SessionSettings['placement'] =
      f.placement === 'aslr'
        ? { kind: 'aslr', seed: Math.max(0, Math.trunc(f.seed)) }
        : { kind: 'offsets', offsets: f.offsets.split(/[\s,]+/).filter((x) => x !== '').map((x) => Number(x)) };
    return { python: f.python as SessionSettings['python'], pythonMalloc: f.pythonMalloc, placement, memoryLimit: null };
  }

  async newSession(): Promise<void> {
    const settings = this.settingsFromForm();
    if (settings.placement.kind === 'offsets' && (settings.placement.offsets.length === 0 || settings.placement.offsets.some((o) => !Number.isInteger(o) || o < 0))) {
      this.toast('error', 'Arena offsets: give one or more whole numbers of bytes, e.g. "0" or "0, 4096".');
      return;
    }
    const st = await this.guard('new session', () => this.api.newSession(settings));
    if (st === null) return;
    this.filePath = null;
    this.transcript = [];
    this.selection = null;
    this.inspected = null;
    this.backStack = [];
    this.applyState(st, 'full');
  }

  async open(path: string | null = null): Promise<void> {
    const r = await this.guard('open', () => this.api.openSession(path));
    if (r === null || r.state === null) return;
    this.filePath = r.path;
    this.selection = null;
    this.inspected = null;
    this.backStack = [];
    // What built the session, as the transcript (a saved session keeps its inputs, not their output).
    this.transcript = r.state.inputs.map((i) => ({ id: this.nextId++, code: i.kind === 'python' ? i.label : `# ${i.label}`, output: '', error: i.interrupted ? 'interrupted' : null, start: i.start, end: i.end }));
    this.applyState(r.state, 'full');
  }

  async save(saveAs: boolean): Promise<void> {
    const r = await this.guard(saveAs ? 'save as' : 'save', () => this.api.saveSession(saveAs));
    if (r === null || r.path === null) return;
    this.filePath = r.path;
    this.toast('info', `Saved ${r.path}`);
  }

  async runPython(code: string): Promise<RunResult | null> {
    if (code.trim() === '') return null;
    const r = await this.guard('python', () => this.api.runPython(code));
    if (r === null) return null;
    this.transcript = [...this.transcript.slice(-199), { id: this.nextId++, code, output: r.output, error: r.error, start: r.start, end: r.end }];
    this.applyState(r.state, []);
    return r;
  }

  async importTrace(name: string, text: string): Promise<void> {
    const r = await this.guard(`import ${name}`, () => this.api.importTrace(name, text));
    if (r === null) return;
    if (r.error !== null) this.toast('error', `${name}: ${r.error}`);
    else this.toast('info', `Imported ${name}: ${r.end - r.start} operations`);
    this.applyState(r.state, []);
  }

  async startWorkload(spec: WorkloadSpec): Promise<void> {
    const r = await this.guard('workload', () => this.api.startWorkload(spec));
    if (r === null) return;
    if (r.error !== null) this.toast('error', r.error);
    this.applyState(r.state, []);
  }

  async cancel(): Promise<void> {
    await this.api.cancel();
  }

  private async command(c: Extract<HostEvent, { kind: 'command' }>['command'], path: string | null): Promise<void> {
    switch (c) {
      case 'new':
        return this.newSession();
      case 'open':
        return this.open(path);
      case 'save':
        return this.save(false);
      case 'saveAs':
        return this.save(true);
      case 'close':
        return this.newSession();
      case 'about': {
        const info = await this.api.appInfo();
        this.toast('info', `${info.name} ${info.version}: CPython ${info.pythonVersions.join(', ')}`);
        return;
      }
    }
  }

  // ===========================================================================================
  // Timeline
  // ===========================================================================================

  private async timelineCall(f: () => Promise<SessionState>): Promise<void> {
    try {
      const st = await f();
      this.applyState(st, []);
    } catch (e) {
      this.toast('error', (e as Error).message);
    }
  }

  step(delta: number): Promise<void> {
    this.playing = false;
    return this.timelineCall(() => this.api.step(delta));
  }

  seekMarker(direction: 1 | -1): Promise<void> {
    this.playing = false;
    return this.timelineCall(() => this.api.seekMarker(direction));
  }

  /** Seeks, coalescing a burst (a drag on the scrubber): only the latest target is kept. */
  async seek(position: number): Promise<void> {
    this.playing = false;
    this.seekTarget = Math.max(0, Math.round(position));
    if (this.seeking) return;
    this.seeking = true;
    try {
      while (this.seekTarget !== null) {
        const p = this.seekTarget;
        this.seekTarget = null;
        await this.timelineCall(() => this.api.seek(p));
      }
    } finally {
      this.seeking = false;
    }
  }

  async togglePlay(): Promise<void> {
    if (this.playing) {
      this.playing = false;
      await this.timelineCall(() => this.api.pause());
      return;
    }
    const st = this.session;
    if (st === null || st.total === 0) return;
    if (st.position >= st.total) await this.timelineCall(() => this.api.seek(0));
    this.playing = true;
    await this.timelineCall(() => this.api.play(this.speed));
  }

  async setSpeed(opsPerSecond: number): Promise<void> {
    this.speed = opsPerSecond;
    if (this.playing) await this.timelineCall(() => this.api.play(opsPerSecond));
  }

  async addBookmark(label?: string): Promise<void> {
    const st = this.session;
    if (st === null) return;
    const op = st.position;
    if (st.ui.bookmarks.some((b) => b.op === op)) return;
    const bookmarks = [...st.ui.bookmarks, { op, label: label ?? `bookmark ${st.ui.bookmarks.length + 1}` }].sort((a, b) => a.op - b.op);
    await this.timelineCall(() => this.api.setUi({ ...st.ui, bookmarks }));
  }

  async removeBookmark(op: number): Promise<void> {
    const st = this.session;
    if (st === null) return;
    await this.timelineCall(() => this.api.setUi({ ...st.ui, bookmarks: st.ui.bookmarks.filter((b) => b.op !== op) }));
  }

  // ===========================================================================================
  // Misc
  // ===========================================================================================

  toast(kind: Toast['kind'], text: string): void {
    const t = { id: this.nextId++, kind, text };
    this.toasts = [...this.toasts.slice(-4), t];
    setTimeout(() => this.dismiss(t.id), kind === 'error' ? 10_000 : 4_000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  setSideTab(tab: SideTab): void {
    this.sideTab = tab;
    if (tab === 'stats') void this.loadStats().catch((e: Error) => this.toast('error', e.message));
  }
}
