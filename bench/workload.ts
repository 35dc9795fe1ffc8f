/**
 * Deterministic trace generators for the benchmarks (seeded, so every run measures the same
 * work): a typical CPython-like mix, and a grow-only trace that keeps N blocks live.
 */
import { mulberry32 } from '../src/core/raw/address-space';

/** Object sizes in the shape of a CPython heap: many small objects, some medium, few raw. */
export function typicalSize(rnd: () => number): number {
  const r = rnd();
  if (r < 0.45) return 16 + Math.floor(rnd() * 48); // ints, floats, small tuples
  if (r < 0.8) return 64 + Math.floor(rnd() * 128); // small dicts/lists/strings
  if (r < 0.98) return 192 + Math.floor(rnd() * 320);
  return 513 + Math.floor(rnd() * 4000);
}

/**
 * A churn trace, `ops` operations, live set oscillating around `live` blocks, handed to `emit`
 * in chunks of `chunkLines` lines (so a long trace is never held whole).
 */
export function churnChunks(ops: number, live: number, seed: number, emit: (text: string) => void, chunkLines = 100_000): void {
  const rnd = mulberry32(seed);
  const ids: number[] = [];
  let next = 0;
  let out: string[] = [];
  for (let i = 0; i < ops; i++) {
    const target = live * (1 + 0.5 * Math.sin(i / (ops / 6)));
    const r = rnd();
    if (ids.length === 0 || (ids.length < target && r < 0.7) || r < 0.45) {
      const id = next++;
      ids.push(id);
      out.push(rnd() < 0.03 ? `c ${id} 2 ${typicalSize(rnd) >> 1}` : `a ${id} ${typicalSize(rnd)}`);
    } else if (r < 0.9) {
      const j = Math.floor(rnd() * ids.length);
      out.push(`f ${ids[j]}`);
      ids[j] = ids[ids.length - 1]!;
      ids.pop();
    } else {
      const j = Math.floor(rnd() * ids.length);
      out.push(`r ${ids[j]} ${typicalSize(rnd)}`);
    }
    if (out.length === chunkLines) {
      emit(out.join('\n') + '\n');
      out = [];
    }
  }
  if (out.length > 0) emit(out.join('\n') + '\n');
}

/** A churn trace: ~`ops` operations, live set oscillating around `live` blocks. */
export function churnTrace(ops: number, live: number, seed: number): string {
  const parts: string[] = [];
  churnChunks(ops, live, seed, (t) => parts.push(t));
  return parts.join('');
}

/** `n` allocations of small blocks, none freed: n live blocks at the end. */
export function growTrace(n: number, seed: number): string {
  const rnd = mulberry32(seed);
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `a ${i} ${16 + Math.floor(rnd() * 112)}`;
  return out.join('\n') + '\n';
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
