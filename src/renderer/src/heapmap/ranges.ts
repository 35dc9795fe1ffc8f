/** Slot-range helpers for uploading only what changed (pure: unit-tested in test/renderer). */
import type { SlotRange } from './types';

/**
 * Clips ranges to [0, limit), sorts them, and merges those less than `gap` slots apart: a few
 * larger uploads cost less than many tiny ones, and with a gap below one texture row no whole
 * unchanged row is ever uploaded.
 */
export function coalesceRanges(ranges: readonly SlotRange[], gap: number, limit: number): SlotRange[] {
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, r.start), end: Math.min(limit, r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: SlotRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start - last.end < gap) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** Whether `slot` lies in one of `sorted` (ascending, disjoint) ranges: binary search. */
export function rangesContain(sorted: readonly SlotRange[], slot: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = sorted[mid]!;
    if (slot < r.start) hi = mid - 1;
    else if (slot >= r.end) lo = mid + 1;
    else return true;
  }
  return false;
}
