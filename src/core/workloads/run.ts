/**
 * The one entry point of the workloads: `runWorkload(spec, target, control)` runs a spec on a
 * session's heap through its RecordingAllocator, so that every allocator call it makes is in
 * the session's operation log, in order. Python scenarios run in the session's console
 * (`target.python`, whose object space must use the same allocator).
 *
 * Determinism: the same spec on a heap of the same settings and state makes the same calls
 * (test/workloads). Cancellation (`control.shouldCancel`) stops between two steps, so the log
 * holds exactly the calls made until then; an allocator that interrupts (SimInterrupt from
 * the allocator's own poll) stops the workload at that call, and the exception is passed on.
 */
import type { PythonSession } from '../python/session';
import type { RecordingAllocator } from '../trace/oplog';
import { churnTotal, fragmentationTotal, runChurn, runFragmentation } from './allocator';
import type { LoopOutcome, WorkloadControl, WorkloadResult } from './control';
import { pythonScenarioOperations, runPythonScenario } from './python';
import { parseWorkloadSpec, type WorkloadSpec } from './spec';

export type { WorkloadControl, WorkloadResult } from './control';

export interface WorkloadTarget {
  /** The session's allocator door: the heap, and the log every call goes to. */
  alloc: RecordingAllocator;
  /** The session's console, for Python scenarios. */
  python?: PythonSession;
}

/** Steps the workload makes when it runs to its end. */
export function workloadTotal(spec: WorkloadSpec): number {
  switch (spec.kind) {
    case 'churn':
      return churnTotal(spec);
    case 'fragmentation':
      return fragmentationTotal(spec);
    case 'python':
      return pythonScenarioOperations(spec);
  }
}

export function runWorkload(spec: WorkloadSpec, target: WorkloadTarget, control: WorkloadControl = {}): WorkloadResult {
  const s = parseWorkloadSpec(spec);
  const log = target.alloc.log;
  const logStart = log.length;
  let out: LoopOutcome;
  switch (s.kind) {
    case 'churn':
      out = runChurn(s, target.alloc, control);
      break;
    case 'fragmentation':
      out = runFragmentation(s, target.alloc, control);
      break;
    case 'python': {
      const py = target.python;
      if (py === undefined) throw new Error(`workload python ${s.scenario}: no Python session given`);
      if (py.space.alloc !== target.alloc) throw new Error(`workload python ${s.scenario}: the Python session allocates through another allocator`);
      out = runPythonScenario(s, py, control);
      break;
    }
  }
  return { cancelled: out.cancelled, steps: out.steps, total: workloadTotal(s), logStart, logEnd: log.length };
}
