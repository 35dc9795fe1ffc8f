/**
 * A live session: the state the app works on. One heap, one object space and interpreter (the
 * console), one operation log that every input appends to, and a timeline over that log.
 *
 *   - Inputs (console code, imported traces, workloads) run on the live heap, which is always
 *     the heap at the END of the log; every allocator call they make is logged.
 *   - The position is where the user looks. At the end, queries see the live heap and the
 *     live objects; elsewhere they see the timeline's view heap at that position.
 *   - Running an input moves the position to the end.
 *   - `toDoc` / `fromDoc`: the inputs, in order, rebuild the session exactly (the simulation is
 *     deterministic); an input the user cancelled is re-run up to the same allocator call.
 *
 * Key invariant: replaying the log on a fresh heap of the same settings gives the live heap
 * (test/session/live.test.ts).
 */
import type { PymallocHeap } from '../pymalloc/heap';
import type { ObjectSpace, PyObj } from '../objects/space';
import { PySyntaxError } from '../python/ast';
import { PyException } from '../python/interp';
import { PythonSession, describeError } from '../python/session';
import { OpLog, RecordingAllocator, SimInterrupt } from '../trace/oplog';
import { TraceError } from '../trace/reader';
import { StreamReplay, createReplayHeap, type ReplayHeapOptions } from '../trace/replay';
import { Timeline } from '../trace/timeline';
import { copyHeapInto } from '../trace/snapshot';
import { StoredTrace } from './stored-trace';
import { runWorkload } from '../workloads/run';
import type { WorkloadSpec } from '../workloads/spec';
import { emptyUiState, type SessionDoc, type SessionInput, type SessionSettings, type UiState } from './model';

export interface JobControl {
  /** Called now and then with how far the job is (units of the job: operations, lines). */
  onProgress?: (done: number, total: number) => void;
  /** Polled now and then; true stops the job (the input is kept up to where it stopped). */
  shouldCancel?: () => boolean;
}

export interface LiveInput {
  input: SessionInput;
  /** Its operations in the log: [start, end). */
  start: number;
  end: number;
}

export interface Marker {
  op: number;
  kind: 'input' | 'line' | 'bookmark';
  label: string;
}

export interface RunOutcome {
  output: string;
  error: string | null;
  start: number;
  end: number;
}

/** Statement markers kept per input at most (a long loop would make millions). */
const MAX_LINE_MARKERS = 5000;
/** A history sample every this many operations. */
export const HISTORY_EVERY = 4096;

export function heapOptions(settings: SessionSettings): ReplayHeapOptions {
  const o: ReplayHeapOptions = { python: settings.python };
  if (settings.placement.kind === 'aslr') o.aslrSeed = settings.placement.seed;
  else o.arenaOffsets = settings.placement.offsets;
  if (settings.memoryLimit !== null) o.memoryLimit = settings.memoryLimit;
  return o;
}

export class LiveSession {
  readonly settings: SessionSettings;
  readonly log = new OpLog();
  readonly python: PythonSession;
  readonly alloc: RecordingAllocator;
  readonly timeline: Timeline;
  readonly inputs: LiveInput[] = [];
  readonly markers: Marker[] = [];
  /** (op, arenas live, bytes in pool blocks) every HISTORY_EVERY operations, for the chart. */
  readonly history: number[] = [];
  ui: UiState = emptyUiState();
  /** Where the user looks: 0 .. log.length. */
  position = 0;
  /** Bumped on every change of what `viewHeap` shows. */
  version = 0;
  private output: string[] = [];
  private lineMarkers = 0;

  constructor(settings: SessionSettings) {
    this.settings = settings;
    this.python = new PythonSession({
      ...heapOptions(settings),
      pythonMalloc: settings.pythonMalloc,
      log: this.log,
      print: (t) => this.output.push(t),
    });
    this.python.space.recordEvents = false;
    this.alloc = this.python.space.alloc as RecordingAllocator;
    this.python.space.onLine = (line) => this.lineMarker(line);
    this.timeline = new Timeline(this.log, () => createReplayHeap(heapOptions(settings)));
  }

  get heap(): PymallocHeap {
    return this.python.heap;
  }

  get space(): ObjectSpace {
    return this.python.space;
  }

  get total(): number {
    return this.log.length;
  }

  /** The heap at the current position. */
  viewHeap(): PymallocHeap {
    if (this.position === this.log.length) return this.heap;
    const behind = this.position - this.timeline.synced;
    if (behind > 0) this.timeline.sync(behind);
    return this.timeline.seek(this.position);
  }

  /**
   * Lets the timeline catch up with the log by at most `maxOps` operations (its checkpoints
   * make later seeks fast); returns the operations still to do. Hosts call it when idle.
   */
  syncSome(maxOps: number): number {
    return this.timeline.sync(maxOps);
  }

  /** Whether the live objects describe the heap shown (only at the end of the timeline). */
  atEnd(): boolean {
    return this.position === this.log.length;
  }

  private lineMarker(line: number): void {
    if (line === 0 || this.lineMarkers >= MAX_LINE_MARKERS) return;
    const op = this.log.length;
    const last = this.markers[this.markers.length - 1];
    if (last !== undefined && last.op === op && last.kind === 'line') {
      last.label = `line ${line}`;
      return;
    }
    this.markers.push({ op, kind: 'line', label: `line ${line}` });
    this.lineMarkers++;
  }

  // =========================================================================================
  // Inputs
  // =========================================================================================

  runPython(code: string, control: JobControl = {}): RunOutcome {
    return this.runInput({ kind: 'python', code }, control);
  }

  importTrace(name: string, text: string, control: JobControl = {}): RunOutcome {
    return this.runInput({ kind: 'trace', name, trace: StoredTrace.fromText(text) }, control);
  }

  runWorkload(spec: WorkloadSpec, control: JobControl = {}): RunOutcome {
    return this.runInput({ kind: 'workload', spec }, control);
  }

  /**
   * Runs one input at the end of the log. A syntax error or an invalid trace changes nothing
   * (nothing was allocated, or the trace's operations are undone by rebuilding from the
   * timeline); an exception in Python code keeps what the code did, as CPython would.
   */
  runInput(input: SessionInput, control: JobControl = {}, replaying = false): RunOutcome {
    const start = this.log.length;
    this.output = [];
    this.lineMarkers = 0;
    const markerCount = this.markers.length;
    this.markers.push({ op: start, kind: 'input', label: inputLabel(input) });
    const alloc = this.alloc;
    alloc.interruptAt = input.interruptedAt === undefined ? -1 : start + input.interruptedAt;
    alloc.lastInterrupt = -1;
    let lastSample = start - (start % HISTORY_EVERY);
    // Console code has no known end: its progress is the allocator calls so far (total 0).
    const report = input.kind === 'python' ? control.onProgress : undefined;
    alloc.poll = () => {
      const n = this.log.length;
      if (n - lastSample >= HISTORY_EVERY) {
        lastSample = n - (n % HISTORY_EVERY);
        this.sampleHistory(n);
      }
      report?.(n - start, 0);
      return control.shouldCancel?.() ?? false;
    };
    let error: string | null = null;
    let interrupted = false;
    try {
      this.execute(input, control);
    } catch (e) {
      if (e instanceof SimInterrupt || (e instanceof PyException && e.pyType === 'KeyboardInterrupt')) {
        interrupted = true;
        error = input.kind === 'python' || (input.kind === 'workload' && input.spec.kind === 'python') ? describeError(e) : null;
      } else if (e instanceof PySyntaxError || (e instanceof TraceError && this.log.length === start)) {
        this.markers.length = markerCount;
        alloc.interruptAt = -1;
        alloc.poll = null;
        if (replaying) throw e;
        return { output: this.output.join(''), error: describeError(e), start, end: start };
      } else if (e instanceof TraceError) {
        // A trace that fails half-way is refused whole: roll the heap back to `start`.
        this.markers.length = markerCount;
        this.rollback(start);
        alloc.interruptAt = -1;
        alloc.poll = null;
        if (replaying) throw e;
        return { output: '', error: e.message, start, end: start };
      } else if (e instanceof PyException) {
        error = describeError(e);
      } else {
        throw e;
      }
    } finally {
      alloc.interruptAt = -1;
      alloc.poll = null;
    }
    const end = this.log.length;
    // Cancelled: the call where it stopped (clean-up after it, such as releasing constants,
    // follows in the log and is redone by a re-run).
    const kept: SessionInput = interrupted && alloc.lastInterrupt >= start ? { ...input, interruptedAt: alloc.lastInterrupt - start } : input;
    this.inputs.push({ input: kept, start, end });
    this.sampleHistory(end);
    // The timeline catches up lazily (viewHeap) or in slices when the host is idle (syncSome).
    this.position = end;
    this.version++;
    return { output: this.output.join(''), error, start, end };
  }

  private execute(input: SessionInput, control: JobControl): void {
    switch (input.kind) {
      case 'python':
        this.python.run(input.code);
        return;
      case 'trace': {
        input.trace.replay(new StreamReplay(this.heap, null, this.alloc), control.onProgress);
        return;
      }
      case 'workload':
        runWorkload(input.spec, { alloc: this.alloc, python: this.python }, control.onProgress === undefined ? {} : { onProgress: control.onProgress });
        return;
    }
  }

  /** Undoes the operations from `n` on: the live heap becomes the timeline's heap at n. */
  private rollback(n: number): void {
    const behind = n - this.timeline.synced;
    if (behind > 0) this.timeline.sync(behind);
    copyHeapInto(this.timeline.seek(n), this.heap);
    this.log.truncate(n);
    this.timeline.truncate(n);
    while (this.history.length > 0 && this.history[this.history.length - 3]! > n) this.history.length -= 3;
  }

  private sampleHistory(op: number): void {
    const h = this.history;
    if (h.length >= 3 && h[h.length - 3] === op) return;
    const heap = this.heap;
    h.push(op, heap.narenasCurrentlyAllocated, heap.poolBytesInUse);
  }

  // =========================================================================================
  // Timeline
  // =========================================================================================

  seek(position: number): void {
    const p = Math.max(0, Math.min(this.log.length, Math.trunc(position)));
    if (p === this.position) return;
    this.position = p;
    this.version++;
  }

  step(delta: number): void {
    this.seek(this.position + delta);
  }

  /** Moves to the next (1) or previous (-1) marker or bookmark. */
  seekMarker(direction: 1 | -1): void {
    const ops = this.markerOps();
    const p = this.position;
    let target = direction > 0 ? this.log.length : 0;
    for (const op of ops) {
      if (direction > 0 && op > p && op < target) target = op;
      if (direction < 0 && op < p && op > target) target = op;
    }
    this.seek(target);
  }

  private markerOps(): number[] {
    const ops = this.markers.map((m) => m.op);
    for (const b of this.ui.bookmarks) ops.push(b.op);
    for (const i of this.inputs) ops.push(i.end);
    return ops;
  }

  allMarkers(): Marker[] {
    return [...this.markers, ...this.ui.bookmarks.map((b) => ({ op: b.op, kind: 'bookmark' as const, label: b.label }))].sort((a, b) => a.op - b.op);
  }

  // =========================================================================================
  // Objects
  // =========================================================================================

  /**
   * The live object whose PyObject starts at `address`, or whose block starts there; static
   * objects (not on the heap) by their address. Reachable from the console's names only.
   */
  objectAt(address: number): PyObj | null {
    if (!this.atEnd()) return null;
    const seen = new Set<PyObj>();
    const stack: PyObj[] = [...this.python.interp.globals.values()];
    const space = this.space;
    while (stack.length > 0) {
      const o = stack.pop()!;
      if (seen.has(o)) continue;
      seen.add(o);
      if (o.isStatic) {
        // A static object (the small-int cache, None, True, ...) lives in libpython's data.
        if (address === o.address) return o;
      } else if (o.handle !== 0) {
        const base = space.userAddress(o.handle);
        if (address === o.address || address === base || this.heap.addressOf(o.handle) === address) return o;
      }
      for (const r of space.referents(o)) stack.push(r);
    }
    return null;
  }

  // =========================================================================================
  // Documents
  // =========================================================================================

  toDoc(): SessionDoc {
    return {
      settings: structuredCloneSettings(this.settings),
      inputs: this.inputs.map((i) => i.input),
      position: this.position,
      ui: { ...this.ui, bookmarks: this.ui.bookmarks.map((b) => ({ ...b })) },
    };
  }

  /** Rebuilds a session from its document: every input re-run, then the saved position. */
  static fromDoc(doc: SessionDoc, control: JobControl = {}): LiveSession {
    const s = new LiveSession(doc.settings);
    const total = doc.inputs.length;
    doc.inputs.forEach((input, i) => {
      s.runInput(input, { ...(control.shouldCancel === undefined ? {} : { shouldCancel: control.shouldCancel }) }, true);
      control.onProgress?.(i + 1, total);
    });
    s.ui = { ...doc.ui, bookmarks: doc.ui.bookmarks.map((b) => ({ ...b })) };
    if (doc.position > s.total) throw new Error(`session position ${doc.position} is past the end of its ${s.total} operations`);
    s.seek(doc.position);
    return s;
  }
}

function structuredCloneSettings(s: SessionSettings): SessionSettings {
  return {
    ...s,
    placement: s.placement.kind === 'offsets' ? { kind: 'offsets', offsets: [...s.placement.offsets] } : { ...s.placement },
  };
}

export function inputLabel(input: SessionInput): string {
  switch (input.kind) {
    case 'python': {
      const first = input.code.split('\n').find((l) => l.trim() !== '') ?? '';
      return first.length > 40 ? first.slice(0, 39) + '…' : first;
    }
    case 'trace':
      return `trace ${input.name}`;
    case 'workload':
      return input.spec.kind === 'python' ? `workload ${input.spec.scenario} ×${input.spec.count}` : `workload ${input.spec.kind} seed ${input.spec.seed}`;
  }
}
