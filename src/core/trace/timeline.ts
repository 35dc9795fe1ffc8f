/**
 * The timeline of a session: the heap at any position of its operation log, fast.
 *
 * How it is organised:
 *   - a builder heap follows the log. `sync()` replays the operations appended since the last
 *     call and takes a checkpoint (a snapshot of the whole simulator state, snapshot.ts) at
 *     every multiple of the interval K. Checkpoint 0 is the fresh heap.
 *   - a view heap is what `seek(p)` returns: the heap at position p, owned by the timeline and
 *     valid until the next seek, step or truncate. A seek replays from the view itself when it
 *     is at or a little before p, otherwise it restores the nearest checkpoint at or before p
 *     into the view (a restore reuses the view's arrays) and replays the rest.
 *   - stepping back: the coarse checkpoints are up to K operations apart (K grows with the
 *     log, see below), too far to replay for every step. So the first backward step near a
 *     place builds fine checkpoints every `fineInterval` operations over the `fineSpan`
 *     operations before it; each further step back then costs one restore and less than
 *     `fineInterval` operations. Fine checkpoints are dropped farthest-first when over their
 *     share of the budget.
 *
 * The memory budget (default 256 MiB, `DEFAULT_BUDGET_BYTES`) bounds the bytes the checkpoints
 * hold, as `HeapSnapshot.bytes` counts them: a quarter of it (`fineShare`) for the fine
 * checkpoints, the rest for the coarse ones. On the 10-million-operation session of
 * bench/timeline.ts (1M live blocks) that is 39 coarse checkpoints 262144 operations apart, and
 * seeks of 3-5 ms (median). When the coarse checkpoints exceed their
 * share, every other one is dropped (those at odd multiples of K) and K doubles, so they stay
 * evenly spaced. The builder and view heaps are not counted (two more heaps).
 *
 * Measured (bench/timeline.ts, 10M operations, 1M live blocks, 3.7 and 3.13): seek 3-5 ms
 * median; a step back 0.3-0.7 ms (one restore, a memcpy of the state), a step forward ~0.3 us
 * (one operation); the first step back in a new place ~20-40 ms (it builds the fine
 * checkpoints). Under PYTHONMALLOC=malloc (all blocks in the glibc model, whose state is typed
 * arrays too) a restore of a million chunks takes ~3 ms and seeks 65-90 ms, most of it replay:
 * raw operations replay at 3-6 M/s (bench:timeline -- --raw).
 *
 * Key invariant: `seek(p)` returns a heap identical to `createHeap()` after operations
 * `0 .. p-1` of the log (test/trace/timeline.test.ts compares dumps at random positions).
 */
import type { PymallocHeap } from '../pymalloc/heap';
import { replayLog, type OpLog } from './oplog';
import { restoreHeap, snapshotHeap, type HeapSnapshot } from './snapshot';

/** The default budget for checkpoints: 256 MiB. */
export const DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024;

export interface TimelineOptions {
  /** Bytes the checkpoints may hold (default 256 MiB). */
  budgetBytes?: number;
  /** First interval between coarse checkpoints, in operations (default 4096); it doubles when thinning. */
  interval?: number;
  /** Interval of the fine checkpoints built for stepping back (default 1024). */
  fineInterval?: number;
  /** Operations before a backward step that fine checkpoints cover (default 16 fine intervals). */
  fineSpan?: number;
  /** Share of the budget for fine checkpoints (default 0.25). */
  fineShare?: number;
  /**
   * What a restore costs, counted in replayed operations (default 16384, about 1-2 ms): a seek
   * forward replays from the view when that is not longer than restoring plus replaying.
   */
  restoreCostOps?: number;
}

export interface Checkpoint {
  readonly position: number;
  readonly snapshot: HeapSnapshot;
}

export interface TimelineStats {
  /** Operations replayed by the builder (checkpoints exist up to here). */
  synced: number;
  interval: number;
  coarseCount: number;
  coarseBytes: number;
  fineCount: number;
  fineBytes: number;
  budgetBytes: number;
  /** Times the coarse checkpoints were thinned. */
  thinnings: number;
}

/** Index of the last checkpoint at or before `p` in `list` (sorted by position), or -1. */
function floorIndex(list: readonly Checkpoint[], p: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.position <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export class Timeline {
  readonly log: OpLog;
  readonly budgetBytes: number;
  readonly fineInterval: number;
  readonly fineSpan: number;
  readonly restoreCostOps: number;
  private readonly createHeap: () => PymallocHeap;
  private readonly coarseBudget: number;
  private readonly fineBudget: number;

  /** Coarse checkpoints, sorted by position; [0] is position 0. */
  private coarse: Checkpoint[] = [];
  private coarseBytes = 0;
  /** Fine checkpoints, sorted by position. */
  private fine: Checkpoint[] = [];
  private fineBytes = 0;
  private k: number;
  private thinnings = 0;

  private readonly builder: PymallocHeap;
  private built = 0;

  private view: PymallocHeap | null = null;
  /** Position of the view heap; -1 when it stands for no position. */
  private viewPos = -1;

  constructor(log: OpLog, createHeap: () => PymallocHeap, options: TimelineOptions = {}) {
    this.log = log;
    this.createHeap = createHeap;
    this.budgetBytes = options.budgetBytes ?? DEFAULT_BUDGET_BYTES;
    this.k = options.interval ?? 4096;
    this.fineInterval = options.fineInterval ?? 1024;
    this.fineSpan = options.fineSpan ?? 16 * this.fineInterval;
    this.restoreCostOps = options.restoreCostOps ?? 16384;
    const share = options.fineShare ?? 0.25;
    if (!(this.k >= 1 && Number.isInteger(this.k))) throw new RangeError(`timeline: interval ${this.k} is not a positive integer`);
    if (!(this.fineInterval >= 1 && Number.isInteger(this.fineInterval))) throw new RangeError('timeline: fineInterval must be a positive integer');
    if (!(share >= 0 && share < 1)) throw new RangeError('timeline: fineShare must be in [0, 1)');
    this.fineBudget = Math.floor(this.budgetBytes * share);
    this.coarseBudget = this.budgetBytes - this.fineBudget;
    this.builder = createHeap();
    this.addCoarse(0, snapshotHeap(this.builder));
  }

  /** Operations replayed by the builder so far. */
  get synced(): number {
    return this.built;
  }

  /** The position of the view heap (-1 before the first seek and after a truncate that passed it). */
  get position(): number {
    return this.viewPos;
  }

  /** The current interval between coarse checkpoints. */
  get interval(): number {
    return this.k;
  }

  /** Bytes held by all checkpoints (coarse and fine); never more than `budgetBytes` unless one snapshot alone is. */
  get checkpointBytes(): number {
    return this.coarseBytes + this.fineBytes;
  }

  /** Positions of the coarse checkpoints, ascending. */
  coarsePositions(): number[] {
    return this.coarse.map((c) => c.position);
  }

  /** Positions of the fine checkpoints, ascending. */
  finePositions(): number[] {
    return this.fine.map((c) => c.position);
  }

  stats(): TimelineStats {
    return {
      synced: this.built,
      interval: this.k,
      coarseCount: this.coarse.length,
      coarseBytes: this.coarseBytes,
      fineCount: this.fine.length,
      fineBytes: this.fineBytes,
      budgetBytes: this.budgetBytes,
      thinnings: this.thinnings,
    };
  }

  /**
   * Catches up with the log: replays up to `maxOps` of the operations appended since the last
   * call (all of them by default), taking checkpoints. Returns the operations still to sync,
   * so a host can call it in slices between other work. A log found shorter than what was
   * synced is taken as truncated (as `truncate(log.length)`); a log truncated and grown again
   * in between cannot be told apart, so call `truncate` when rolling back.
   */
  sync(maxOps = Infinity): number {
    // A log truncated without telling the timeline: forget what lies past its end.
    if (this.built > this.log.length) this.truncate(this.log.length);
    const end = Math.min(this.log.length, this.built + maxOps);
    while (this.built < end) {
      const boundary = (Math.floor(this.built / this.k) + 1) * this.k;
      const next = Math.min(end, boundary);
      replayLog(this.builder, this.log, this.built, next);
      this.built = next;
      if (next === boundary) this.addCoarse(next, snapshotHeap(this.builder));
    }
    return this.log.length - this.built;
  }

  /** The heap at position `p` (0 <= p <= log.length), valid until the next seek, step or truncate. */
  seek(p: number): PymallocHeap {
    if (!Number.isInteger(p) || p < 0 || p > this.log.length) {
      throw new RangeError(`timeline: position ${p} is outside 0..${this.log.length}`);
    }
    const view = this.view ?? (this.view = this.createHeap());
    const v = this.viewPos;
    if (v === p) return view;
    const best = this.nearest(p);
    if (v >= 0 && v < p && p - v <= p - best.position + this.restoreCostOps) {
      replayLog(view, this.log, v, p);
      this.viewPos = p;
      return view;
    }
    if (v > p && v - p <= this.fineSpan && p - best.position > this.fineInterval && this.fineBudget > 0) {
      // Stepping back a little where no checkpoint is near: build fine checkpoints first.
      this.buildFine(best, p);
      return view;
    }
    this.viewPos = -1;
    restoreHeap(best.snapshot, view);
    replayLog(view, this.log, best.position, p);
    this.viewPos = p;
    return view;
  }

  /** Moves the view by `delta` operations (clamped to the log) and returns the heap there. */
  step(delta = 1): PymallocHeap {
    const from = this.viewPos < 0 ? 0 : this.viewPos;
    return this.seek(Math.max(0, Math.min(this.log.length, from + delta)));
  }

  /**
   * Forgets everything after position `n` (the log was, or is about to be, truncated to `n`
   * operations): checkpoints past n are dropped, the builder goes back to the last checkpoint
   * at or before n (`sync` replays from there), and a view past n stands for no position.
   */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`timeline: truncate(${n})`);
    while (this.coarse.length > 1 && this.coarse[this.coarse.length - 1]!.position > n) {
      this.coarseBytes -= this.coarse.pop()!.snapshot.bytes;
    }
    while (this.fine.length > 0 && this.fine[this.fine.length - 1]!.position > n) {
      this.fineBytes -= this.fine.pop()!.snapshot.bytes;
    }
    if (this.built > n) {
      const c = this.coarse[this.coarse.length - 1]!;
      restoreHeap(c.snapshot, this.builder);
      this.built = c.position;
    }
    if (this.viewPos > n) this.viewPos = -1;
  }

  // =========================================================================================

  /** The checkpoint (coarse or fine) nearest at or before `p`. */
  private nearest(p: number): Checkpoint {
    const c = this.coarse[floorIndex(this.coarse, p)]!;
    const i = floorIndex(this.fine, p);
    return i >= 0 && this.fine[i]!.position > c.position ? this.fine[i]! : c;
  }

  private addCoarse(position: number, snapshot: HeapSnapshot): void {
    this.coarse.push({ position, snapshot });
    this.coarseBytes += snapshot.bytes;
    while (this.coarseBytes > this.coarseBudget && this.coarse.length > 1) this.thin();
  }

  /** Drops the coarse checkpoints at odd multiples of K and doubles K. */
  private thin(): void {
    const k2 = this.k * 2;
    const kept: Checkpoint[] = [];
    let bytes = 0;
    for (const c of this.coarse) {
      if (c.position % k2 === 0) {
        kept.push(c);
        bytes += c.snapshot.bytes;
      }
    }
    this.coarse = kept;
    this.coarseBytes = bytes;
    this.k = k2;
    this.thinnings++;
  }

  /**
   * Restores `from` into the view and replays to `p`, snapshotting at the multiples of
   * fineInterval in (max(from, p - fineSpan), p]; leaves the view at p.
   */
  private buildFine(from: Checkpoint, p: number): void {
    const view = this.view!;
    const f = this.fineInterval;
    this.viewPos = -1;
    restoreHeap(from.snapshot, view);
    let at = from.position;
    // No more fine checkpoints than the fine budget holds (sized like the one restored).
    const fits = Math.max(1, Math.floor(this.fineBudget / Math.max(1, from.snapshot.bytes)));
    const lo = Math.max(from.position, p - Math.min(this.fineSpan, fits * f));
    let q = (Math.floor(lo / f) + 1) * f;
    const made: Checkpoint[] = [];
    for (; q <= p; q += f) {
      replayLog(view, this.log, at, q);
      at = q;
      made.push({ position: q, snapshot: snapshotHeap(view) });
    }
    replayLog(view, this.log, at, p);
    this.viewPos = p;
    for (const c of made) this.addFine(c, p);
  }

  /** Adds a fine checkpoint, then drops those farthest from `p` while over the fine budget. */
  private addFine(c: Checkpoint, p: number): void {
    const i = floorIndex(this.fine, c.position);
    if (i >= 0 && this.fine[i]!.position === c.position) return; // already there
    this.fine.splice(i + 1, 0, c);
    this.fineBytes += c.snapshot.bytes;
    while (this.fineBytes > this.fineBudget && this.fine.length > 0) {
      const first = this.fine[0]!;
      const last = this.fine[this.fine.length - 1]!;
      const drop = Math.abs(first.position - p) >= Math.abs(last.position - p) ? 0 : this.fine.length - 1;
      this.fineBytes -= this.fine[drop]!.snapshot.bytes;
      this.fine.splice(drop, 1);
    }
  }
}
