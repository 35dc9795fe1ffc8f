/**
 * Replaying traces through a simulated heap, and the placement dump of trace-format.md.
 *
 *   - `StreamReplay` is a TraceSink: each operation is applied as it is read, and its dump
 *     line goes to an output callback (used by `pyheap replay`).
 *   - `formatSummary` prints the summary and, with `internals`, pymalloc's own lists, in the
 *     exact format of the oracle (tools/pymalloc-oracle), byte for byte.
 */
import { PymallocHeap, BLOCK_MUL, NULL_ID, type ArenaSource, type RawAllocator } from '../pymalloc/heap';
import { getProfile } from '../profiles';
import { AddressSpace, FIXED_LAYOUT, randomizedLayout } from '../raw/address-space';
import { MmapArenaPlacer, OffsetArenaPlacer } from '../raw/arenas';
import { GlibcMalloc } from '../raw/glibc-malloc';
import { LiveTable } from './live-table';
import {
  OP_CALLOC,
  OP_FREE,
  OP_MALLOC,
  TraceError,
  idText,
  TraceReader,
  type TraceSink,
} from './reader';

export interface ReplayHeapOptions {
  python: string;
  /**
   * Deterministic placement: the arena offset list of trace-format.md (default [0]). Ignored
   * when `aslrSeed` is given.
   */
  arenaOffsets?: readonly number[];
  /**
   * Realistic Linux placement: arenas are mmapped top-down below a randomised mmap base drawn
   * from this seed (4 KiB granularity), sharing the address space with the C library's own
   * mmapped chunks, so on 3.10+ most arenas get 63 pools, as on real machines.
   */
  aslrSeed?: number;
  /** RLIMIT_AS-like cap on mapped bytes; allocations beyond it return NULL. */
  memoryLimit?: number;
}

/** A pymalloc heap wired to an arena placement and the glibc model, as replays use. */
export function createReplayHeap(options: ReplayHeapOptions): PymallocHeap {
  const profile = getProfile(options.python);
  const realistic = options.aslrSeed !== undefined;
  const space = new AddressSpace(realistic ? randomizedLayout(options.aslrSeed!) : FIXED_LAYOUT);
  if (options.memoryLimit !== undefined) space.limit = options.memoryLimit;
  const arenas: ArenaSource = realistic
    ? new MmapArenaPlacer(space)
    : new OffsetArenaPlacer(space, options.arenaOffsets ?? [0], profile.arenaSize);
  const raw: RawAllocator = new GlibcMalloc(space);
  return new PymallocHeap(profile, arenas, raw);
}

/** Dump text of results, with the `pool A:P:` text of each pool and the `:S` of each class cached. */
class PlacementFormatter {
  private readonly heap: PymallocHeap;
  private readonly poolText: string[] = [];
  private readonly blockText: string[] = [];
  private readonly classText: string[] = [];

  constructor(heap: PymallocHeap) {
    this.heap = heap;
    for (let b = 0; b < 1024; b++) this.blockText.push(String(b));
    for (let c = 0; c < heap.nsent; c++) this.classText.push(`:${c}`);
  }

  /** `pool A:P:B:S`, `raw -` or `null -`. */
  format(h: number): string {
    if (h === 0) return 'null -';
    if (h < 0) return 'raw -';
    const heap = this.heap;
    const pool = Math.floor(h / BLOCK_MUL);
    const block = h & (BLOCK_MUL - 1);
    let p = this.poolText[pool];
    if (p === undefined) {
      p = `pool ${heap.arenaOfPool(pool)}:${heap.ordinalOfPool(pool)}:`;
      this.poolText[pool] = p;
    }
    return p + (block < 1024 ? this.blockText[block]! : String(block)) + this.classText[heap.szidx[pool]!]!;
  }
}

/** The PyObject_* entry points a replay calls: the heap itself, or a session's recording door. */
export type ObjectAllocator = Pick<PymallocHeap, 'malloc' | 'calloc' | 'realloc' | 'free'>;

/**
 * Applies each operation as it is read; liveness errors are TraceErrors naming the line.
 * `emit` (null: no dump) gets the dump line of each a/c/r; the calls go to `alloc`, the heap
 * itself unless given (a live session passes its RecordingAllocator).
 */
export class StreamReplay implements TraceSink {
  readonly heap: PymallocHeap;
  /** Live blocks by name. */
  readonly live = new LiveTable();
  private readonly alloc: ObjectAllocator;
  private readonly emit: ((line: string) => void) | null;
  private readonly fmt: PlacementFormatter;

  constructor(heap: PymallocHeap, emit: ((line: string) => void) | null, alloc: ObjectAllocator = heap) {
    this.heap = heap;
    this.alloc = alloc;
    this.emit = emit;
    this.fmt = new PlacementFormatter(heap);
  }

  op(r: TraceReader): void {
    const heap = this.alloc;
    const id = r.id;
    let h: number;
    switch (r.kind) {
      case OP_MALLOC:
      case OP_CALLOC:
        if (this.live.get(id) !== 0) throw new TraceError(r.line, `id ${idText(id)} is already live`);
        h = r.kind === OP_MALLOC ? heap.malloc(r.size) : heap.calloc(r.count, r.size);
        if (h !== 0) this.live.set(id, h);
        break;
      case OP_FREE: {
        const old = this.live.get(id);
        if (old === 0) throw new TraceError(r.line, `free of id ${idText(id)}, which is not live`);
        heap.free(old);
        this.live.delete(id);
        return;
      }
      default: {
        h = heap.realloc(this.live.get(id), r.size);
        if (h !== 0) this.live.set(id, h);
      }
    }
    if (this.emit !== null) this.emit(`${id} ${this.fmt.format(h)}`);
  }
}

/** The summary of the placement dump (and, with `internals`, pymalloc's lists). */
export function formatSummary(heap: PymallocHeap, internals: boolean): string {
  const out: string[] = [];
  const nclasses = heap.nsent;
  const clsPools = new Array<number>(nclasses).fill(0);
  const clsUsed = new Array<number>(nclasses).fill(0);
  const clsAvail = new Array<number>(nclasses).fill(0);
  const live: number[] = [];
  for (let a = 0; a < heap.maxarenas; a++) {
    if (heap.arenaAddress[a] === 0) continue;
    live.push(a);
    out.push(`arena ${a} ${heap.nfreepools[a]} ${heap.ntotalpools[a]}`);
    const base = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    for (let i = 0; i < carved; i++) {
      const p = base + i;
      const ref = heap.ref[p]!;
      if (ref === 0) continue;
      const s = heap.szidx[p]!;
      clsPools[s]!++;
      clsUsed[s]! += ref;
      clsAvail[s]! += heap.capacity[s]! - ref;
    }
  }
  for (let c = 0; c < nclasses; c++) {
    if (clsPools[c]! > 0) out.push(`class ${c} ${heap.blockSizeOfClass(c)} ${clsPools[c]} ${clsUsed[c]} ${clsAvail[c]}`);
  }
  const k = heap.counters();
  out.push(`arenas_live ${k.live}`);
  out.push(`arenas_allocated_total ${k.allocatedTotal}`);
  out.push(`arenas_reclaimed ${k.reclaimed}`);
  out.push(`arenas_highwater ${k.highwater}`);
  out.push(`allocated_blocks ${heap.allocatedBlocks()}`);
  if (internals) {
    out.push(`maxarenas ${heap.maxarenas}`);
    out.push(['usable_arenas', ...heap.usableArenasList().map((a) => `${a}/${heap.nfreepools[a]}`)].join(' '));
    out.push(['unused_arena_objects', ...heap.unusedArenaObjectsList().map(String)].join(' '));
    if (heap.useNfp2lasta) {
      const parts = ['nfp2lasta'];
      for (let i = 0; i <= heap.maxPools; i++) {
        const a = heap.nfp2lasta[i]!;
        if (a !== NULL_ID) parts.push(`${i}:${a}`);
      }
      out.push(parts.join(' '));
    }
    for (const a of live) {
      const fp = heap.freepoolsOf(a).map((p) => String(heap.ordinalOfPool(p)));
      out.push([`arena_object ${a} next_carve ${heap.arenaNextCarve[a]} freepools`, ...fp].join(' '));
    }
    for (let c = 0; c < nclasses; c++) {
      const pools = heap.usedpoolsList(c);
      if (pools.length === 0) continue;
      out.push(
        [`usedpools ${c}`, ...pools.map((p) => `${heap.poolArenaIndex[p]}:${heap.ordinalOfPool(p)}/${heap.ref[p]}`)].join(' '),
      );
    }
  }
  return out.join('\n') + '\n';
}

/** Replays a whole trace text and returns the dump (for tests and small traces). */
export function replayText(text: string, options: ReplayHeapOptions & { internals?: boolean }): string {
  const heap = createReplayHeap(options);
  const lines: string[] = [];
  const replay = new StreamReplay(heap, (l) => lines.push(l));
  const reader = new TraceReader(replay);
  reader.push(text);
  reader.end();
  return (lines.length > 0 ? lines.join('\n') + '\n' : '') + formatSummary(heap, options.internals ?? false);
}
