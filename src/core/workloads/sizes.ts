/**
 * Request sizes drawn from a seeded generator, the same on every machine and every version of
 * the app: a saved session re-runs its workloads from spec and seed, so the sizes must never
 * change. Only correctly rounded arithmetic is used (+, -, *, /, sqrt, floor): IEEE 754 fixes
 * their results exactly, while Math.exp/log/pow may differ in the last bit between engines.
 *
 * Log-uniform sizes: size = floor(lo * R^u) with R = (hi + 1) / lo and u uniform in [0, 1) on
 * a grid of 2^24 steps. R^u is the product of two table entries, R^(a / 2^12) and R^(b / 2^24)
 * (u = a / 2^12 + b / 2^24), each entry a product of the repeated square roots R^(2^-k).
 */
import type { SizeDistribution } from './spec';

export type Rng = () => number;

const HALF_BITS = 12;
const HALF = 1 << HALF_BITS;

export class SizeSampler {
  private readonly rnd: Rng;
  private readonly min: number;
  private readonly span: number;
  private readonly log: boolean;
  private readonly lo: number;
  private readonly hi: number;
  private readonly high: Float64Array | null = null;
  private readonly low: Float64Array | null = null;

  constructor(rnd: Rng, sizeMin: number, sizeMax: number, distribution: SizeDistribution) {
    this.rnd = rnd;
    this.min = sizeMin;
    this.span = sizeMax - sizeMin + 1;
    this.lo = Math.max(1, sizeMin);
    this.hi = sizeMax;
    this.log = distribution === 'log-uniform' && this.hi > this.lo;
    if (this.log) {
      // roots[k] = R^(2^-(k+1)), k = 0 .. 23, by repeated square roots.
      const roots = new Float64Array(2 * HALF_BITS);
      let r = (this.hi + 1) / this.lo;
      for (let k = 0; k < roots.length; k++) {
        r = Math.sqrt(r);
        roots[k] = r;
      }
      this.high = powTable(roots, 0);
      this.low = powTable(roots, HALF_BITS);
    }
  }

  /** The next request size, in [sizeMin, sizeMax] (log-uniform: in [max(1, sizeMin), sizeMax]). */
  next(): number {
    const u = this.rnd();
    if (!this.log) return this.min + Math.floor(u * this.span);
    const g = Math.floor(u * HALF * HALF);
    const x = Math.floor(this.lo * this.high![g >>> HALF_BITS]! * this.low![g & (HALF - 1)]!);
    return x < this.lo ? this.lo : x > this.hi ? this.hi : x;
  }
}

/** t[i] = product of roots[from + j] over the bits j of i (the most significant bit first). */
function powTable(roots: Float64Array, from: number): Float64Array {
  const t = new Float64Array(HALF);
  for (let i = 0; i < HALF; i++) {
    let x = 1;
    for (let j = 0; j < HALF_BITS; j++) if ((i >>> (HALF_BITS - 1 - j)) & 1) x *= roots[from + j]!;
    t[i] = x;
  }
  return t;
}
