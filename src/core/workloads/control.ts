/**
 * Progress and cancellation of a workload. Workloads run synchronously (in the simulation
 * worker); every `progressEvery` steps they report progress and ask whether to stop. A step is
 * one allocator call for the allocator workloads and one interpreter operation (a statement
 * or an expression evaluation) for the Python scenarios.
 */

export interface WorkloadControl {
  /** Called with the steps done so far and the total: monotonically, ending at the total. */
  onProgress?: (done: number, total: number) => void;
  /** Asked every `progressEvery` steps (first before step 0); true stops the workload there. */
  shouldCancel?: () => boolean;
  /** Steps between two progress reports / cancellation checks (default 65536). */
  progressEvery?: number;
}

export interface WorkloadResult {
  /** True when `shouldCancel` stopped the workload before its end. */
  cancelled: boolean;
  /** Steps done (all of them unless cancelled). */
  steps: number;
  /** Steps of the whole workload (for the Python scenarios: the interpreter operations of the
   *  generated program, as counted for this interpreter). */
  total: number;
  /** The workload's allocator calls in the operation log: [logStart, logEnd). */
  logStart: number;
  logEnd: number;
}

export const DEFAULT_PROGRESS_EVERY = 65536;

export function progressEvery(control: WorkloadControl): number {
  const n = control.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`progressEvery: expected a positive integer, got ${n}`);
  return n;
}

/** What a step loop reports back: steps done and whether it was cancelled. */
export interface LoopOutcome {
  steps: number;
  cancelled: boolean;
}

/**
 * The check every `progressEvery` steps: reports progress, then returns true when the
 * workload must stop.
 */
export function checkpoint(control: WorkloadControl, done: number, total: number): boolean {
  control.onProgress?.(done, total);
  return control.shouldCancel?.() ?? false;
}
