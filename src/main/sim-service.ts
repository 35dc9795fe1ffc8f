/**
 * The simulation service that runs in the worker thread: it owns one LiveSession and answers
 * the requests of `src/shared/protocol.ts`. It knows nothing of threads: `sim-worker.ts` wires
 * it to `parentPort`, and tests drive it directly or through a real Worker.
 *
 * Requests run one at a time (the worker's message queue serialises them). Long jobs report
 * progress through `emit` and poll the cancel flag that main sets in shared memory.
 */
import { LiveSession, inputLabel, type JobControl } from '../core/session/live';
import { decodeSession, encodeSession } from '../core/session/format';
import { defaultSettings, type SessionInput, type SessionSettings, type UiState } from '../core/session/model';
import { StoredTrace } from '../core/session/stored-trace';
import { parseWorkloadSpec } from '../core/workloads/spec';
import { resolveProfileId } from '../core/profiles';
import { diffPoolStates, encodePoolStates } from '../core/pymalloc/pool-state';
import type { PymallocHeap } from '../core/pymalloc/heap';
import type { HostEvent, InputInfo, PoolStatesResult, RawChunksResult, RunResult, SessionState, SimQuery, SimRequest } from '../shared/protocol';
import { arenaInfo, blockInfo, heapStats, heapSummary, poolInfo, rawMemory, sameRawMemory, sizeClassRows, type RawMemory } from './queries';

export interface ServiceContext {
  emit(event: HostEvent): void;
  /** Whether main asked to cancel the running job. */
  cancelled(): boolean;
  /** Resets the cancel flag when a job starts. */
  clearCancel(): void;
  /** Timers for play (setInterval in a worker; tests may pass fakes). */
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(fn: () => void, ms: number): unknown;
}

/** Progress events at most this often (ms). */
const PROGRESS_EVERY_MS = 50;
/** Ticks of `play`. */
const PLAY_TICK_MS = 33;

export class SimService {
  session: LiveSession;
  private readonly ctx: ServiceContext;
  /** Pool states last sent as a state event, for the changed ranges. */
  private sentStates: Uint16Array | null = null;
  private sentVersion = -1;
  private play: { handle: unknown; opsPerSecond: number; carry: number } | null = null;
  /**
   * The arena addresses and raw memory last answered, with their versions: a version is bumped
   * when the answer's contents differ from the previous one's (whatever changed them: a step,
   * a seek, another session), so a caller holding version v has exactly what v was.
   */
  private arenaAddresses = new Float64Array(0);
  private arenaVersion = 0;
  private raw: RawMemory | null = null;
  private rawVersion = 0;

  constructor(ctx: ServiceContext, settings: SessionSettings = defaultSettings()) {
    this.ctx = ctx;
    this.session = new LiveSession(settings);
  }

  /** Operations the timeline catches up per idle slice (a few ms each). */
  static readonly SYNC_SLICE = 262_144;
  private syncScheduled = false;

  /** Lets the timeline catch up with the log in slices while no request is running. */
  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    this.ctx.setTimeout(() => {
      this.syncScheduled = false;
      if (this.session.syncSome(SimService.SYNC_SLICE) > 0) this.scheduleSync();
    }, 0);
  }

  handle(req: SimRequest): unknown {
    const r = this.dispatch(req);
    this.scheduleSync();
    return r;
  }

  private dispatch(req: SimRequest): unknown {
    switch (req.op) {
      case 'newSession':
        this.stopPlay();
        this.session = new LiveSession(req.settings);
        return this.changed();
      case 'loadSession': {
        this.stopPlay();
        const doc = decodeSession(new Uint8Array(req.bytes));
        this.session = LiveSession.fromDoc(doc, this.control(`open ${req.name}`));
        return this.changed();
      }
      case 'encodeSession': {
        const bytes = encodeSession(this.session.toDoc());
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      }
      case 'runPython':
        return this.run(() => this.session.runInput(withInterrupt({ kind: 'python', code: req.code }, req.interruptedAt), this.control('python')));
      case 'importTrace':
        return this.run(() =>
          this.session.runInput(withInterrupt({ kind: 'trace', name: req.name, trace: StoredTrace.fromText(req.text) }, req.interruptedAt), this.control(`import ${req.name}`)),
        );
      case 'startWorkload':
        return this.run(() => this.session.runInput(withInterrupt({ kind: 'workload', spec: req.spec }, req.interruptedAt), this.control('workload')));
      case 'step':
        this.stopPlay();
        this.session.step(req.delta);
        return this.changed();
      case 'seek':
        this.stopPlay();
        this.session.seek(req.position);
        return this.changed();
      case 'seekMarker':
        this.stopPlay();
        this.session.seekMarker(req.direction);
        return this.changed();
      case 'play':
        this.startPlay(req.opsPerSecond);
        return this.state();
      case 'pause':
        this.stopPlay();
        return this.state();
      case 'setUi':
        this.session.ui = req.ui;
        return this.state();
      case 'query':
        return this.query(req.query);
    }
  }

  private run(fn: () => { output: string; error: string | null; start: number; end: number }): RunResult {
    this.stopPlay();
    const r = fn();
    const state = this.changed();
    return { ...r, state };
  }

  private control(job: string): JobControl {
    this.ctx.clearCancel();
    let last = 0;
    return {
      shouldCancel: () => this.ctx.cancelled(),
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS && (total === 0 || done < total)) return;
        last = now;
        this.ctx.emit({ kind: 'progress', job, done, total });
      },
    };
  }

  state(): SessionState {
    const s = this.session;
    const st = s.settings;
    const inputs: InputInfo[] = s.inputs.map((i) => ({
      kind: i.input.kind,
      label: inputLabel(i.input),
      start: i.start,
      end: i.end,
      interrupted: i.input.interruptedAt !== undefined,
    }));
    return {
      python: st.python,
      pythonMalloc: st.pythonMalloc,
      placement: st.placement.kind === 'aslr' ? `aslr seed ${st.placement.seed}` : `offsets ${st.placement.offsets.join(',')}`,
      position: s.position,
      total: s.total,
      inputs,
      ui: s.ui,
      version: s.version,
    };
  }

  /** Emits a state event with the pool slots that changed since the last one. */
  private changed(): SessionState {
    const state = this.state();
    const states = encodePoolStates(this.session.viewHeap());
    const changed = this.sentStates === null ? [{ start: 0, end: states.length }] : diffPoolStates(this.sentStates, states);
    this.sentStates = states;
    this.sentVersion = state.version;
    this.ctx.emit({ kind: 'state', state, changed });
    return state;
  }

  private startPlay(opsPerSecond: number): void {
    this.stopPlay();
    if (!(opsPerSecond > 0)) return;
    const play = { handle: null as unknown, opsPerSecond, carry: 0 };
    play.handle = this.ctx.setInterval(() => {
      const s = this.session;
      if (s.position >= s.total) {
        this.stopPlay();
        this.changed();
        return;
      }
      play.carry += (opsPerSecond * PLAY_TICK_MS) / 1000;
      const n = Math.floor(play.carry);
      if (n === 0) return;
      play.carry -= n;
      s.step(n);
      this.changed();
    }, PLAY_TICK_MS);
    this.play = play;
  }

  private stopPlay(): void {
    if (this.play !== null) {
      this.ctx.clearInterval(this.play.handle);
      this.play = null;
    }
  }

  get playing(): boolean {
    return this.play !== null;
  }

  query(q: SimQuery): unknown {
    const s = this.session;
    switch (q.what) {
      case 'summary':
        return heapSummary(s.viewHeap(), s.position, s.total);
      case 'poolStates': {
        const heap = s.viewHeap();
        // The array the last state event described is the current one while the version stands.
        const states = this.sentStates !== null && this.sentVersion === s.version ? this.sentStates : encodePoolStates(heap);
        const arenas = this.arenaAnswer(heap, q.arenaVersion);
        if (q.ranges === undefined) {
          return { version: s.version, length: states.length, full: true, ranges: [{ start: 0, data: states.slice().buffer }], ...arenas };
        }
        const ranges = q.ranges
          .map((r) => ({ start: Math.min(r.start, states.length), end: Math.min(r.end, states.length) }))
          .filter((r) => r.end > r.start)
          .map((r) => ({ start: r.start, data: states.slice(r.start, r.end).buffer }));
        const r: PoolStatesResult = { version: s.version, length: states.length, full: false, ranges, ...arenas };
        return r;
      }
      case 'rawChunks':
        return this.rawAnswer(s.viewHeap(), q.since);
      case 'pool':
        return poolInfo(s.viewHeap(), q.slot);
      case 'arena':
        return arenaInfo(s.viewHeap(), q.index);
      case 'block':
        return blockInfo(s, q.address);
      case 'sizeClasses':
        return sizeClassRows(s.viewHeap());
      case 'stats':
        return heapStats(s.viewHeap());
      case 'markers':
        return s.allMarkers();
      case 'history': {
        const h = s.history;
        const n = h.length / 3;
        const step = Math.max(1, Math.ceil(n / Math.max(1, q.points)));
        const out = [];
        for (let i = 0; i < n; i += step) out.push({ op: h[i * 3]!, arenas: h[i * 3 + 1]!, blockBytes: h[i * 3 + 2]! });
        return out;
      }
    }
  }

  /** The arena addresses of `heap` (a copy), unless the caller's `since` is still current. */
  private arenaAnswer(heap: PymallocHeap, since: number | undefined): { arenaVersion: number; arenaAddresses: ArrayBuffer | null } {
    const now = heap.arenaAddress.subarray(0, heap.maxarenas);
    const last = this.arenaAddresses;
    let same = now.length === last.length;
    for (let i = 0; same && i < now.length; i++) same = now[i] === last[i];
    if (!same) {
      this.arenaAddresses = now.slice();
      this.arenaVersion++;
    }
    return { arenaVersion: this.arenaVersion, arenaAddresses: since === this.arenaVersion ? null : this.arenaAddresses.slice().buffer };
  }

  /** The raw chunks and mappings of `heap` (copies), unless the caller's `since` is still current. */
  private rawAnswer(heap: PymallocHeap, since: number | undefined): RawChunksResult {
    const now = rawMemory(heap);
    if (this.raw === null || !sameRawMemory(now, this.raw)) {
      this.raw = now;
      this.rawVersion++;
    }
    const m = this.raw;
    const poolSize = heap.profile.poolSize;
    if (since === this.rawVersion) {
      const none = new ArrayBuffer(0);
      return { version: this.rawVersion, changed: false, chunks: none, sizes: none, mmapped: none, truncated: m.truncated, heapStart: m.heapStart, heapEnd: m.heapEnd, mapStarts: none, mapLengths: none, mapKinds: none, poolSize };
    }
    return {
      version: this.rawVersion,
      changed: true,
      chunks: m.chunks.slice().buffer,
      sizes: m.sizes.slice().buffer,
      mmapped: m.mmapped.slice().buffer,
      truncated: m.truncated,
      heapStart: m.heapStart,
      heapEnd: m.heapEnd,
      mapStarts: m.mapStarts.slice().buffer,
      mapLengths: m.mapLengths.slice().buffer,
      mapKinds: m.mapKinds.slice().buffer,
      poolSize,
    };
  }
}

function withInterrupt(input: SessionInput, at: number | undefined): SessionInput {
  return at === undefined ? input : { ...input, interruptedAt: at };
}

// =============================================================================================
// Validation of requests (main validates before forwarding; the worker checks again)
// =============================================================================================

export class RequestError extends Error {}

const MAX_CODE = 1 << 20;
const MAX_TRACE_TEXT = 512 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RequestError(`${what}: expected an integer from ${min} to ${max}`);
  return v;
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string') throw new RequestError(`${what}: expected a string`);
  if (v.length > max) throw new RequestError(`${what}: longer than ${max} characters`);
  return v;
}

export function parseSettings(v: unknown, what = 'settings'): SessionSettings {
  if (!isRecord(v)) throw new RequestError(`${what}: expected an object`);
  const python = resolveProfileId(str(v['python'], `${what}.python`, 32));
  if (python === null) throw new RequestError(`${what}.python: unsupported version ${JSON.stringify(v['python'])}`);
  const modes = ['pymalloc', 'malloc', 'debug', 'pymalloc_debug', 'malloc_debug'] as const;
  const pm = v['pythonMalloc'];
  if (typeof pm !== 'string' || !(modes as readonly string[]).includes(pm)) throw new RequestError(`${what}.pythonMalloc: expected one of ${modes.join(', ')}`);
  const pl = v['placement'];
  if (!isRecord(pl)) throw new RequestError(`${what}.placement: expected an object`);
  let placement: SessionSettings['placement'];
  if (pl['kind'] === 'aslr') {
    placement = { kind: 'aslr', seed: finiteInt(pl['seed'], `${what}.placement.seed`, 0, 0xffff_ffff) };
  } else if (pl['kind'] === 'offsets') {
    const offs = pl['offsets'];
    if (!Array.isArray(offs) || offs.length === 0 || offs.length > 4096) throw new RequestError(`${what}.placement.offsets: expected 1 to 4096 offsets`);
    placement = { kind: 'offsets', offsets: offs.map((o, i) => finiteInt(o, `${what}.placement.offsets[${i}]`, 0, 0x3ffff)) };
  } else {
    throw new RequestError(`${what}.placement.kind: expected 'offsets' or 'aslr'`);
  }
  const ml = v['memoryLimit'];
  const memoryLimit = ml === null ? null : finiteInt(ml, `${what}.memoryLimit`, 1 << 20, 2 ** 47);
  return { python, pythonMalloc: pm as SessionSettings['pythonMalloc'], placement, memoryLimit };
}

export function parseUi(v: unknown): UiState {
  if (!isRecord(v)) throw new RequestError('ui: expected an object');
  const view = str(v['view'], 'ui.view', 64);
  const sel = v['selection'];
  const selection = sel === null ? null : finiteInt(sel, 'ui.selection', 0, 2 ** 53);
  const bm = v['bookmarks'];
  if (!Array.isArray(bm) || bm.length > 10_000) throw new RequestError('ui.bookmarks: expected an array of at most 10000');
  const bookmarks = bm.map((b, i) => {
    if (!isRecord(b)) throw new RequestError(`ui.bookmarks[${i}]: expected an object`);
    return { op: finiteInt(b['op'], `ui.bookmarks[${i}].op`, 0, 2 ** 53), label: str(b['label'], `ui.bookmarks[${i}].label`, 200) };
  });
  return { view, selection, bookmarks };
}

export function parseQuery(v: unknown): SimQuery {
  if (!isRecord(v)) throw new RequestError('query: expected an object');
  switch (v['what']) {
    case 'summary':
    case 'sizeClasses':
    case 'stats':
    case 'markers':
      return { what: v['what'] };
    case 'poolStates': {
      const q: SimQuery & { what: 'poolStates' } = { what: 'poolStates' };
      if (v['ranges'] !== undefined) q.ranges = parseSlotRanges(v['ranges']);
      if (v['arenaVersion'] !== undefined) q.arenaVersion = finiteInt(v['arenaVersion'], 'query.arenaVersion', 0, 2 ** 53);
      return q;
    }
    case 'rawChunks': {
      const q: SimQuery & { what: 'rawChunks' } = { what: 'rawChunks' };
      if (v['since'] !== undefined) q.since = finiteInt(v['since'], 'query.since', 0, 2 ** 53);
      return q;
    }
    case 'pool':
      return { what: 'pool', slot: finiteInt(v['slot'], 'query.slot', 0, 2 ** 31) };
    case 'arena':
      return { what: 'arena', index: finiteInt(v['index'], 'query.index', 0, 2 ** 31) };
    case 'block':
      return { what: 'block', address: finiteInt(v['address'], 'query.address', 0, 2 ** 53) };
    case 'history':
      return { what: 'history', points: finiteInt(v['points'], 'query.points', 1, 100_000) };
    default:
      throw new RequestError(`query.what: unknown query ${JSON.stringify(v['what'])}`);
  }
}

/** At most this many ranges in one poolStates query (a renderer asks for the whole array past that). */
const MAX_QUERY_RANGES = 65_536;

function parseSlotRanges(v: unknown): { start: number; end: number }[] {
  if (!Array.isArray(v) || v.length > MAX_QUERY_RANGES) throw new RequestError(`query.ranges: expected an array of at most ${MAX_QUERY_RANGES} ranges`);
  return v.map((r, i) => {
    if (!isRecord(r)) throw new RequestError(`query.ranges[${i}]: expected an object`);
    const start = finiteInt(r['start'], `query.ranges[${i}].start`, 0, 2 ** 31);
    const end = finiteInt(r['end'], `query.ranges[${i}].end`, start, 2 ** 31);
    return { start, end };
  });
}

function interrupt(v: Record<string, unknown>, op: string): { interruptedAt?: number } {
  return v['interruptedAt'] === undefined ? {} : { interruptedAt: finiteInt(v['interruptedAt'], `${op}.interruptedAt`, 0, 2 ** 53) };
}

/** Validates a request from an untrusted side (the renderer) into a well-typed one. */
export function parseRequest(v: unknown): SimRequest {
  if (!isRecord(v)) throw new RequestError('request: expected an object');
  switch (v['op']) {
    case 'newSession':
      return { op: 'newSession', settings: parseSettings(v['settings']) };
    case 'loadSession': {
      if (!(v['bytes'] instanceof ArrayBuffer)) throw new RequestError('loadSession.bytes: expected an ArrayBuffer');
      return { op: 'loadSession', bytes: v['bytes'], name: str(v['name'], 'loadSession.name', 4096) };
    }
    case 'encodeSession':
    case 'pause':
      return { op: v['op'] };
    case 'runPython':
      return { op: 'runPython', code: str(v['code'], 'runPython.code', MAX_CODE), ...interrupt(v, 'runPython') };
    case 'importTrace':
      return {
        op: 'importTrace',
        name: str(v['name'], 'importTrace.name', 4096),
        text: str(v['text'], 'importTrace.text', MAX_TRACE_TEXT),
        ...interrupt(v, 'importTrace'),
      };
    case 'startWorkload':
      try {
        return { op: 'startWorkload', spec: parseWorkloadSpec(v['spec'], 'startWorkload.spec'), ...interrupt(v, 'startWorkload') };
      } catch (e) {
        throw e instanceof RequestError ? e : new RequestError((e as Error).message);
      }
    case 'step':
      return { op: 'step', delta: finiteInt(v['delta'], 'step.delta', -(2 ** 53), 2 ** 53) };
    case 'seek':
      return { op: 'seek', position: finiteInt(v['position'], 'seek.position', 0, 2 ** 53) };
    case 'seekMarker':
      if (v['direction'] !== 1 && v['direction'] !== -1) throw new RequestError('seekMarker.direction: expected 1 or -1');
      return { op: 'seekMarker', direction: v['direction'] };
    case 'play': {
      const r = v['opsPerSecond'];
      if (typeof r !== 'number' || !(r > 0 && r <= 1e9)) throw new RequestError('play.opsPerSecond: expected a number in (0, 1e9]');
      return { op: 'play', opsPerSecond: r };
    }
    case 'setUi':
      return { op: 'setUi', ui: parseUi(v['ui']) };
    case 'query':
      return { op: 'query', query: parseQuery(v['query']) };
    default:
      throw new RequestError(`request: unknown operation ${JSON.stringify(v['op'])}`);
  }
}
