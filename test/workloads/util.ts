/** Helpers of the workload tests. */
import { expect } from 'vitest';
import type { OpLog } from '../../src/core/trace/oplog';

/** The log's columns as bytes: two logs are the same when these are. */
export function logBytes(log: OpLog): Uint8Array {
  const n = log.length;
  const out = new Uint8Array(n * 13);
  out.set(log.kind.subarray(0, n), 0);
  out.set(new Uint8Array(log.arg.buffer, 0, n * 8), n);
  out.set(new Uint8Array(log.size.buffer, 0, n * 4), n * 9);
  return out;
}

export function expectSameLog(a: OpLog, b: OpLog): void {
  expect(a.length).toBe(b.length);
  expect(Buffer.compare(Buffer.from(logBytes(a)), Buffer.from(logBytes(b)))).toBe(0);
  expect([...a.bigSizes]).toEqual([...b.bigSizes]);
}

/** A control that records progress and says "stop" on its `stopAt`-th question. */
export function recorder(progressEvery: number, stopAt = Infinity): {
  calls: [number, number][];
  asked: number;
  control: { progressEvery: number; onProgress: (d: number, t: number) => void; shouldCancel: () => boolean };
} {
  const r = {
    calls: [] as [number, number][],
    asked: 0,
    control: {
      progressEvery,
      onProgress: (d: number, t: number) => void r.calls.push([d, t]),
      shouldCancel: () => ++r.asked >= stopAt,
    },
  };
  return r;
}

export function expectMonotonic(calls: [number, number][], total: number, end: number): void {
  for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0]);
  for (const [, t] of calls) expect(t).toBe(total);
  expect(calls[calls.length - 1]![0]).toBe(end);
}
