/**
 * Workload specifications: the parameters a user sets, which (with the seed) decide every
 * operation a workload makes. A spec is plain JSON data, saved as is in session files, so
 * every field is validated by `parseWorkloadSpec` before use.
 *
 * Changed in session format 1: (first version) churn, fragmentation, python scenarios.
 */

export type SizeDistribution = 'uniform' | 'log-uniform';

/** Steady churn: allocate up to `liveTarget` blocks, then free a random one / allocate, alternately. */
export interface ChurnSpec {
  kind: 'churn';
  seed: number;
  /** Total allocator operations (allocations + frees). */
  operations: number;
  sizeMin: number;
  sizeMax: number;
  distribution: SizeDistribution;
  liveTarget: number;
}

/** Growth then random release: `blocks` allocations, then a random `releaseFraction` freed. */
export interface FragmentationSpec {
  kind: 'fragmentation';
  seed: number;
  blocks: number;
  sizeMin: number;
  sizeMax: number;
  distribution: SizeDistribution;
  /** 0 .. 1 */
  releaseFraction: number;
}

/** Python-level scenarios, run through the Python console on the session's object space. */
export type PythonScenario = 'list-of-ints' | 'dict-grow-shrink' | 'class-instances';

export interface PythonWorkloadSpec {
  kind: 'python';
  scenario: PythonScenario;
  /** How many ints / keys / instances. */
  count: number;
}

export type WorkloadSpec = ChurnSpec | FragmentationSpec | PythonWorkloadSpec;

/** Limits that keep a workload within what a session can hold. */
export const WORKLOAD_MAX_OPERATIONS = 100_000_000;
export const WORKLOAD_MAX_PYTHON_COUNT = 10_000_000;

export class WorkloadSpecError extends Error {}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WorkloadSpecError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function int(o: Record<string, unknown>, key: string, where: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new WorkloadSpecError(`${where}.${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, where: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new WorkloadSpecError(`${where}.${key}: expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new WorkloadSpecError(`${where}: unknown field ${JSON.stringify(k)}`);
}

const SEED_MAX = 0xffff_ffff;
const REQUEST_MAX = 1 << 30;

/** Validates JSON data as a workload spec; `where` names it in errors (e.g. `inputs[3].spec`). */
export function parseWorkloadSpec(v: unknown, where = 'workload'): WorkloadSpec {
  const o = obj(v, where);
  const kind = oneOf(o, 'kind', where, ['churn', 'fragmentation', 'python'] as const);
  if (kind === 'python') {
    onlyKeys(o, ['kind', 'scenario', 'count'], where);
    return {
      kind,
      scenario: oneOf(o, 'scenario', where, ['list-of-ints', 'dict-grow-shrink', 'class-instances'] as const),
      count: int(o, 'count', where, 1, WORKLOAD_MAX_PYTHON_COUNT),
    };
  }
  const seed = int(o, 'seed', where, 0, SEED_MAX);
  const sizeMin = int(o, 'sizeMin', where, 0, REQUEST_MAX);
  const sizeMax = int(o, 'sizeMax', where, sizeMin, REQUEST_MAX);
  const distribution = oneOf(o, 'distribution', where, ['uniform', 'log-uniform'] as const);
  if (kind === 'churn') {
    onlyKeys(o, ['kind', 'seed', 'operations', 'sizeMin', 'sizeMax', 'distribution', 'liveTarget'], where);
    return {
      kind,
      seed,
      operations: int(o, 'operations', where, 1, WORKLOAD_MAX_OPERATIONS),
      sizeMin,
      sizeMax,
      distribution,
      liveTarget: int(o, 'liveTarget', where, 1, WORKLOAD_MAX_OPERATIONS),
    };
  }
  onlyKeys(o, ['kind', 'seed', 'blocks', 'sizeMin', 'sizeMax', 'distribution', 'releaseFraction'], where);
  const f = o['releaseFraction'];
  if (typeof f !== 'number' || !(f >= 0 && f <= 1)) {
    throw new WorkloadSpecError(`${where}.releaseFraction: expected a number from 0 to 1, got ${JSON.stringify(f)}`);
  }
  return {
    kind,
    seed,
    blocks: int(o, 'blocks', where, 1, WORKLOAD_MAX_OPERATIONS),
    sizeMin,
    sizeMax,
    distribution,
    releaseFraction: f,
  };
}
