/**
 * What the heap map's tooltip says about the thing under the pointer: pure text from a
 * pool-state value (pool-state.ts) and, at deep zoom, the pool's blocks (PoolInfo).
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
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The tooltip's lines, first line the title. */
export function tooltipLines(h: HoverInfo, alignment: number): string[] {
  if (h.slot === null || h.ordinal === null) return [`arena ${h.arena}`];
  const lines = [`arena ${h.arena} · pool ${h.ordinal} (slot ${h.slot})`];
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
