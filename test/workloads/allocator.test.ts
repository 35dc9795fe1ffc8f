/**
 * Churn and fragmentation: seeded, deterministic, one logged allocator call per step,
 * cancellable between steps, and what they leave on the heap.
 */
import { describe, expect, it } from 'vitest';
import { LOG_FREE, LOG_MALLOC, OpLog, RecordingAllocator, SimInterrupt, replayLog } from '../../src/core/trace/oplog';
import { createReplayHeap, formatSummary } from '../../src/core/trace/replay';
import { checkHeap } from '../../src/core/pymalloc/check';
import { runWorkload } from '../../src/core/workloads/run';
import { arenaUsage } from '../../src/core/workloads/usage';
import type { ChurnSpec, FragmentationSpec, WorkloadSpec } from '../../src/core/workloads/spec';
import { expectMonotonic, expectSameLog, recorder } from './util';

const CHURN: ChurnSpec = { kind: 'churn', seed: 42, operations: 200_000, sizeMin: 1, sizeMax: 512, distribution: 'uniform', liveTarget: 20_000 };
const FRAG: FragmentationSpec = { kind: 'fragmentation', seed: 3, blocks: 100_000, sizeMin: 16, sizeMax: 128, distribution: 'uniform', releaseFraction: 0.9 };

function fresh(python = '3.11'): RecordingAllocator {
  return new RecordingAllocator(createReplayHeap({ python }), new OpLog());
}

function sizesOf(log: OpLog, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < log.length && out.length < n; i++) if (log.kind[i] === LOG_MALLOC) out.push(log.size[i]!);
  return out;
}

describe('churn', () => {
  it('is deterministic: the same spec gives the same log, byte for byte, on two fresh heaps', () => {
    for (const distribution of ['uniform', 'log-uniform'] as const) {
      const a = fresh();
      const b = fresh();
      runWorkload({ ...CHURN, distribution }, { alloc: a });
      runWorkload({ ...CHURN, distribution }, { alloc: b });
      expectSameLog(a.log, b.log);
      expect(formatSummary(a.heap, true)).toBe(formatSummary(b.heap, true));
    }
    const c = fresh();
    runWorkload({ ...CHURN, seed: 43 }, { alloc: c });
    expect(sizesOf(c.log, 8)).not.toEqual(sizesOf(fresh().log, 8));
  });

  it('pins the calls it makes and the heap it leaves (3.11, uniform)', () => {
    const alloc = fresh();
    const r = runWorkload(CHURN, { alloc });
    const log = alloc.log;
    expect(r).toEqual({ cancelled: false, steps: 200_000, total: 200_000, logStart: 0, logEnd: 200_000 });
    expect(sizesOf(log, 8)).toEqual([308, 230, 437, 343, 90, 270, 140, 320]);
    // liveTarget mallocs, then free and malloc alternately.
    expect(log.kind[19_999]).toBe(LOG_MALLOC);
    expect(log.kind[20_000]).toBe(LOG_FREE);
    expect(log.kind[20_001]).toBe(LOG_MALLOC);
    expect([log.arg[20_000], log.arg[20_002]]).toEqual([731158, 534564]);
    let frees = 0;
    for (let i = 0; i < log.length; i++) if (log.kind[i] === LOG_FREE) frees++;
    expect(frees).toBe(90_000);
    expect(alloc.heap.allocatedBlocks()).toBe(20_000);
    expect(alloc.heap.counters()).toEqual({ allocatedTotal: 6, live: 6, reclaimed: 0, highwater: 6 });
    expect(arenaUsage(alloc.heap)).toEqual({ arenas: 6, arenaBytes: 6_291_456, blockBytes: 5_279_104, sparseArenas: 0, emptyArenas: 0 });
    expect(checkHeap(alloc.heap)).toEqual([]);
  });

  it('draws log-uniform sizes: half of them below the geometric mean of the range', () => {
    const alloc = fresh();
    runWorkload({ ...CHURN, distribution: 'log-uniform' }, { alloc });
    const log = alloc.log;
    expect(sizesOf(log, 8)).toEqual([42, 16, 204, 65, 2, 26, 5, 49]);
    let mallocs = 0;
    let small = 0;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < log.length; i++) {
      if (log.kind[i] !== LOG_MALLOC) continue;
      const z = log.size[i]!;
      mallocs++;
      if (z <= 22) small++;
      min = Math.min(min, z);
      max = Math.max(max, z);
    }
    // P(size <= 22) = ln 23 / ln 513 = 0.5024 for sizes 1..512.
    expect(mallocs).toBe(110_000);
    expect(small).toBe(55_227);
    expect([min, max]).toEqual([1, 512]);
    expect(alloc.heap.counters().live).toBe(3);
  });

  it('replays from its log to the identical heap', () => {
    const alloc = fresh('3.8');
    runWorkload({ ...CHURN, sizeMax: 4096 }, { alloc });
    const heap = createReplayHeap({ python: '3.8' });
    replayLog(heap, alloc.log, 0, alloc.log.length);
    expect(formatSummary(heap, true)).toBe(formatSummary(alloc.heap, true));
  });

  it('stops at the check that says cancel: the log holds exactly the steps made', () => {
    const alloc = fresh();
    alloc.malloc(100); // the log does not start empty
    const rec = recorder(1000, 4);
    const r = runWorkload(CHURN, { alloc }, rec.control);
    // Checks before steps 0, 1000, 2000 and 3000: the fourth says cancel.
    expect(r).toEqual({ cancelled: true, steps: 3000, total: 200_000, logStart: 1, logEnd: 3001 });
    expect(alloc.log.length).toBe(3001);
    expect(rec.calls).toEqual([[0, 200_000], [1000, 200_000], [2000, 200_000], [3000, 200_000]]);
    // The same prefix as an uncancelled run.
    const full = fresh();
    full.malloc(100);
    runWorkload(CHURN, { alloc: full });
    full.log.truncate(3001);
    expectSameLog(alloc.log, full.log);
  });

  it('reports progress monotonically, ending at the total', () => {
    const rec = recorder(30_000);
    runWorkload(CHURN, { alloc: fresh() }, rec.control);
    expect(rec.calls.map(([d]) => d)).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 200_000]);
    expectMonotonic(rec.calls, 200_000, 200_000);
  });

  it('passes on an interruption of the allocator, stopping at that call', () => {
    const alloc = fresh();
    alloc.interruptAt = 12_345;
    expect(() => runWorkload(CHURN, { alloc })).toThrow(SimInterrupt);
    expect(alloc.log.length).toBe(12_345);
  });
});

describe('fragmentation', () => {
  it('is deterministic: the same log byte for byte on two fresh heaps', () => {
    const a = fresh('3.9');
    const b = fresh('3.9');
    runWorkload({ ...FRAG, distribution: 'log-uniform' }, { alloc: a });
    runWorkload({ ...FRAG, distribution: 'log-uniform' }, { alloc: b });
    expectSameLog(a.log, b.log);
  });

  it('leaves every arena mapped when 90% of the blocks are freed at random', () => {
    for (const [python, arenas, arenaBytes, firstVictims] of [
      ['3.7', 32, 8_388_608, [3377207, 2779191]],
      ['3.11', 8, 8_388_608, [886830, 721221]],
      ['3.13', 8, 8_388_608, [886830, 721221]],
    ] as const) {
      const alloc = fresh(python);
      const r = runWorkload(FRAG, { alloc });
      expect(r).toEqual({ cancelled: false, steps: 190_000, total: 190_000, logStart: 0, logEnd: 190_000 });
      expect([alloc.log.arg[100_000], alloc.log.arg[100_001]]).toEqual(firstVictims);
      expect(alloc.heap.allocatedBlocks()).toBe(10_000);
      // No arena went back: every one holds a few live blocks (under 10% of its bytes).
      expect(alloc.heap.counters()).toEqual({ allocatedTotal: arenas, live: arenas, reclaimed: 0, highwater: arenas });
      expect(arenaUsage(alloc.heap)).toEqual({ arenas, arenaBytes, blockBytes: 795_408, sparseArenas: arenas, emptyArenas: 0 });
    }
  });

  it('gives the arenas back when every block is freed (3.9+ keeps one usable arena)', () => {
    const a7 = fresh('3.7');
    runWorkload({ ...FRAG, releaseFraction: 1 }, { alloc: a7 });
    expect(a7.heap.counters()).toEqual({ allocatedTotal: 32, live: 0, reclaimed: 32, highwater: 32 });
    const a11 = fresh('3.11');
    runWorkload({ ...FRAG, releaseFraction: 1 }, { alloc: a11 });
    expect(a11.heap.counters()).toEqual({ allocatedTotal: 8, live: 1, reclaimed: 7, highwater: 8 });
  });

  it('cancels between steps, in either phase, with the log where it stopped', () => {
    for (const [stopAt, steps] of [
      [3, 2 * 40_000],
      [4, 3 * 40_000],
    ] as const) {
      const alloc = fresh();
      const rec = recorder(40_000, stopAt);
      const r = runWorkload(FRAG, { alloc }, rec.control);
      expect(r).toMatchObject({ cancelled: true, steps, logEnd: steps });
      expect(alloc.log.length).toBe(steps);
      expectMonotonic(rec.calls, 190_000, steps);
    }
    const rec = recorder(40_000);
    runWorkload(FRAG, { alloc: fresh() }, rec.control);
    expect(rec.calls.map(([d]) => d)).toEqual([0, 40_000, 80_000, 120_000, 160_000, 190_000]);
  });

  it('counts a NULL from malloc as a step and releases the fraction of what it got', () => {
    const alloc = new RecordingAllocator(createReplayHeap({ python: '3.11', memoryLimit: 4 << 20 }), new OpLog());
    const r = runWorkload({ ...FRAG, sizeMin: 4000, sizeMax: 4000 }, { alloc });
    // 4000-byte blocks come from malloc; about 4 MiB of them fit.
    expect(r.total).toBe(190_000);
    expect(r.steps).toBe(r.logEnd);
    // 1044 of the 100000 mallocs succeed; floor(1044 * 0.9) of those are freed.
    expect(r.steps).toBe(100_000 + 939);
    expect(alloc.heap.rawAllocatedBlocks).toBe(1044 - 939);
    expect(checkHeap(alloc.heap)).toEqual([]);
  });
});

describe('runWorkload', () => {
  it('refuses an invalid spec, and a Python spec without its session', () => {
    expect(() => runWorkload({ ...CHURN, operations: -1 } as WorkloadSpec, { alloc: fresh() })).toThrow('workload.operations: expected an integer from 1 to 100000000, got -1');
    expect(() => runWorkload({ kind: 'python', scenario: 'list-of-ints', count: 10 }, { alloc: fresh() })).toThrow('workload python list-of-ints: no Python session given');
  });
});
