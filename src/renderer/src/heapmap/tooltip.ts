/**
 * What the heap map's tooltip says about the thing under the pointer: pure text from a
 * pool-state value (pool-state.ts) and, at deep zoom, the pool's blocks (PoolInfo); in the raw
 * region, the malloc chunk or the free memory there.
 */
import type { PoolInfo } from '../../../shared/protocol';
import {
  POOL_ARENA_NOT_LIVE,
  POOL_EMPTY,
  POOL_FULLNESS_FULL,
  POOL_LOST,
  POOL_NEVER_CARVED,
  POOL_USED,
  poolFullnessOf,
  poolStatusOf,
  poolSzidxOf,
} from '../../../core/pymalloc/pool-state';
import { blockSizeOf } from './palette';

/** POOL_OVERHEAD: the pool header rounded up to ALIGNMENT, 48 in every profile (core/profiles). */
export const POOL_OVERHEAD = 48;

export interface HoverInfo {
  /** Pointer position in the map's element, CSS px (where the tooltip goes). */
  x: number;
  y: number;
  arena: number;
  /** Null when the pointer is on an arena tile but on no pool. */
  slot: number | null;
  ordinal: number | null;
  /** The pool's state value (0 when `slot` is null). */
  state: number;
  /** Block under the pointer (deep zoom, blocks loaded), else null. */
  block: number | null;
  /** The pool's blocks, when loaded. */
  pool: PoolInfo | null;
  /** The arena's address, when known (0 or absent: none). */
  arenaAddress?: number | null;
  /** In the raw region: what is there (the other fields are then unused). */
  raw?: RawHover | null;
}

/** The raw region under the pointer (raw.ts). */
export interface RawHover {
  /** The region: the brk heap, or an mmapped chunk's mapping. */
  kind: 'brk' | 'mmap';
  /** The byte under the pointer, and the region's extent. */
  address: number;
  regionStart: number;
  regionLength: number;
  /** The live chunk there (its header's address and its size in bytes), or null: free memory. */
  chunk: { address: number; size: number; mmapped: boolean } | null;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Lines for the raw region. */
function rawLines(r: RawHover): string[] {
  const c = r.chunk;
  if (c === null) {
    return [
      `${r.kind === 'mmap' ? 'mapping' : 'brk heap'} ${hex(r.regionStart)}–${hex(r.regionStart + r.regionLength)} (${plural(r.regionLength, 'byte')})`,
      `${hex(r.address)} · free: in glibc's bins, tcache, fastbins or top`,
    ];
  }
  // malloc_usable_size: the next chunk's prev_size word is usable in a heap chunk, not in an mmapped one.
  const usable = c.size - (c.mmapped ? 16 : 8);
  return [
    `malloc chunk ${hex(c.address)} · ${c.mmapped ? 'mmapped' : 'brk heap'}`,
    `${plural(c.size, 'byte')} · ${usable} usable · malloc returned ${hex(c.address + 16)}`,
  ];
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The tooltip's lines, first line the title. */
export function tooltipLines(h: HoverInfo, alignment: number): string[] {
  if (h.raw !== undefined && h.raw !== null) return rawLines(h.raw);
  const at = h.arenaAddress !== undefined && h.arenaAddress !== null && h.arenaAddress !== 0 ? `arena at ${hex(h.arenaAddress)}` : null;
  if (h.slot === null || h.ordinal === null) return at === null ? [`arena ${h.arena}`] : [`arena ${h.arena}`, at];
  const lines = poolLines(h, h.slot, h.ordinal, alignment);
  if (at !== null) lines.push(at);
  return lines;
}

function poolLines(h: HoverInfo, slot: number, ordinal: number, alignment: number): string[] {
  const lines = [`arena ${h.arena} · pool ${ordinal} (slot ${slot})`];
  const status = poolStatusOf(h.state);
  const szidx = poolSzidxOf(h.state);
  const size = h.pool !== null && h.pool.carved ? h.pool.blockSize : blockSizeOf(szidx, alignment);
  const cls = h.pool !== null && h.pool.carved ? h.pool.sizeClass : szidx;
  switch (status) {
    case POOL_ARENA_NOT_LIVE:
      lines.push('no arena in this slot');
      return lines;
    case POOL_LOST:
      lines.push('lost to arena alignment (the arena is not pool-aligned)');
      return lines;
    case POOL_NEVER_CARVED:
      lines.push('never carved: fresh arena memory');
      return lines;
    case POOL_EMPTY:
      lines.push(`empty pool (on freepools), last held class ${cls} · ${size}-byte blocks`);
      break;
    case POOL_USED: {
      lines.push(`size class ${cls} · ${size}-byte blocks`);
      const f = poolFullnessOf(h.state);
      if (h.pool === null) lines.push(f === POOL_FULLNESS_FULL ? 'full' : `fullness ${f}/15`);
      break;
    }
    default:
      lines.push(`invalid state 0x${h.state.toString(16)}`);
      return lines;
  }
  if (h.pool !== null) {
    let used = 0;
    let free = 0;
    let never = 0;
    for (const b of h.pool.blocks) {
      if (b === 2) used++;
      else if (b === 1) free++;
      else never++;
    }
    lines.push(`${used} of ${h.pool.capacity} blocks in use · ${free} free · ${never} never used`);
    if (h.block !== null) {
      const b = h.block;
      const st = h.pool.blocks[b];
      const offset = `0x${(h.pool.address + POOL_OVERHEAD + b * h.pool.blockSize).toString(16)}`;
      if (st === 2) lines.push(`block ${b} (${offset}) · in use`);
      else if (st === 1) {
        const at = h.pool.freeList.indexOf(b);
        lines.push(`block ${b} (${offset}) · free` + (at >= 0 ? `, #${at + 1} of ${plural(h.pool.freeList.length, 'free-list entry', 'free-list entries')}` : ''));
      } else lines.push(`block ${b} (${offset}) · never used`);
    }
  }
  return lines;
}
