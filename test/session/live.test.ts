/**
 * The live session: inputs on one heap, the log that rebuilds it, the timeline over it, and
 * documents that rebuild the whole session exactly.
 */
import { describe, expect, it } from 'vitest';
import { LiveSession } from '../../src/core/session/live';
import { defaultSettings } from '../../src/core/session/model';
import { createReplayHeap, formatSummary } from '../../src/core/trace/replay';
import { replayLog } from '../../src/core/trace/oplog';
import { heapOptions } from '../../src/core/session/live';
import { checkHeap } from '../../src/core/pymalloc/check';

const CODE = `xs = [i * 1000 for i in range(2000)]
d = {i: str(i) for i in range(300)}
del xs[500:]
s = {1, 2, 3}
`;

const TRACE = `a 1 24
a 2 600
a 3 100
f 1
r 3 200
`;

describe('live session', () => {
  it('keeps the live heap equal to a replay of its log, across kinds of input', () => {
    const s = new LiveSession(defaultSettings('3.11'));
    const r1 = s.runPython(CODE);
    expect(r1.error).toBeNull();
    const r2 = s.importTrace('t.trace', TRACE);
    expect(r2.error).toBeNull();
    expect(r2.end - r2.start).toBe(5);
    const fresh = createReplayHeap(heapOptions(s.settings));
    replayLog(fresh, s.log, 0, s.log.length);
    expect(formatSummary(fresh, true)).toBe(formatSummary(s.heap, true));
    expect(s.inputs.map((i) => i.input.kind)).toEqual(['python', 'trace']);
    expect(s.position).toBe(s.total);
    expect(checkHeap(s.heap)).toEqual([]);
  });

  it('prints, reports errors with positions, and keeps what failing code did', () => {
    const s = new LiveSession(defaultSettings('3.13'));
    const r = s.runPython('import sys\nx = [1]\nprint(sys.getsizeof(5))\ny = x[5]\n');
    expect(r.output).toBe('28\n');
    expect(r.error).toMatch(/^line 4 col \d+: IndexError/);
    expect(r.end).toBeGreaterThan(r.start);
    expect(s.inputs).toHaveLength(1);
    const bad = s.runPython('x = (');
    expect(bad.error).toMatch(/^line 1 col \d+:/);
    expect(bad.end).toBe(bad.start);
    expect(s.inputs).toHaveLength(1);
  });

  it('refuses a trace whose ids are not live, undoing what it had done', () => {
    const s = new LiveSession(defaultSettings('3.9'));
    s.runPython('x = [1, 2, 3]');
    const before = formatSummary(s.heap, true);
    const total = s.total;
    const r = s.importTrace('bad.trace', 'a 1 16\na 2 32\nf 7\n');
    expect(r.error).toBe('line 3: free of id 7, which is not live');
    expect(s.total).toBe(total);
    expect(formatSummary(s.heap, true)).toBe(before);
    expect(s.inputs).toHaveLength(1);
    // The heap still works and the log still rebuilds it.
    s.runPython('y = [4, 5]');
    const fresh = createReplayHeap(heapOptions(s.settings));
    replayLog(fresh, s.log, 0, s.log.length);
    expect(formatSummary(fresh, true)).toBe(formatSummary(s.heap, true));
  });

  it('shows the heap at any position and marks statements', () => {
    const s = new LiveSession(defaultSettings('3.13'));
    s.runPython('a = [1000]\nb = [2000, 3000]\nc = 4000.5\n');
    // The module's constants (1000, 2000, 3000, 4000.5) are made first, at compile time, then
    // the statements run; statements that allocate nothing get no marker.
    const lines = s.markers.filter((m) => m.kind === 'line').map((m) => `${m.label}@${m.op}`);
    expect(lines).toEqual(['line 1@0', 'line 2@1', 'line 3@3', 'line 1@4', 'line 2@6', 'line 3@8']);
    const atLine2 = 6;
    s.seek(atLine2);
    const fresh = createReplayHeap(heapOptions(s.settings));
    replayLog(fresh, s.log, 0, atLine2);
    expect(formatSummary(s.viewHeap(), true)).toBe(formatSummary(fresh, true));
    expect(s.atEnd()).toBe(false);
    s.seekMarker(1);
    expect(s.position).toBe(8);
    s.seek(1e12);
    expect(s.position).toBe(s.total);
    expect(s.viewHeap()).toBe(s.heap);
  });

  it('cancels Python code with KeyboardInterrupt, and a rebuilt session stops at the same call', () => {
    const s = new LiveSession(defaultSettings('3.12'));
    let polls = 0;
    const r = s.runPython('xs = []\nfor i in range(100000):\n    xs.append(str(i))\n', { shouldCancel: () => ++polls >= 3 });
    expect(r.error).toMatch(/KeyboardInterrupt/);
    const input = s.inputs[0]!.input;
    // Stopped at an allocation; releasing the module's constants (3 frees) follows it.
    expect(input.interruptedAt).toBe(r.end - r.start - 3);
    expect(r.end - r.start).toBeGreaterThan(2 * 1024);
    const again = LiveSession.fromDoc(s.toDoc());
    expect(again.total).toBe(s.total);
    expect(formatSummary(again.heap, true)).toBe(formatSummary(s.heap, true));
    expect(again.python.sizeof('len(xs)')).toBe(s.python.sizeof('len(xs)'));
  });

  it('rebuilds from its document: same heap, position, inputs and bookmarks', () => {
    const s = new LiveSession({ ...defaultSettings('3.10'), placement: { kind: 'aslr', seed: 7 } });
    s.runPython(CODE);
    s.importTrace('t.trace', TRACE);
    s.runPython('del d\n');
    s.ui = { view: 'stats', selection: 123, bookmarks: [{ op: 10, label: 'ten' }] };
    s.seek(Math.floor(s.total / 2));
    const doc = s.toDoc();
    const t = LiveSession.fromDoc(doc);
    expect(t.total).toBe(s.total);
    expect(t.position).toBe(s.position);
    expect(formatSummary(t.viewHeap(), true)).toBe(formatSummary(s.viewHeap(), true));
    expect(formatSummary(t.heap, true)).toBe(formatSummary(s.heap, true));
    expect(t.ui).toEqual(s.ui);
    expect(t.allMarkers().map((m) => [m.op, m.label])).toEqual(s.allMarkers().map((m) => [m.op, m.label]));
  });
});
