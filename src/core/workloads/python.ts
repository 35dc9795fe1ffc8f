/**
 * The Python-level scenarios: a short program generated from the spec and run in the
 * session's console (its names stay bound afterwards, for the user to look at):
 *
 *   list-of-ints      xs = [i for i in range(N)]; del xs[::2]
 *                     the list grows by list_resize as it is built, every int from 257 on is
 *                     a block; deleting every other one frees half the blocks of every pool,
 *                     so no pool and no arena is released (and the list shrinks by realloc);
 *   dict-grow-shrink  d = {}, N keys inserted, then deleted again, last first: the table grows
 *                     by resizes, and stays at its largest size when the keys go (CPython
 *                     never shrinks a dict when keys are deleted; only the next insertion that
 *                     finds no usable slot, or clear(), gives the memory back);
 *   class-instances   objs = [Point(i, i) for i in range(N)] with a two-attribute class: many
 *                     small objects of one class, with their dicts or inline values.
 *
 * A step is an interpreter operation; the total is counted in advance for each scenario
 * (`pythonScenarioOperations`, pinned by the tests against the interpreter's own count).
 */
import type { PythonSession } from '../python/session';
import { checkpoint, progressEvery, type LoopOutcome, type WorkloadControl } from './control';
import type { PythonWorkloadSpec } from './spec';

/** The program a scenario runs. */
export function pythonScenarioSource(spec: PythonWorkloadSpec): string {
  const n = spec.count;
  switch (spec.scenario) {
    case 'list-of-ints':
      return `xs = [i for i in range(${n})]\ndel xs[::2]\n`;
    case 'dict-grow-shrink':
      return `d = {}\nfor i in range(${n}):\n    d[i] = i\nfor i in range(${n - 1}, -1, -1):\n    del d[i]\n`;
    case 'class-instances':
      return 'class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n' + `objs = [Point(i, i) for i in range(${n})]\n`;
  }
}

/**
 * Interpreter operations (statements and expression evaluations, as `Interpreter` counts them
 * against its budget) of the scenario's program.
 */
export function pythonScenarioOperations(spec: PythonWorkloadSpec): number {
  const n = spec.count;
  switch (spec.scenario) {
    case 'list-of-ints':
      return 2 * n + 9;
    case 'dict-grow-shrink':
      return 9 * n + 12;
    case 'class-instances':
      return 11 * n + 7;
  }
}

/** Thrown from the interpreter's tick hook to stop a scenario (never seen outside this file). */
class ScenarioCancelled extends Error {
  readonly steps: number;
  constructor(steps: number) {
    super('workload cancelled');
    this.steps = steps;
  }
}

export function runPythonScenario(spec: PythonWorkloadSpec, session: PythonSession, control: WorkloadControl): LoopOutcome {
  const source = pythonScenarioSource(spec);
  const total = pythonScenarioOperations(spec);
  const every = progressEvery(control);
  if (checkpoint(control, 0, total)) return { steps: 0, cancelled: true };
  const interp = session.interp;
  const saved = { budget: interp.operationBudget, onTick: interp.onTick, every: interp.tickEvery };
  // The program's own size: a million ints is several million operations.
  interp.operationBudget = Math.max(saved.budget, 2 * total + 1000);
  interp.tickEvery = every;
  interp.onTick = (done) => {
    if (checkpoint(control, Math.min(done, total), total)) throw new ScenarioCancelled(done);
  };
  let steps: number;
  try {
    session.run(source);
    steps = interp.operationsDone;
  } catch (e) {
    if (e instanceof ScenarioCancelled) return { steps: e.steps, cancelled: true };
    throw e;
  } finally {
    interp.operationBudget = saved.budget;
    interp.onTick = saved.onTick;
    interp.tickEvery = saved.every;
  }
  control.onProgress?.(total, total);
  return { steps, cancelled: false };
}
