/**
 * The answers to the renderer's queries, computed in the worker from the heap at the current
 * position: summaries, pool and arena headers, blocks, the size-class table, objects.
 * Shapes are the protocol's (src/shared/protocol.ts); the core stays unaware of them.
 */
import type { PymallocHeap } from '../core/pymalloc/heap';
import { arenaObjectView, locate, poolBlocks, poolHeaderView, isCarved, type Field as CoreField } from '../core/pymalloc/inspect';
import { layoutOf, objectBytes } from '../core/objects/layout';
import { blockBytes, freedBlockBytes, indexOwners, type BlockBytes } from '../core/objects/bytes';
import { formatMallocStats, mallocStats } from '../core/pymalloc/stats';
import type { LiveSession } from '../core/session/live';
import type { ObjectSpace, PyObj } from '../core/objects/space';
import { GlibcMalloc } from '../core/raw/glibc-malloc';
import { MAPPING_KINDS, type ArenaInfo, type ArenaUsage, type BlockInfo, type Field, type HeapStats, type HeapSummary, type ObjectInfo, type PoolInfo, type SizeClassRow } from '../shared/protocol';

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function field(f: CoreField): Field {
  const pointer = f.target !== undefined && f.size === 8;
  return {
    name: f.name,
    offset: f.offset,
    size: f.size,
    value: pointer ? `${hex(f.value)}${f.target ? ` (${f.target})` : ''}` : String(f.value),
    pointsTo: pointer && f.value !== 0 ? f.value : null,
  };
}

export function heapSummary(heap: PymallocHeap, position: number, total: number): HeapSummary {
  let poolsUsed = 0;
  let poolsFree = 0;
  for (let a = 0; a < heap.maxarenas; a++) {
    if (heap.arenaAddress[a] === 0) continue;
    const base = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    for (let i = 0; i < carved; i++) if (heap.ref[base + i]! > 0) poolsUsed++;
    poolsFree += heap.nfreepools[a]!;
  }
  const k = heap.counters();
  const raw = heap.raw as { inUse?: () => { blocks: number; bytes: number } };
  const rawUse = typeof raw.inUse === 'function' ? raw.inUse() : { blocks: heap.rawAllocatedBlocks, bytes: 0 };
  return {
    position,
    total,
    arenasLive: k.live,
    arenasHighwater: k.highwater,
    arenasAllocatedTotal: k.allocatedTotal,
    poolsUsed,
    poolsFree,
    blocksAllocated: heap.allocatedBlocks(),
    arenaBytes: k.live * heap.arenaSize,
    blockBytes: heap.poolBytesInUse,
    rawBlocks: rawUse.blocks,
    rawBytes: rawUse.bytes,
    poolsPerArena: heap.maxPools,
    maxarenas: heap.maxarenas,
  };
}

/** Pool slot (arena * pools per arena + ordinal) to pool id, or null when out of range. */
function poolOfSlot(heap: PymallocHeap, slot: number): number | null {
  const arena = Math.floor(slot / heap.maxPools);
  if (arena >= heap.maxarenas) return null;
  return heap.poolId(arena, slot % heap.maxPools);
}

export function poolInfo(heap: PymallocHeap, slot: number): PoolInfo | null {
  const pool = poolOfSlot(heap, slot);
  if (pool === null) return null;
  const arena = heap.arenaOfPool(pool);
  if (!heap.isArenaLive(arena)) return null;
  const ordinal = heap.ordinalOfPool(pool);
  const view = poolHeaderView(heap, pool);
  const carved = isCarved(heap, pool);
  const blocks = poolBlocks(heap, pool);
  const szidx = carved ? heap.szidx[pool]! : -1;
  return {
    slot,
    arena,
    ordinal,
    address: view.address,
    carved,
    header: view.fields.map(field),
    sizeClass: szidx,
    blockSize: carved ? heap.blockSizeOfClass(szidx) : 0,
    capacity: carved ? heap.capacity[szidx]! : 0,
    // protocol: 0 never used, 1 free, 2 in use (inspect.ts: 0 untouched, 1 in use, 2 free)
    blocks: blocks === null ? [] : Array.from(blocks.states, (s) => (s === 0 ? 0 : s === 1 ? 2 : 1)),
    freeList: blocks === null ? [] : blocks.freeOrder,
  };
}

export function arenaInfo(heap: PymallocHeap, index: number): ArenaInfo | null {
  if (index >= heap.maxarenas) return null;
  const view = arenaObjectView(heap, index);
  const usable = heap.usableArenasList();
  const pos = usable.indexOf(index);
  return { index, address: view.address, fields: view.fields.map(field), usableArenasPosition: pos < 0 ? null : pos };
}

export function sizeClassRows(heap: PymallocHeap): SizeClassRow[] {
  const rows: SizeClassRow[] = [];
  for (let c = 0; c < heap.nsent; c++) rows.push({ sizeClass: c, blockSize: heap.blockSizeOfClass(c), pools: 0, blocksInUse: 0, blocksAvailable: 0 });
  for (let a = 0; a < heap.maxarenas; a++) {
    if (heap.arenaAddress[a] === 0) continue;
    const base = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    for (let i = 0; i < carved; i++) {
      const p = base + i;
      const ref = heap.ref[p]!;
      if (ref === 0) continue;
      const row = rows[heap.szidx[p]!]!;
      row.pools++;
      row.blocksInUse += ref;
      row.blocksAvailable += heap.capacity[heap.szidx[p]!]! - ref;
    }
  }
  return rows;
}

/** Arenas listed in `HeapStats.pinned`. */
const PINNED_LIST = 64;

export function heapStats(heap: PymallocHeap): HeapStats {
  const m = mallocStats(heap);
  const usage: ArenaUsage[] = [];
  for (let a = 0; a < heap.maxarenas; a++) {
    const address = heap.arenaAddress[a]!;
    if (address === 0) continue;
    const base = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    const u: ArenaUsage = { index: a, address, poolsUsed: 0, poolsFree: heap.nfreepools[a]!, blocks: 0, bytes: 0 };
    for (let i = 0; i < carved; i++) {
      const ref = heap.ref[base + i]!;
      if (ref === 0) continue;
      u.poolsUsed++;
      u.blocks += ref;
      u.bytes += ref * heap.blockSizeOfClass(heap.szidx[base + i]!);
    }
    usage.push(u);
  }
  const pinnedCount = usage.filter((u) => u.blocks > 0 && u.bytes * 10 <= heap.arenaSize).length;
  usage.sort((x, y) => x.blocks - y.blocks || x.index - y.index);
  const am = m.arenaMap;
  return {
    text: formatMallocStats(heap),
    arenasCurrent: m.arenasCurrent,
    arenaSize: heap.arenaSize,
    poolSize: heap.profile.poolSize,
    allocatedBytes: m.allocatedBytes,
    availableBytes: m.availableBytes,
    unusedPools: m.unusedPools,
    unusedPoolBytes: m.unusedPools * heap.profile.poolSize,
    poolHeaderBytes: m.poolHeaderBytes,
    quantization: m.quantization,
    arenaAlignment: m.arenaAlignment,
    total: m.total,
    arenaMapBytes: am === null ? null : am.rootBytes + am.midBytes + am.botBytes,
    pinned: usage.slice(0, PINNED_LIST),
    pinnedCount,
  };
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** An object's layout for the inspector, with the bytes shown and those lost to rounding. */
function objectInfo(space: ObjectSpace, o: PyObj, bytes: Uint8Array, lost: number): ObjectInfo {
  const L = layoutOf(space, o);
  return {
    type: o.type,
    address: o.address,
    refcount: o.refcnt,
    size: L.getsizeof,
    fields: L.fields.map((f) => ({
      name: f.name,
      offset: f.offset,
      size: f.size,
      value: f.value === null ? '' : typeof f.value === 'string' ? f.value : String(f.value),
      pointsTo: typeof f.value === 'string' && /^0x[0-9a-f]+$/.test(f.value) ? Number.parseInt(f.value, 16) : null,
      meaning: f.meaning,
    })),
    bytes: toHex(bytes),
    lost,
    note: null,
  };
}

/** A static object at `info.address` (the small-int cache, None, ...): no block, its layout. */
function staticObject(session: LiveSession, info: BlockInfo): BlockInfo {
  const o = session.objectAt(info.address);
  if (o === null || !o.isStatic) return info;
  info.object = objectInfo(session.space, o, objectBytes(session.space, o), 0);
  info.note =
    o.type === 'int'
      ? "Static: a cached small int (-5..256), in libpython's data, not on the heap; every use of this value shares it."
      : "Static: a singleton of the interpreter, in libpython's data, not on the heap.";
  return info;
}

export function blockInfo(session: LiveSession, address: number): BlockInfo {
  const heap = session.viewHeap();
  const loc = locate(heap, address);
  const info: BlockInfo = {
    address,
    where: 'none',
    domain: null,
    sizeClass: null,
    blockSize: null,
    requested: null,
    arena: null,
    pool: null,
    block: null,
    object: null,
    contents: null,
    note: null,
  };
  if (loc.kind === 'block') {
    info.where = 'pool';
    info.address = loc.blockAddress;
    info.sizeClass = loc.szidx;
    info.blockSize = heap.blockSizeOfClass(loc.szidx);
    info.arena = loc.arena;
    info.pool = loc.arena * heap.maxPools + loc.ordinal;
    info.block = loc.block;
    if (loc.state === 'untouched') return info;
  } else if (loc.kind === 'outside') {
    // The C library's memory: a chunk the program owns, or free memory of malloc's.
    const raw = heap.raw;
    const chunk = raw instanceof GlibcMalloc ? raw.chunkAt(address) : null;
    if (chunk === null) return staticObject(session, info);
    info.where = 'raw';
    info.address = chunk.chunk + 16;
    info.blockSize = chunk.inUse ? (chunk.mmapped ? chunk.size - 16 : chunk.size - 8) : null;
    if (!chunk.inUse) {
      info.note = `Free memory of malloc (${chunk.bin ?? 'top'}): ${chunk.size} bytes at 0x${chunk.chunk.toString(16)}.`;
      return info;
    }
  } else {
    // Inside an arena but in no block: a pool's header or tail, a pool never carved, or the
    // arena's alignment gap.
    info.arena = loc.arena;
    if (loc.kind !== 'arena-alignment') {
      info.where = 'pool';
      info.pool = loc.arena * heap.maxPools + loc.ordinal;
    }
    return info;
  }
  if (!session.atEnd()) {
    info.note = 'Objects and their bytes are known at the end of the timeline; move there to see what this block holds.';
    return info;
  }
  const space = session.space;
  const h = info.where === 'raw' ? -info.address : heap.handleAt(info.address);
  const owners = indexOwners(space, session.python.interp.globals.values());
  const owner = owners.get(h) ?? null;
  let bb: BlockBytes | null = null;
  if (owner !== null) bb = blockBytes(space, h, owner);
  else if (loc.kind === 'block' && loc.state === 'free') bb = freedBlockBytes(space, h);
  if (bb === null) {
    if (info.where === 'raw') info.note = "A malloc chunk the console's objects do not own (the arena vector, a radix-tree node, a trace's or workload's block): its contents are not modelled.";
    else info.note = loc.kind === 'block' && loc.state === 'in use' ? 'A block the console did not make (a trace or workload): its contents are not modelled.' : null;
    return info;
  }
  if (info.where === 'raw') {
    info.address = bb.address;
    info.blockSize = bb.size;
  }
  info.domain = bb.domain;
  info.requested = bb.requested;
  // Exact bytes, and pointers as the simulated addresses they hold (a real process has other
  // addresses there, but they point to the same things).
  const shown = Uint8Array.from(bb.exact);
  for (const r of bb.ranges) if (r.known === 'pointer' && r.value !== undefined) shown.fill(1, r.start, r.end);
  info.contents = {
    what: bb.what,
    state: bb.state,
    address: bb.address,
    dataAddress: bb.dataAddress,
    domain: bb.domain,
    requested: bb.requested,
    size: bb.size,
    hex: Array.from(bb.bytes, (b, i) => (shown[i] === 1 ? b.toString(16).padStart(2, '0') : '..')),
    ranges: bb.ranges.map((r) => ({
      start: r.start,
      end: r.end,
      label: r.label,
      known: r.known,
      target: r.target ?? null,
      pointsTo: r.value ?? null,
      note: r.note ?? null,
    })),
  };
  if (owner !== null && owner.kind === 'object') {
    info.object = objectInfo(space, owner.obj, bb.bytes, bb.size - bb.total);
  }
  return info;
}

/** Live chunks listed at most by the `rawChunks` query (17 bytes each on the wire). */
export const MAX_RAW_CHUNKS = 1 << 20;

/** The raw allocator's live chunks and the address space's mappings, as typed arrays. */
export interface RawMemory {
  chunks: Float64Array;
  sizes: Float64Array;
  mmapped: Uint8Array;
  truncated: boolean;
  heapStart: number;
  heapEnd: number;
  mapStarts: Float64Array;
  mapLengths: Float64Array;
  mapKinds: Uint8Array;
}

/** What the C library holds at this heap's position (empty when the raw allocator is not the glibc model). */
export function rawMemory(heap: PymallocHeap): RawMemory {
  const raw = heap.raw;
  if (!(raw instanceof GlibcMalloc)) {
    return { chunks: new Float64Array(0), sizes: new Float64Array(0), mmapped: new Uint8Array(0), truncated: false, heapStart: 0, heapEnd: 0, mapStarts: new Float64Array(0), mapLengths: new Float64Array(0), mapKinds: new Uint8Array(0) };
  }
  const live = raw.liveChunks();
  const n = Math.min(live.chunk.length, MAX_RAW_CHUNKS);
  const maps = raw.space.mappings();
  const kinds: readonly string[] = MAPPING_KINDS;
  return {
    chunks: n === live.chunk.length ? live.chunk : live.chunk.slice(0, n),
    sizes: n === live.size.length ? live.size : live.size.slice(0, n),
    mmapped: n === live.mmapped.length ? live.mmapped : live.mmapped.slice(0, n),
    truncated: n < live.chunk.length,
    heapStart: raw.space.brkStart,
    heapEnd: raw.space.brk,
    mapStarts: Float64Array.from(maps, (m) => m.start),
    mapLengths: Float64Array.from(maps, (m) => m.length),
    mapKinds: Uint8Array.from(maps, (m) => kinds.indexOf(m.kind)),
  };
}

/** Whether two answers of `rawMemory` are the same. */
export function sameRawMemory(a: RawMemory, b: RawMemory): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>): boolean => {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  };
  return (
    a.heapStart === b.heapStart &&
    a.heapEnd === b.heapEnd &&
    a.truncated === b.truncated &&
    eq(a.chunks, b.chunks) &&
    eq(a.sizes, b.sizes) &&
    eq(a.mmapped, b.mmapped) &&
    eq(a.mapStarts, b.mapStarts) &&
    eq(a.mapLengths, b.mapLengths) &&
    eq(a.mapKinds, b.mapKinds)
  );
}
