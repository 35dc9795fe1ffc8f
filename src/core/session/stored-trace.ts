/**
 * An imported allocation trace kept whole, so a saved session can reprint its dump byte for byte.
 *
 * Unlike `CompiledTrace` (which renames ids to dense slots and forgets line numbers), a
 * StoredTrace keeps everything the text said that can change what a replay prints or reports:
 * the operation kinds, the original ids (signed 64-bit), the sizes and calloc counts (unsigned
 * 64-bit), and the line number of every operation (comments and blank lines are dropped, but
 * the line numbers they shifted are kept, so a liveness error names the original line).
 *
 * Layout (struct of typed arrays, one entry per operation unless noted):
 *
 *     kinds   Uint8Array    OP_MALLOC | OP_CALLOC | OP_REALLOC | OP_FREE
 *     ids     Int32Array    the id, or ID_WIDE: the id is the next entry of `wideIds`
 *     sizes   Uint32Array   the size (0 for a free), or U32_WIDE: the next entry of `wideValues`
 *     counts  Uint32Array   one per calloc, in order: its element count, or U32_WIDE
 *     gapOps / gapLines     sparse: before operation gapOps[k], gapLines[k] extra lines
 *                           (comments, blanks) were skipped
 *
 * Key invariant: `wideIds` holds exactly the ids stored as ID_WIDE, and `wideValues` exactly the
 * counts and sizes stored as U32_WIDE, both in operation order (for a calloc, count before
 * size). So the exceptions are read with running cursors, and a replay is sequential.
 *
 * `replay(sink)` drives any TraceSink (StreamReplay, TraceCompiler, ...) with the very values a
 * TraceReader would have produced from the text: ids are numbers when they are safe integers and
 * canonical decimal strings beyond, sizes are numbers or bigints the same way.
 */
import { OP_CALLOC, OP_FREE, TraceReader, idText, type IdKey, type OpKind, type TraceSink } from '../trace/reader';

/** In `ids`: the id does not fit an int32 (or is this very value); see `wideIds`. */
export const ID_WIDE = -0x8000_0000;
/** In `sizes` and `counts`: the value is 2^32 - 1 or more; see `wideValues`. */
export const U32_WIDE = 0xffff_ffff;

export interface StoredTraceColumns {
  kinds: Uint8Array;
  ids: Int32Array;
  sizes: Uint32Array;
  counts: Uint32Array;
  wideIds: IdKey[];
  wideValues: (number | bigint)[];
  gapOps: Uint32Array;
  gapLines: Float64Array;
}

export class StoredTrace implements StoredTraceColumns {
  readonly kinds: Uint8Array;
  readonly ids: Int32Array;
  readonly sizes: Uint32Array;
  readonly counts: Uint32Array;
  readonly wideIds: IdKey[];
  readonly wideValues: (number | bigint)[];
  readonly gapOps: Uint32Array;
  readonly gapLines: Float64Array;

  /** Takes the columns as they are (no copy); `decodeSession` has validated them. */
  constructor(c: StoredTraceColumns) {
    this.kinds = c.kinds;
    this.ids = c.ids;
    this.sizes = c.sizes;
    this.counts = c.counts;
    this.wideIds = c.wideIds;
    this.wideValues = c.wideValues;
    this.gapOps = c.gapOps;
    this.gapLines = c.gapLines;
  }

  /** Number of operations. */
  get length(): number {
    return this.kinds.length;
  }

  /** Number of calloc operations (entries of `counts`). */
  get callocs(): number {
    return this.counts.length;
  }

  /** Parses trace text (a TraceError names a malformed line); no liveness check. */
  static fromText(text: string): StoredTrace {
    return storedTraceFromText(text);
  }

  /**
   * Feeds operations [0, end) to `sink` through a TraceReader whose fields (kind, id, count,
   * size, line, ops) hold what reading the original text would have put there. Errors the sink
   * throws (TraceError with the original line) pass through. `onProgress(done, total)` is
   * called every 65536 operations and at the end. Returns the reader.
   */
  replay(sink: TraceSink, onProgress?: (done: number, total: number) => void, end: number = this.length): TraceReader {
    const c = new StoredTraceCursor(this, sink);
    const n = Math.max(0, Math.min(end, this.length));
    while (c.pos < n) {
      c.runTo(Math.min(n, c.pos + 0x10000));
      if (onProgress !== undefined && c.pos < n) onProgress(c.pos, n);
    }
    if (onProgress !== undefined) onProgress(n, n);
    return c.reader;
  }

  /**
   * The trace as text in the format of trace-format.md, one operation per line, with an empty
   * line for every skipped line (comments are not kept), so line numbers are the original ones.
   */
  toText(): string {
    const out: string[] = [];
    const names = ['a', 'c', 'r', 'f'];
    let line = 0;
    this.replay({
      op(r: TraceReader): void {
        while (line < r.line - 1) {
          out.push('');
          line++;
        }
        line++;
        const id = idText(r.id);
        const k = names[r.kind]!;
        if (r.kind === OP_FREE) out.push(`${k} ${id}`);
        else if (r.kind === OP_CALLOC) out.push(`${k} ${id} ${r.count} ${r.size}`);
        else out.push(`${k} ${id} ${r.size}`);
      },
    });
    return out.length > 0 ? out.join('\n') + '\n' : '';
  }
}

/**
 * A replay that can pause: `runTo(k)` feeds the operations up to k to the sink, and the next
 * call goes on from there (so a caller can wait for output to drain in between).
 */
export class StoredTraceCursor {
  readonly trace: StoredTrace;
  /** The reader the sink is given; after an operation it holds that operation's fields. */
  readonly reader: TraceReader;
  /** Operations fed so far. */
  pos = 0;
  private readonly sink: TraceSink;
  private line = 0;
  private wi = 0;
  private wv = 0;
  private ci = 0;
  private gi = 0;

  constructor(trace: StoredTrace, sink: TraceSink) {
    this.trace = trace;
    this.sink = sink;
    this.reader = new TraceReader(sink);
  }

  /** Feeds operations [pos, end) to the sink. */
  runTo(end: number): void {
    const { kinds, ids, sizes, counts, wideIds, wideValues, gapOps, gapLines } = this.trace;
    const r = this.reader;
    const sink = this.sink;
    const n = Math.min(end, kinds.length);
    let { line, wi, wv, ci, gi } = this;
    let nextGap = gi < gapOps.length ? gapOps[gi]! : -1;
    let i = this.pos;
    try {
      for (; i < n; i++) {
        line++;
        if (i === nextGap) {
          line += gapLines[gi++]!;
          nextGap = gi < gapOps.length ? gapOps[gi]! : -1;
        }
        const k = kinds[i]! as OpKind;
        const id = ids[i]!;
        r.kind = k;
        r.id = id === ID_WIDE ? wideIds[wi++]! : id;
        if (k === OP_CALLOC) {
          const c = counts[ci++]!;
          r.count = c === U32_WIDE ? wideValues[wv++]! : c;
        } else {
          r.count = 0;
        }
        if (k === OP_FREE) {
          r.size = 0;
        } else {
          const s = sizes[i]!;
          r.size = s === U32_WIDE ? wideValues[wv++]! : s;
        }
        r.line = line;
        r.ops = i + 1;
        sink.op(r);
      }
    } finally {
      // After a sink error the cursor stands past the failed operation, as a reader would.
      this.pos = i < n ? i + 1 : i;
      this.line = line;
      this.wi = wi;
      this.wv = wv;
      this.ci = ci;
      this.gi = gi;
    }
  }
}

/** A TraceSink that records every operation it is given; `finish()` returns the StoredTrace. */
export class StoredTraceBuilder implements TraceSink {
  private n = 0;
  private kinds = new Uint8Array(1024);
  private ids = new Int32Array(1024);
  private sizes = new Uint32Array(1024);
  private counts = new Uint32Array(64);
  private ncounts = 0;
  private readonly wideIds: IdKey[] = [];
  private readonly wideValues: (number | bigint)[] = [];
  private gapOps = new Uint32Array(16);
  private gapLines = new Float64Array(16);
  private ngaps = 0;
  private lastLine = 0;

  /** Operations recorded so far. */
  get length(): number {
    return this.n;
  }

  op(r: TraceReader): void {
    const i = this.n;
    if (i === this.kinds.length) this.grow();
    if (i >= 0x7fff_ffff) throw new Error('a stored trace holds at most 2147483647 operations');
    const k = r.kind;
    this.kinds[i] = k;
    const id = r.id;
    if (typeof id === 'number' && (id | 0) === id && id !== ID_WIDE) {
      this.ids[i] = id;
    } else {
      this.ids[i] = ID_WIDE;
      this.wideIds.push(id);
    }
    if (k === OP_CALLOC) {
      if (this.ncounts === this.counts.length) this.counts = growU32(this.counts, this.ncounts * 2);
      this.counts[this.ncounts++] = this.u32(r.count);
    }
    this.sizes[i] = k === OP_FREE ? 0 : this.u32(r.size);
    const skipped = r.line - this.lastLine - 1;
    if (skipped > 0) {
      if (this.ngaps === this.gapOps.length) {
        this.gapOps = growU32(this.gapOps, this.ngaps * 2);
        const g = new Float64Array(this.ngaps * 2);
        g.set(this.gapLines);
        this.gapLines = g;
      }
      this.gapOps[this.ngaps] = i;
      this.gapLines[this.ngaps++] = skipped;
    }
    this.lastLine = r.line;
    this.n = i + 1;
  }

  private u32(v: number | bigint): number {
    if (typeof v === 'number' && v < U32_WIDE) return v;
    this.wideValues.push(v);
    return U32_WIDE;
  }

  private grow(): void {
    const m = this.kinds.length * 2;
    const k = new Uint8Array(m);
    k.set(this.kinds);
    this.kinds = k;
    const d = new Int32Array(m);
    d.set(this.ids);
    this.ids = d;
    this.sizes = growU32(this.sizes, m);
  }

  /** The recorded trace (the builder must not be used afterwards). */
  finish(): StoredTrace {
    const n = this.n;
    return new StoredTrace({
      kinds: this.kinds.slice(0, n),
      ids: this.ids.slice(0, n),
      sizes: this.sizes.slice(0, n),
      counts: this.counts.slice(0, this.ncounts),
      wideIds: this.wideIds,
      wideValues: this.wideValues,
      gapOps: this.gapOps.slice(0, this.ngaps),
      gapLines: this.gapLines.slice(0, this.ngaps),
    });
  }
}

function growU32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}

/** Parses trace text (TraceError on a malformed line) into a StoredTrace. No liveness check. */
export function storedTraceFromText(text: string): StoredTrace {
  const b = new StoredTraceBuilder();
  const r = new TraceReader(b);
  r.push(text);
  r.end();
  return b.finish();
}

/** Sends each operation to every sink in turn (e.g. record and replay while reading). */
export class TeeSink implements TraceSink {
  private readonly sinks: readonly TraceSink[];
  constructor(...sinks: TraceSink[]) {
    this.sinks = sinks;
  }
  op(r: TraceReader): void {
    for (const s of this.sinks) s.op(r);
  }
}
