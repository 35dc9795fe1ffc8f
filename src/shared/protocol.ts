/**
 * Every message between renderer, main and the simulation worker, and nothing else.
 *
 *   renderer --(preload: one function per operation)--> main --(WorkerRequest)--> worker
 *   renderer <--(HostEvent over one channel)----------- main <--(WorkerMessage)-- worker
 *
 * Requests are a discriminated union on `op`; each has a result type in `ResultOf`. Events are
 * a discriminated union on `kind`. Bulk data (the per-pool state of a heap, a saved session)
 * travels as ArrayBuffers (transferred between worker and main), never as JSON arrays.
 *
 * Cancellation does not go through the message queue (the worker is busy running the job it
 * should stop): main sets a flag in a SharedArrayBuffer the worker polls.
 */
import type { SessionSettings, UiState } from '../core/session/model';
import type { WorkloadSpec } from '../core/workloads/spec';

// =============================================================================================
// Requests (renderer -> main -> worker)
// =============================================================================================

export type SimRequest =
  /** Start an empty session. */
  | { op: 'newSession'; settings: SessionSettings }
  /** Load a session from the bytes of a .pyheap file (main reads the file). */
  | { op: 'loadSession'; bytes: ArrayBuffer; name: string }
  /** Encode the session (main writes the file atomically). */
  | { op: 'encodeSession' }
  /**
   * Run code in the console; its operations are appended to the timeline. `interruptedAt` is
   * for main restoring a session after a worker restart: stop where the user had cancelled.
   */
  | { op: 'runPython'; code: string; interruptedAt?: number }
  /** Import an allocation trace (trace-format.md) as a new input. */
  | { op: 'importTrace'; name: string; text: string; interruptedAt?: number }
  | { op: 'startWorkload'; spec: WorkloadSpec; interruptedAt?: number }
  /** Move the timeline by `delta` operations (negative: back). */
  | { op: 'step'; delta: number }
  | { op: 'seek'; position: number }
  /** Move to the previous/next marker (statement, input or bookmark). */
  | { op: 'seekMarker'; direction: 1 | -1 }
  | { op: 'play'; opsPerSecond: number }
  | { op: 'pause' }
  | { op: 'setUi'; ui: UiState }
  | { op: 'query'; query: SimQuery };

export type SimQuery =
  | { what: 'summary' }
  /**
   * The per-pool state array (see core/pymalloc/pool-state.ts), whole, or with `ranges` only
   * those slot ranges as they are now (the renderer asks for the ranges a `state` event named).
   */
  | {
      what: 'poolStates';
      ranges?: { start: number; end: number }[];
      /**
       * The `arenaVersion` of the arena addresses the caller holds: they are sent again only
       * when they changed since (an arena allocated or freed, another position or session).
       * Leave it out to always get them.
       */
      arenaVersion?: number;
    }
  /** Pool slot = arena index * pools per arena + ordinal. */
  | { what: 'pool'; slot: number }
  | { what: 'arena'; index: number }
  | { what: 'block'; address: number }
  | { what: 'sizeClasses' }
  /** The `sys._debugmallocstats()` figures and text, and how arenas are pinned (fragmentation). */
  | { what: 'stats' }
  | { what: 'markers' }
  | { what: 'history'; points: number }
  /**
   * The C library's side of the heap at the current position: the live malloc chunks (brk heap
   * and mmapped) and the address space's mappings (RawChunksResult). `since`: the `version`
   * the caller holds; when nothing changed since, the arrays are left out.
   */
  | { what: 'rawChunks'; since?: number };

export type RequestOp = SimRequest['op'];

// =============================================================================================
// Results
// =============================================================================================

export interface SessionState {
  python: string;
  pythonMalloc: string;
  placement: string;
  /** Timeline: operations applied at the current position, and in all. */
  position: number;
  total: number;
  inputs: InputInfo[];
  ui: UiState;
  /** Bumped on every change of the heap shown (position or contents). */
  version: number;
}

export interface InputInfo {
  kind: 'python' | 'trace' | 'workload';
  label: string;
  /** Timeline range of its operations. */
  start: number;
  end: number;
  interrupted: boolean;
}

export interface RunResult {
  /** What the program printed. */
  output: string;
  /** `line L col C: ...` for a syntax error or an uncaught exception, else null. */
  error: string | null;
  /** The new operations: [start, end). */
  start: number;
  end: number;
  state: SessionState;
}

export interface HeapSummary {
  position: number;
  total: number;
  arenasLive: number;
  arenasHighwater: number;
  arenasAllocatedTotal: number;
  poolsUsed: number;
  poolsFree: number;
  blocksAllocated: number;
  /** Bytes in arenas, in used blocks, and requested by the program (when known). */
  arenaBytes: number;
  blockBytes: number;
  rawBlocks: number;
  rawBytes: number;
  /** Pools per arena, and the number of arena slots the pool-state array covers. */
  poolsPerArena: number;
  maxarenas: number;
}

export interface PoolStatesResult {
  version: number;
  /** Number of pool slots (maxarenas * poolsPerArena). */
  length: number;
  /** Full array, or only the changed ranges when `since` was the previous version. */
  full: boolean;
  ranges: { start: number; data: ArrayBuffer }[];
  /** Bumped whenever the arena addresses differ from the previous answer's. */
  arenaVersion: number;
  /**
   * Float64Array, one per arena index (length / poolsPerArena of them): the address of the
   * arena's memory, 0 where no arena is associated. Null when the query's `arenaVersion` is
   * this one (the caller's copy is current). The heap map lays arenas out in address order.
   */
  arenaAddresses: ArrayBuffer | null;
}

/** Mapping kinds in RawChunksResult.mapKinds (core/raw/address-space.ts MappingKind). */
export const MAPPING_KINDS = ['arena', 'mmap-chunk', 'brk-heap', 'reserved'] as const;

/** The raw allocator's live chunks and the mappings of the address space (query `rawChunks`). */
export interface RawChunksResult {
  /** Bumped whenever the chunks, the brk heap or the mappings differ from the previous answer's. */
  version: number;
  /** False when the query's `since` was this version: every array below is then empty. */
  changed: boolean;
  /**
   * Live chunks in address order (core/raw/glibc-malloc.ts liveChunks): Float64Array chunk
   * addresses (the user pointer is chunk + 16), Float64Array chunk sizes in bytes (an mmapped
   * chunk's is its mapping's length), Uint8Array 1 for an mmapped chunk, 0 for a brk heap one.
   */
  chunks: ArrayBuffer;
  sizes: ArrayBuffer;
  mmapped: ArrayBuffer;
  /** More live chunks than MAX_RAW_CHUNKS: only the lowest ones are listed. */
  truncated: boolean;
  /** The brk heap: [heapStart, heapEnd) (heapEnd = the program break). */
  heapStart: number;
  heapEnd: number;
  /** Mappings in address order: Float64Array starts and lengths, Uint8Array MAPPING_KINDS indexes. */
  mapStarts: ArrayBuffer;
  mapLengths: ArrayBuffer;
  mapKinds: ArrayBuffer;
  /** Bytes of one pool of the session's CPython (the heap map draws raw memory at that scale). */
  poolSize: number;
}

export interface Field {
  name: string;
  offset: number;
  size: number;
  value: string;
  /** Address this field points to, when it is a pointer into the heap. */
  pointsTo: number | null;
  /** What the field means (object layouts), when known. */
  meaning?: string;
}

export interface PoolInfo {
  slot: number;
  arena: number;
  ordinal: number;
  address: number;
  carved: boolean;
  header: Field[];
  sizeClass: number;
  blockSize: number;
  capacity: number;
  /** Per block: 0 never used, 1 free, 2 in use. */
  blocks: number[];
  /** Free-list order: block indexes from `freeblock`. */
  freeList: number[];
}

export interface ArenaInfo {
  index: number;
  address: number;
  fields: Field[];
  usableArenasPosition: number | null;
}

export interface BlockInfo {
  address: number;
  /**
   * 'pool' or 'raw' or 'none'. 'pool' with `block` null: inside a pool but in no block (its
   * header, its tail, or a pool never carved); `arena` alone: the arena's alignment gap.
   */
  where: 'pool' | 'raw' | 'none';
  domain: string | null;
  sizeClass: number | null;
  blockSize: number | null;
  requested: number | null;
  arena: number | null;
  pool: number | null;
  block: number | null;
  /** The object that lives there at the current position, when the console made it. */
  object: ObjectInfo | null;
  /**
   * The block's bytes as far as the simulation knows them (any block the console's objects
   * own, live or freed), or null: a trace's or workload's block, or a position before the end
   * of the timeline (object contents are known at the end only; see `note`).
   */
  contents: BlockContents | null;
  note: string | null;
}

/** The bytes of one block, annotated (core/objects/bytes.ts). */
export interface BlockContents {
  /** What the block holds: 'int object', 'list items', 'dict keys', 'freed block', ... */
  what: string;
  state: 'live' | 'freed';
  /** Address of the block's first byte, and the address the program sees (after debug hooks). */
  address: number;
  dataAddress: number;
  domain: string | null;
  requested: number;
  /** Bytes of the block (pool block size, or the usable size of a malloc chunk). */
  size: number;
  /**
   * Hex pairs, one per byte of the block; '..' where the byte is not modelled. Pointers show
   * the simulated address they hold (ranges of `known: 'pointer'`).
   */
  hex: string[];
  ranges: ByteRangeInfo[];
}

export interface ByteRangeInfo {
  start: number;
  end: number;
  label: string;
  known: 'exact' | 'pointer' | 'unknown';
  target: string | null;
  /** A pointer's address, for navigation. */
  pointsTo: number | null;
  note: string | null;
}

export interface ObjectInfo {
  type: string;
  address: number;
  refcount: number;
  size: number;
  fields: Field[];
  /** The block's bytes (hex pairs) and the bytes lost to rounding. */
  bytes: string;
  lost: number;
  /** Why the layout is only known at the end of the timeline. */
  note: string | null;
}

export interface SizeClassRow {
  sizeClass: number;
  blockSize: number;
  pools: number;
  blocksInUse: number;
  blocksAvailable: number;
}

/** `sys._debugmallocstats()` of the heap shown (core/pymalloc/stats.ts), plus fragmentation. */
export interface HeapStats {
  /** The text `_PyObject_DebugMallocStats` prints for pymalloc. */
  text: string;
  arenasCurrent: number;
  arenaSize: number;
  poolSize: number;
  allocatedBytes: number;
  availableBytes: number;
  unusedPools: number;
  unusedPoolBytes: number;
  poolHeaderBytes: number;
  quantization: number;
  arenaAlignment: number;
  total: number;
  /** Bytes of the radix tree's nodes (3.10+), else null. */
  arenaMapBytes: number | null;
  /**
   * Live arenas by blocks in use, fewest first (at most 64): an arena with few blocks in use
   * cannot be given back to the OS until the last one is freed.
   */
  pinned: ArenaUsage[];
  /** Live arenas with blocks in use that hold at most a tenth of ARENA_SIZE in them. */
  pinnedCount: number;
}

export interface ArenaUsage {
  index: number;
  address: number;
  poolsUsed: number;
  poolsFree: number;
  blocks: number;
  bytes: number;
}

export interface Marker {
  op: number;
  kind: 'input' | 'line' | 'bookmark';
  label: string;
}

export interface HistoryPoint {
  op: number;
  arenas: number;
  blockBytes: number;
}

export interface QueryResultOf {
  summary: HeapSummary;
  poolStates: PoolStatesResult;
  pool: PoolInfo | null;
  arena: ArenaInfo | null;
  block: BlockInfo;
  sizeClasses: SizeClassRow[];
  stats: HeapStats;
  markers: Marker[];
  history: HistoryPoint[];
  rawChunks: RawChunksResult;
}

export type ResultOf<R extends SimRequest> = R extends { op: 'query'; query: infer Q }
  ? Q extends { what: infer W extends keyof QueryResultOf }
    ? QueryResultOf[W]
    : never
  : R['op'] extends 'runPython' | 'importTrace' | 'startWorkload'
    ? RunResult
    : R['op'] extends 'encodeSession'
      ? ArrayBuffer
      : SessionState;

// =============================================================================================
// Events (worker -> main -> renderer)
// =============================================================================================

export type HostEvent =
  /** `total` 0: no known end (console code; `done` counts its allocator calls). */
  | { kind: 'progress'; job: string; done: number; total: number }
  /** The heap shown changed: new position, and the pool slots that changed. */
  | { kind: 'state'; state: SessionState; changed: { start: number; end: number }[] }
  | { kind: 'error'; message: string }
  /** The worker died and was restarted; the session was rebuilt up to `state`. */
  | { kind: 'restored'; state: SessionState; lost: string | null }
  /** Main asks the renderer to do something a menu or a dropped file triggered. */
  | { kind: 'command'; command: 'new' | 'open' | 'save' | 'saveAs' | 'close' | 'about'; path?: string };

// =============================================================================================
// Worker wire format (main <-> worker)
// =============================================================================================

export type WorkerInbound =
  | { type: 'request'; id: number; request: SimRequest }
  /** Sent once: the cancel flag (Int32Array over this buffer; index 0 != 0 means cancel). */
  | { type: 'init'; cancel: SharedArrayBuffer };

export type WorkerOutbound =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: string }
  | { type: 'event'; event: HostEvent };

// =============================================================================================
// Renderer API (preload)
// =============================================================================================

export interface AppInfo {
  name: string;
  version: string;
  pythonVersions: string[];
}

export interface FileResult {
  /** Path of the file, or null when the user cancelled the dialog. */
  path: string | null;
  state: SessionState | null;
}

/** What the preload exposes on `window.pyheap`. One function per operation. */
export interface PyHeapApi {
  appInfo(): Promise<AppInfo>;
  newSession(settings: SessionSettings): Promise<SessionState>;
  /** Opens a session file: `path` from a drop or Open Recent, or null to show a dialog. */
  openSession(path: string | null): Promise<FileResult>;
  /** Saves to the current file (or asks for one when there is none, or with `saveAs`). */
  saveSession(saveAs: boolean): Promise<FileResult>;
  runPython(code: string): Promise<RunResult>;
  importTrace(name: string, text: string): Promise<RunResult>;
  startWorkload(spec: WorkloadSpec): Promise<RunResult>;
  cancel(): Promise<void>;
  step(delta: number): Promise<SessionState>;
  seek(position: number): Promise<SessionState>;
  seekMarker(direction: 1 | -1): Promise<SessionState>;
  play(opsPerSecond: number): Promise<SessionState>;
  pause(): Promise<SessionState>;
  setUi(ui: UiState): Promise<SessionState>;
  query<Q extends SimQuery>(query: Q): Promise<QueryResultOf[Q['what']]>;
  /** The path of a file dropped on the window (Electron's webUtils), '' when it has none. */
  pathForFile(file: Blob & { readonly name: string }): string;
  /** Subscribes to host events; returns an unsubscribe function. */
  onEvent(listener: (event: HostEvent) => void): () => void;
}

export const IPC_CHANNELS = {
  appInfo: 'pyheap:app-info',
  newSession: 'pyheap:new-session',
  openSession: 'pyheap:open-session',
  saveSession: 'pyheap:save-session',
  runPython: 'pyheap:run-python',
  importTrace: 'pyheap:import-trace',
  startWorkload: 'pyheap:start-workload',
  cancel: 'pyheap:cancel',
  step: 'pyheap:step',
  seek: 'pyheap:seek',
  seekMarker: 'pyheap:seek-marker',
  play: 'pyheap:play',
  pause: 'pyheap:pause',
  setUi: 'pyheap:set-ui',
  query: 'pyheap:query',
  event: 'pyheap:event',
} as const;
