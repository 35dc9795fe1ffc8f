/**
 * A streaming reader for the allocation-trace format of trace-format.md:
 *
 *     a ID SIZE        PyObject_Malloc(SIZE)
 *     c ID N SIZE      PyObject_Calloc(N, SIZE)
 *     r ID NEWSIZE     PyObject_Realloc(block ID, NEWSIZE)  (realloc(NULL, ..) if ID is not live)
 *     f ID             PyObject_Free(block ID)
 *     # comment, blank lines: ignored
 *
 * Text arrives in chunks of any size (`push`), so a 10-million-line trace is never held as one
 * string. Each operation is handed to a sink as soon as its line is complete; the reader
 * exposes the fields of the current operation instead of allocating an object per line.
 *
 * IDs are signed 64-bit decimals, sizes unsigned 64-bit decimals. Values that a double holds
 * exactly stay numbers; larger sizes are bigints, larger IDs are keyed by their decimal text.
 * Anything else is a `TraceError` naming the line.
 */

export const OP_MALLOC = 0;
export const OP_CALLOC = 1;
export const OP_REALLOC = 2;
export const OP_FREE = 3;
export type OpKind = typeof OP_MALLOC | typeof OP_CALLOC | typeof OP_REALLOC | typeof OP_FREE;

/** A block's name: a number when it is a safe integer, else its canonical decimal text. */
export type IdKey = number | string;

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

export class TraceError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceError';
    this.line = line;
  }
}

/** Receives each operation; reads the fields from the reader. */
export interface TraceSink {
  op(r: TraceReader): void;
}

const C_SPACE = 32;
const C_TAB = 9;
const C_CR = 13;
const C_HASH = 35;
const C_MINUS = 45;
const C_0 = 48;
const C_9 = 57;

export class TraceReader {
  // ---- the current operation ----
  kind: OpKind = OP_MALLOC;
  id: IdKey = 0;
  /** Calloc element count (0 for other operations). */
  count: number | bigint = 0;
  size: number | bigint = 0;
  /** 1-based line number of the current operation. */
  line = 0;
  /** Operations read so far. */
  ops = 0;

  private readonly sink: TraceSink;
  private rest = '';
  private pos = 0;
  private text = '';

  constructor(sink: TraceSink) {
    this.sink = sink;
  }

  /** Feed the next piece of text. */
  push(chunk: string): void {
    let text = this.rest.length > 0 ? this.rest + chunk : chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line++;
      this.parseLine(text, start, nl);
      start = nl + 1;
    }
    this.rest = start < text.length ? text.slice(start) : '';
    text = '';
  }

  /** The input is complete: parse a last line without a newline. */
  end(): void {
    if (this.rest.length > 0) {
      const t = this.rest;
      this.rest = '';
      this.line++;
      this.parseLine(t, 0, t.length);
    }
  }

  /** Parse text[start, end) as one line. */
  private parseLine(text: string, start: number, end: number): void {
    if (end > start && text.charCodeAt(end - 1) === C_CR) end--;
    this.text = text;
    this.pos = start;
    this.skipSpace(end);
    if (this.pos >= end) return;
    const c = text.charCodeAt(this.pos);
    if (c === C_HASH) return;
    this.pos++;
    switch (c) {
      case 97: // a
        this.kind = OP_MALLOC;
        break;
      case 99: // c
        this.kind = OP_CALLOC;
        break;
      case 114: // r
        this.kind = OP_REALLOC;
        break;
      case 102: // f
        this.kind = OP_FREE;
        break;
      default:
        throw new TraceError(this.line, `unknown operation '${text.slice(this.pos - 1, Math.min(end, this.pos + 15)).split(/\s/)[0]}' (expected a, c, r, f or #)`);
    }
    const k = this.kind;
    if (this.pos < end && !isSpace(text.charCodeAt(this.pos))) {
      throw new TraceError(this.line, `unknown operation '${text.slice(this.pos - 1, end).split(/\s/)[0]}' (expected a, c, r, f or #)`);
    }
    this.id = this.readId(end);
    this.count = 0;
    this.size = 0;
    if (k === OP_CALLOC) {
      this.count = this.readU64(end, 'count');
      this.size = this.readU64(end, 'size');
    } else if (k !== OP_FREE) {
      this.size = this.readU64(end, 'size');
    }
    this.skipSpace(end);
    if (this.pos < end) {
      const usage = ['a ID SIZE', 'c ID N SIZE', 'r ID NEWSIZE', 'f ID'][k];
      throw new TraceError(this.line, `unexpected '${text.slice(this.pos, Math.min(end, this.pos + 20))}' after the operation (expected '${usage}')`);
    }
    this.ops++;
    this.sink.op(this);
  }

  private skipSpace(end: number): void {
    const t = this.text;
    while (this.pos < end) {
      const c = t.charCodeAt(this.pos);
      if (c !== C_SPACE && c !== C_TAB) break;
      this.pos++;
    }
  }

  private readToken(end: number, what: string): string {
    this.skipSpace(end);
    const s = this.pos;
    const t = this.text;
    while (this.pos < end && !isSpace(t.charCodeAt(this.pos))) this.pos++;
    if (this.pos === s) {
      const usage = ['a ID SIZE', 'c ID N SIZE', 'r ID NEWSIZE', 'f ID'][this.kind];
      throw new TraceError(this.line, `missing ${what} (expected '${usage}')`);
    }
    return t.slice(s, this.pos);
  }

  /**
   * The fast path of both number readers: 1 to 15 decimal digits (exact in a double) starting
   * `skip` characters into the token and ending it. Returns the value and moves past the
   * token, or -1 (position unchanged) for anything else, which the slow path then judges.
   */
  private scanDigits(end: number, skip: number): number {
    const t = this.text;
    const d0 = this.pos + skip;
    let i = d0;
    let v = 0;
    for (; i < end; i++) {
      const c = t.charCodeAt(i);
      if (c < C_0 || c > C_9) break;
      v = v * 10 + (c - C_0);
    }
    const nd = i - d0;
    if (nd === 0 || nd > 15 || (i < end && !isSpace(t.charCodeAt(i)))) return -1;
    this.pos = i;
    return v;
  }

  private readId(end: number): IdKey {
    this.skipSpace(end);
    const neg = this.pos < end && this.text.charCodeAt(this.pos) === C_MINUS;
    const v = this.scanDigits(end, neg ? 1 : 0);
    if (v >= 0) return neg ? -v : v;
    const tok = this.readToken(end, 'id');
    let j = tok.charCodeAt(0) === C_MINUS ? 1 : 0;
    if (j === tok.length) throw new TraceError(this.line, `bad id '${tok}' (expected a signed 64-bit integer)`);
    for (; j < tok.length; j++) {
      const c = tok.charCodeAt(j);
      if (c < C_0 || c > C_9) throw new TraceError(this.line, `bad id '${tok}' (expected a signed 64-bit integer)`);
    }
    const b = BigInt(tok);
    if (b < I64_MIN || b > I64_MAX) throw new TraceError(this.line, `id ${tok} is out of range (a signed 64-bit integer)`);
    const n = Number(b);
    return Number.isSafeInteger(n) ? n : b.toString();
  }

  private readU64(end: number, what: string): number | bigint {
    this.skipSpace(end);
    const v = this.scanDigits(end, 0);
    if (v >= 0) return v;
    const tok = this.readToken(end, what);
    for (let j = 0; j < tok.length; j++) {
      const c = tok.charCodeAt(j);
      if (c < C_0 || c > C_9) throw new TraceError(this.line, `bad ${what} '${tok}' (expected an unsigned 64-bit integer)`);
    }
    const b = BigInt(tok);
    if (b > U64_MAX) throw new TraceError(this.line, `${what} ${tok} is out of range (at most 18446744073709551615)`);
    const n = Number(b);
    return Number.isSafeInteger(n) ? n : b;
  }
}

function isSpace(c: number): boolean {
  return c === C_SPACE || c === C_TAB || c === C_CR;
}

/** The decimal text of an id key. */
export function idText(id: IdKey): string {
  return typeof id === 'number' ? String(id) : id;
}
