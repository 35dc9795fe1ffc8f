/**
 * The allocator-level workloads: they call PyObject_Malloc / PyObject_Free (`Allocator.malloc`
 * and `free`) directly, as a C extension or a trace would. Each step is exactly one allocator
 * call, so on a RecordingAllocator the operation log grows by one entry per step.
 *
 *   churn          allocate until `liveTarget` blocks are live, then free a random live block
 *                  and allocate a new one, alternately (a steady state over the distribution);
 *   fragmentation  allocate `blocks` blocks, then free floor(blocks * releaseFraction) of them
 *                  chosen at random: the survivors keep their pools, and their pools keep
 *                  their arenas, so most of the memory cannot go back to the OS.
 *
 * Both draw from mulberry32(seed) (sizes first, then the choice of a victim where there is
 * one), so a spec and a seed give the same calls on every run. A malloc that returns NULL
 * (a memory limit) is still a step; it just adds no live block (fragmentation then releases
 * the fraction of the blocks it got, and ends short of its planned total).
 */
import type { Allocator } from '../trace/oplog';
import { mulberry32 } from '../raw/address-space';
import { checkpoint, progressEvery, type LoopOutcome, type WorkloadControl } from './control';
import { SizeSampler } from './sizes';
import type { ChurnSpec, FragmentationSpec } from './spec';

/** Live block handles, growing as needed (a liveTarget of 10^8 must not allocate 800 MB up front). */
class Handles {
  a: Float64Array;
  n = 0;
  constructor(expected: number) {
    this.a = new Float64Array(Math.max(16, Math.min(expected, 1 << 16)));
  }
  push(h: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = h;
  }
}

export function churnTotal(spec: ChurnSpec): number {
  return spec.operations;
}

export function runChurn(spec: ChurnSpec, alloc: Allocator, control: WorkloadControl): LoopOutcome {
  const rnd = mulberry32(spec.seed);
  const sizes = new SizeSampler(rnd, spec.sizeMin, spec.sizeMax, spec.distribution);
  const live = new Handles(spec.liveTarget);
  const target = spec.liveTarget;
  const total = spec.operations;
  const every = progressEvery(control);
  let next = 0;
  for (let i = 0; i < total; i++) {
    if (i === next) {
      next += every;
      if (checkpoint(control, i, total)) return { steps: i, cancelled: true };
    }
    if (live.n >= target) {
      const a = live.a;
      const j = Math.floor(rnd() * live.n);
      const h = a[j]!;
      a[j] = a[--live.n]!;
      alloc.free(h);
    } else {
      const h = alloc.malloc(sizes.next());
      if (h !== 0) live.push(h);
    }
  }
  control.onProgress?.(total, total);
  return { steps: total, cancelled: false };
}

export function fragmentationReleases(spec: FragmentationSpec): number {
  return Math.floor(spec.blocks * spec.releaseFraction);
}

export function fragmentationTotal(spec: FragmentationSpec): number {
  return spec.blocks + fragmentationReleases(spec);
}

export function runFragmentation(spec: FragmentationSpec, alloc: Allocator, control: WorkloadControl): LoopOutcome {
  const rnd = mulberry32(spec.seed);
  const sizes = new SizeSampler(rnd, spec.sizeMin, spec.sizeMax, spec.distribution);
  const live = new Handles(spec.blocks);
  const total = fragmentationTotal(spec);
  const every = progressEvery(control);
  let next = 0;
  let step = 0;
  for (let i = 0; i < spec.blocks; i++, step++) {
    if (step === next) {
      next += every;
      if (checkpoint(control, step, total)) return { steps: step, cancelled: true };
    }
    const h = alloc.malloc(sizes.next());
    if (h !== 0) live.push(h);
  }
  // Release: a partial Fisher-Yates shuffle picks each victim among the blocks still live.
  const a = live.a;
  const n = live.n;
  // floor(live * releaseFraction): all `blocks` unless some malloc returned NULL.
  const releases = Math.floor(n * spec.releaseFraction);
  for (let k = 0; k < releases; k++, step++) {
    if (step === next) {
      next += every;
      if (checkpoint(control, step, total)) return { steps: step, cancelled: true };
    }
    const j = k + Math.floor(rnd() * (n - k));
    const h = a[j]!;
    a[j] = a[k]!;
    a[k] = h;
    alloc.free(h);
  }
  control.onProgress?.(total, total);
  return { steps: step, cancelled: false };
}
