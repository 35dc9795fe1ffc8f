/**
 * StoredTrace: a trace kept whole drives any TraceSink exactly as reading its text does, so a
 * replay from a session prints the golden dump byte for byte and names the original lines.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoredTrace, StoredTraceBuilder, ID_WIDE, U32_WIDE, storedTraceFromText } from '../../src/core/session/stored-trace';
import { StreamReplay, createReplayHeap, formatSummary, replayText } from '../../src/core/trace/replay';
import { TraceReader, type TraceSink } from '../../src/core/trace/reader';

const GOLDEN = resolve(__dirname, '../fixtures/golden');

function replayStored(t: StoredTrace, python: string, arenaOffsets: number[], internals: boolean): string {
  const heap = createReplayHeap({ python, arenaOffsets });
  const lines: string[] = [];
  t.replay(new StreamReplay(heap, (l) => lines.push(l)));
  return (lines.length > 0 ? lines.join('\n') + '\n' : '') + formatSummary(heap, internals);
}

/** Every field a sink sees, per operation, as text. */
function fieldsOf(drive: (sink: TraceSink) => void): string[] {
  const out: string[] = [];
  drive({
    op(r: TraceReader): void {
      out.push(`${r.line}:${r.ops}:${r.kind}:${typeof r.id}:${String(r.id)}:${typeof r.count}:${String(r.count)}:${typeof r.size}:${String(r.size)}`);
    },
  });
  return out;
}

const EDGE = [
  '# every kind of value a trace can hold',
  'a 1 16',
  'c 2 3 24',
  '',
  'a -9223372036854775808 600',
  'a 9223372036854775807 18446744073709551615',
  '   # indented comment',
  'c 4294967295 4294967296 4294967295',
  'r 1 9223372036854775808',
  'a -2147483648 0',
  'a 2147483648 4294967294',
  'a 9007199254740993 16',
  'a -0 8',
  'f 1',
  'f -2147483648',
  'r 77 32',
  'f 2',
  'c 5 0 18446744073709551615',
  '',
  '',
].join('\n');

describe('StoredTrace', () => {
  it('gives a sink the very fields the reader gives (numbers, bigints, decimal ids, lines)', () => {
    const fromText = fieldsOf((sink) => {
      const r = new TraceReader(sink);
      r.push(EDGE);
      r.end();
    });
    const stored = storedTraceFromText(EDGE);
    expect(fieldsOf((sink) => stored.replay(sink))).toEqual(fromText);
    // Pinned: what the reader makes of the awkward lines.
    expect(fromText[3]).toBe('6:4:0:string:9223372036854775807:number:0:bigint:18446744073709551615');
    expect(fromText[4]).toBe('8:5:1:number:4294967295:number:4294967296:number:4294967295');
    expect(fromText[6]).toBe('10:7:0:number:-2147483648:number:0:number:0');
    expect(fromText.length).toBe(15);
  });

  it('keeps ids that do not fit an int32 (and the sentinel itself) and sizes of 2^32 - 1 up in the wide lists', () => {
    const t = storedTraceFromText(EDGE);
    expect(t.length).toBe(15);
    expect(t.callocs).toBe(3);
    expect(t.wideIds).toEqual(['-9223372036854775808', '9223372036854775807', 4294967295, -2147483648, 2147483648, '9007199254740993', -2147483648]);
    expect(t.wideValues).toEqual([18446744073709551615n, 4294967296, 4294967295, 9223372036854775808n, 18446744073709551615n]);
    expect(Array.from(t.ids.slice(0, 4))).toEqual([1, 2, ID_WIDE, ID_WIDE]);
    expect(t.sizes[1]).toBe(24);
    expect(t.sizes[4]).toBe(U32_WIDE);
    // Lines skipped: 1 before op 0, 1 before op 2, 1 before op 4.
    expect(Array.from(t.gapOps)).toEqual([0, 2, 4]);
    expect(Array.from(t.gapLines)).toEqual([1, 1, 1]);
  });

  it('prints its text back with the original line numbers (comments become blank lines)', () => {
    const t = storedTraceFromText(EDGE);
    const text = t.toText();
    expect(text.split('\n').slice(0, 6)).toEqual(['', 'a 1 16', 'c 2 3 24', '', 'a -9223372036854775808 600', 'a 9223372036854775807 18446744073709551615']);
    expect(text.split('\n')[12]).toBe('a 0 8');
    expect(storedTraceFromText(text).toText()).toBe(text);
  });

  for (const [dir, name, offsets, out] of [
    ['pymalloc-3.11', 'random_seed7', [4096], 'random_seed7.off4096.out'],
    ['pymalloc-3.11', 'edge_null_results', [0], 'edge_null_results.out'],
    ['pymalloc-3.8', 'edge_realloc_rules', [0], 'edge_realloc_rules.out'],
    ['pymalloc-3.7', 'edge_arena_release', [2048], 'edge_arena_release.off2048.out'],
  ] as const) {
    it(`replays ${dir}/${name} to the golden dump byte for byte`, () => {
      const text = readFileSync(join(GOLDEN, dir, `${name}.trace`), 'utf8');
      const python = dir.slice('pymalloc-'.length);
      const t = storedTraceFromText(text);
      expect(replayStored(t, python, [...offsets], true)).toBe(readFileSync(join(GOLDEN, dir, out), 'utf8'));
    });
  }

  it('names the original line in liveness errors', () => {
    const t = storedTraceFromText('# c\n\na 1 16\n# x\nf 1\n\n\nf 1\n');
    expect(() => replayStored(t, '3.11', [0], false)).toThrow('line 8: free of id 1, which is not live');
    const u = storedTraceFromText('a 7 16\n#\na 7 32\n');
    expect(() => replayStored(u, '3.11', [0], false)).toThrow('line 3: id 7 is already live');
  });

  it('replays a prefix and reports progress', () => {
    const text = Array.from({ length: 70000 }, (_, i) => `a ${i} 16`).join('\n');
    const t = storedTraceFromText(text);
    const progress: [number, number][] = [];
    let n = 0;
    t.replay({ op: () => void n++ }, (d, tot) => progress.push([d, tot]), 65537);
    expect(n).toBe(65537);
    expect(progress).toEqual([
      [65536, 65537],
      [65537, 65537],
    ]);
    // The same heap as the text replay of the first 3 lines.
    const head = storedTraceFromText('a 1 16\na 2 600\nf 1\n');
    expect(replayStored(head, '3.9', [0], false)).toBe(replayText('a 1 16\na 2 600\nf 1\n', { python: '3.9' }));
  });

  it('grows past its first capacity (many ops, callocs and gaps)', () => {
    const b = new StoredTraceBuilder();
    const r = new TraceReader(b);
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(i % 7 === 0 ? `# ${i}` : i % 5 === 0 ? `c ${i} 2 ${i}` : `a ${i} ${i}`);
    r.push(lines.join('\n'));
    r.end();
    const t = b.finish();
    expect(t.length).toBe(5000 - Math.ceil(5000 / 7));
    expect(t.callocs).toBe(lines.filter((l) => l.startsWith('c')).length);
    expect(t.toText().split('\n').slice(0, 5000)).toEqual(lines.map((l) => (l.startsWith('#') ? '' : l)));
  });
});
