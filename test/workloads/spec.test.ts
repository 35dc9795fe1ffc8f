/**
 * parseWorkloadSpec: specs are stored in session files, so every field is validated and a bad
 * spec is refused with a message naming the field.
 */
import { describe, expect, it } from 'vitest';
import { parseWorkloadSpec, WorkloadSpecError } from '../../src/core/workloads/spec';

const churn = { kind: 'churn', seed: 7, operations: 1000, sizeMin: 8, sizeMax: 512, distribution: 'log-uniform', liveTarget: 100 };
const frag = { kind: 'fragmentation', seed: 0, blocks: 5000, sizeMin: 16, sizeMax: 64, distribution: 'uniform', releaseFraction: 0.9 };
const py = { kind: 'python', scenario: 'list-of-ints', count: 1_000_000 };

function refusal(v: unknown, where?: string): string {
  try {
    parseWorkloadSpec(v, where);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadSpecError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('parseWorkloadSpec', () => {
  it('accepts the three kinds and returns exactly the fields', () => {
    expect(parseWorkloadSpec(churn)).toEqual(churn);
    expect(parseWorkloadSpec(frag)).toEqual(frag);
    expect(parseWorkloadSpec(py)).toEqual(py);
    expect(parseWorkloadSpec({ ...frag, releaseFraction: 0 })).toEqual({ ...frag, releaseFraction: 0 });
    expect(parseWorkloadSpec({ ...frag, releaseFraction: 1 })).toEqual({ ...frag, releaseFraction: 1 });
  });

  it('refuses bad specs with a message naming the field', () => {
    expect(refusal(null)).toBe('workload: expected an object');
    expect(refusal([churn])).toBe('workload: expected an object');
    expect(refusal({ ...churn, kind: 'leak' })).toBe('workload.kind: expected one of churn, fragmentation, python, got "leak"');
    expect(refusal({ ...churn, seed: -1 })).toBe('workload.seed: expected an integer from 0 to 4294967295, got -1');
    expect(refusal({ ...churn, seed: 2 ** 32 })).toBe('workload.seed: expected an integer from 0 to 4294967295, got 4294967296');
    expect(refusal({ ...churn, operations: 0 })).toBe('workload.operations: expected an integer from 1 to 100000000, got 0');
    expect(refusal({ ...churn, operations: 1.5 })).toBe('workload.operations: expected an integer from 1 to 100000000, got 1.5');
    expect(refusal({ ...churn, operations: '10' })).toBe('workload.operations: expected an integer from 1 to 100000000, got "10"');
    expect(refusal({ ...churn, sizeMax: 4 })).toBe('workload.sizeMax: expected an integer from 8 to 1073741824, got 4');
    expect(refusal({ ...churn, distribution: 'normal' })).toBe('workload.distribution: expected one of uniform, log-uniform, got "normal"');
    expect(refusal({ ...churn, liveTarget: undefined })).toBe('workload.liveTarget: expected an integer from 1 to 100000000, got undefined');
    expect(refusal({ ...churn, extra: 1 })).toBe('workload: unknown field "extra"');
    expect(refusal({ ...frag, releaseFraction: 1.01 })).toBe('workload.releaseFraction: expected a number from 0 to 1, got 1.01');
    expect(refusal({ ...frag, releaseFraction: Number.NaN })).toBe('workload.releaseFraction: expected a number from 0 to 1, got null');
    expect(refusal({ ...frag, liveTarget: 3 })).toBe('workload: unknown field "liveTarget"');
    expect(refusal({ ...py, scenario: 'set-of-strs' })).toBe('workload.scenario: expected one of list-of-ints, dict-grow-shrink, class-instances, got "set-of-strs"');
    expect(refusal({ ...py, count: 10_000_001 })).toBe('workload.count: expected an integer from 1 to 10000000, got 10000001');
    expect(refusal({ ...py, seed: 1 })).toBe('workload: unknown field "seed"');
    expect(refusal({ ...churn, seed: 'x' }, 'inputs[3].spec')).toBe('inputs[3].spec.seed: expected an integer from 0 to 4294967295, got "x"');
  });
});
