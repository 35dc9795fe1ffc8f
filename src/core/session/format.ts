/**
 * The session file: a versioned binary container (SPEC.md is the authority; this is the code).
 *
 *     offset  size  field
 *     0       8     magic "PYHEAP\0\x1a"
 *     8       4     format version, u32 LE (1)
 *     12      4     header length H, u32 LE
 *     16      8     file length, u64 LE (the whole file, checksum included)
 *     24      H     header: JSON, ASCII only (other characters as \u escapes)
 *                   zero padding to a multiple of 8
 *                   blobs, each at a multiple of 8, in header.blobs order, zero padding between
 *     end-4   4     CRC-32 of every byte before it, u32 LE
 *
 * The frame (magic, version, file length, trailing CRC-32) is the same in every version, so a
 * file is recognised, and damage detected, before its version is looked at.
 *
 * `encodeSession(doc)` writes the current version; `decodeSession(bytes)` checks the frame,
 * migrates older versions (migrate.ts), validates every header field (schema.ts), the blob
 * layout, the decompressed sizes and the trace columns (trace-columns.ts), and returns a
 * SessionDoc, or throws a SessionFormatError naming what is wrong and where. Nothing in a file
 * can make it throw anything else or return a different document than was saved.
 */
import { deflateSync, inflateSync } from 'fflate';
import { crc32 } from './crc32';
import { SessionFormatError } from './errors';
import { CURRENT_FORMAT_VERSION, migrate } from './migrate';
import type { SessionDoc, SessionInput } from './model';
import { validateHeader, type BlobCodec, type BlobV1, type HeaderV1, type InputV1 } from './schema';
import type { StoredTrace } from './stored-trace';
import { TRACE_COLUMNS, decodeTraceColumns, encodeTraceColumns, type EncodedTraceColumns, type TraceColumn } from './trace-columns';

export { SessionFormatError } from './errors';
export { CURRENT_FORMAT_VERSION } from './migrate';

/** "PYHEAP", NUL, Ctrl-Z (stops `type` on DOS, as in PNG's signature). */
export const SESSION_MAGIC: Uint8Array = Uint8Array.of(0x50, 0x59, 0x48, 0x45, 0x41, 0x50, 0x00, 0x1a);
export const PREAMBLE_SIZE = 24;
export const CHECKSUM_SIZE = 4;
/** The header is parsed whole; larger is not a file this app wrote. */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;
/** Deflate expands at most 1032:1 (a 258-byte match in under 2 bits, RFC 1951). */
const DEFLATE_MAX_RATIO = 1032;

export interface EncodeOptions {
  /** Deflate level 1 (fastest, default) to 9. */
  level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/** What `decodeSessionFile` learns besides the document. */
export interface DecodedSessionFile {
  doc: SessionDoc;
  /** The version the file was written in (before migration). */
  version: number;
  /** File size in bytes. */
  size: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

function u32At(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function putU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = v >>> 24;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Compresses a column, or keeps it as is when deflate would not save a tenth of it. */
export function packColumn(raw: Uint8Array, level: NonNullable<EncodeOptions['level']>): { codec: BlobCodec; data: Uint8Array } {
  if (raw.length === 0) return { codec: 'none', data: raw };
  const SLICE = 1 << 16;
  if (raw.length > 16 * SLICE) {
    // Nearly random columns (the ids of frees) do not shrink: try four slices spread over the
    // column before the whole (its start alone is not typical: a trace's live set grows first).
    const sample = new Uint8Array(4 * SLICE);
    for (let k = 0; k < 4; k++) {
      const at = Math.floor(((raw.length - SLICE) * (2 * k + 1)) / 8);
      sample.set(raw.subarray(at, at + SLICE), k * SLICE);
    }
    if (deflateSync(sample, { level }).length > 0.9 * sample.length) return { codec: 'none', data: raw };
  }
  const z = deflateSync(raw, { level });
  return z.length < 0.9 * raw.length ? { codec: 'deflate', data: z } : { codec: 'none', data: raw };
}

/** JSON with every character outside printable ASCII written as a \u escape. */
function asciiJson(v: unknown): Uint8Array {
  const s = JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function inputToDisk(x: SessionInput, addBlob: (raw: Uint8Array) => number): InputV1 {
  let d: InputV1;
  switch (x.kind) {
    case 'python':
      d = { kind: 'python', code: x.code };
      break;
    case 'workload':
      d = { kind: 'workload', spec: x.spec };
      break;
    case 'trace': {
      const cols = encodeTraceColumns(x.trace);
      const columns = {} as Record<TraceColumn, number>;
      for (const k of TRACE_COLUMNS) columns[k] = addBlob(cols[k]);
      d = { kind: 'trace', name: x.name, ops: x.trace.length, columns };
      break;
    }
  }
  if (x.interruptedAt !== undefined) d.interruptedAt = x.interruptedAt;
  return d;
}

/**
 * The session as a file of the current format version. Throws a SessionFormatError when the
 * document breaks a rule of the format (the message starts "cannot save: "), so every file
 * written is one `decodeSession` accepts.
 */
export function encodeSession(doc: SessionDoc, options: EncodeOptions = {}): Uint8Array {
  const level = options.level ?? 1;
  const payloads: Uint8Array[] = [];
  const blobs: BlobV1[] = [];
  const addBlob = (raw: Uint8Array): number => {
    const p = packColumn(raw, level);
    payloads.push(p.data);
    blobs.push({ offset: 0, length: p.data.length, rawLength: raw.length, codec: p.codec });
    return blobs.length - 1;
  };
  const header: HeaderV1 = {
    settings: {
      python: doc.settings.python,
      pythonMalloc: doc.settings.pythonMalloc,
      placement:
        doc.settings.placement.kind === 'offsets'
          ? { kind: 'offsets', offsets: [...doc.settings.placement.offsets] }
          : { kind: 'aslr', seed: doc.settings.placement.seed },
      memoryLimit: doc.settings.memoryLimit,
    },
    inputs: doc.inputs.map((x) => inputToDisk(x, addBlob)),
    position: doc.position,
    ui: {
      view: doc.ui.view,
      selection: doc.ui.selection,
      bookmarks: doc.ui.bookmarks.map((b) => ({ op: b.op, label: b.label })),
    },
    blobs,
  };
  try {
    validateHeader(JSON.parse(JSON.stringify(header)));
  } catch (e) {
    if (e instanceof SessionFormatError) throw new SessionFormatError(`cannot save: ${e.message}`);
    throw e;
  }
  return layoutContainer(CURRENT_FORMAT_VERSION, header, payloads);
}

/**
 * Lays out a container: fills `header.blobs[i].offset` for `payloads[i]`, writes the frame and
 * the checksum. `headerSlack` reserves that many extra header bytes (spaces), and `patch`
 * may change the header after the offsets are known, within that slack: both only for tools
 * that make damaged fixtures.
 */
export function layoutContainer<H extends { blobs: { offset: number }[] }>(
  version: number,
  header: H,
  payloads: readonly Uint8Array[],
  headerSlack = 0,
  patch?: (header: H) => void,
): Uint8Array {
  const probe = asciiJson(header).length;
  let h = probe + headerSlack;
  // Offsets have more digits than the placeholders: grow until the text fits its room.
  for (;;) {
    let at = align8(PREAMBLE_SIZE + h);
    for (let i = 0; i < payloads.length; i++) {
      header.blobs[i]!.offset = at;
      at = align8(at + payloads[i]!.length);
    }
    const len = asciiJson(header).length + headerSlack;
    if (len <= h) break;
    h = len;
  }
  if (patch !== undefined) patch(header);
  const text = asciiJson(header);
  if (text.length > h) throw new Error('layoutContainer: the patched header outgrew its slack');
  const bodyStart = align8(PREAMBLE_SIZE + h);
  let end = bodyStart;
  for (const p of payloads) end = align8(end + p.length);
  const size = end + CHECKSUM_SIZE;
  const out = new Uint8Array(size);
  out.set(SESSION_MAGIC, 0);
  putU32(out, 8, version);
  putU32(out, 12, h);
  putU32(out, 16, size % 0x1_0000_0000);
  putU32(out, 20, Math.floor(size / 0x1_0000_0000));
  out.set(text, PREAMBLE_SIZE);
  out.fill(0x20, PREAMBLE_SIZE + text.length, PREAMBLE_SIZE + h);
  for (let i = 0; i < payloads.length; i++) out.set(payloads[i]!, header.blobs[i]!.offset);
  putU32(out, size - CHECKSUM_SIZE, crc32(out.subarray(0, size - CHECKSUM_SIZE)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const FOREIGN: [string, number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a ZIP archive', [0x50, 0x4b, 0x03, 0x04]],
  ['a gzip file', [0x1f, 0x8b]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a SQLite database', [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65]],
];

/** " (it looks like ...)" for files of well-known kinds. */
function sniff(b: Uint8Array): string {
  for (const [what, sig] of FOREIGN) {
    if (b.length >= sig.length && sig.every((x, i) => b[i] === x)) return ` (it looks like ${what})`;
  }
  let i = 0;
  while (i < b.length && i < 64 && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09 || b[i] === 0xef || b[i] === 0xbb || b[i] === 0xbf)) i++;
  if (b[i] === 0x7b || b[i] === 0x5b) return ' (it looks like JSON text)';
  const head = b.subarray(0, Math.min(b.length, 512));
  if (!head.every((x) => x === 0x09 || x === 0x0a || x === 0x0d || (x >= 0x20 && x < 0x7f))) return '';
  const lines = String.fromCharCode(...head).split('\n');
  if (head.length === 512) lines.pop(); // maybe cut short
  const op = /^\s*[acrf]\s+-?\d+(\s+\d+){0,2}\s*$/;
  const trace = lines.some((l) => op.test(l)) && lines.every((l) => op.test(l) || /^\s*(#.*)?$/.test(l));
  return trace ? ' (it looks like an allocation trace: import it instead)' : ' (it looks like a text file)';
}

/** Checks the frame; returns the version and header length. */
function readFrame(b: Uint8Array): { version: number; headerLength: number } {
  const n = b.length;
  if (n === 0) throw new SessionFormatError('the file is empty');
  for (let i = 0; i < SESSION_MAGIC.length && i < n; i++) {
    if (b[i] !== SESSION_MAGIC[i]) throw new SessionFormatError(`not a PyHeap Lab session file${sniff(b)}`);
  }
  const min = PREAMBLE_SIZE + CHECKSUM_SIZE;
  if (n < min) throw new SessionFormatError(`the file is truncated: ${n} bytes, less than the ${min} of the smallest session file`);
  const declared = u32At(b, 16) + u32At(b, 20) * 0x1_0000_0000;
  if (declared > n) throw new SessionFormatError(`the file is truncated: ${n} of its ${declared} bytes are there`);
  if (declared < n) throw new SessionFormatError(`the file is damaged: it has ${n - declared} bytes more than the ${declared} it declares`);
  if (crc32(b.subarray(0, n - CHECKSUM_SIZE)) !== u32At(b, n - CHECKSUM_SIZE)) {
    throw new SessionFormatError('checksum mismatch: the file is damaged');
  }
  return { version: u32At(b, 8), headerLength: u32At(b, 12) };
}

/**
 * Checks only the frame (magic, file length, checksum) and the version: a cheap test that the
 * bytes are an intact session file this app can read, before handing them on to be decoded.
 */
export function checkSessionFrame(bytes: Uint8Array): { version: number } {
  const { version } = readFrame(bytes);
  if (version < 1 || version > CURRENT_FORMAT_VERSION) migrate({ version, header: null, file: bytes });
  return { version };
}

function parseHeaderJson(b: Uint8Array, headerLength: number): unknown {
  const end = PREAMBLE_SIZE + headerLength;
  if (headerLength > MAX_HEADER_BYTES) throw new SessionFormatError(`header: ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} allowed`);
  if (end > b.length - CHECKSUM_SIZE) throw new SessionFormatError(`header: its length ${headerLength} runs past the end of the file`);
  const parts: string[] = [];
  for (let p = PREAMBLE_SIZE; p < end; p += 8192) {
    const chunk = b.subarray(p, Math.min(end, p + 8192));
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i]! >= 0x80) throw new SessionFormatError(`header: byte ${p + i - PREAMBLE_SIZE} is 0x${chunk[i]!.toString(16)}, not ASCII`);
    }
    parts.push(String.fromCharCode.apply(null, chunk as unknown as number[]));
  }
  try {
    return JSON.parse(parts.join('')) as unknown;
  } catch (e) {
    throw new SessionFormatError(`header: not valid JSON (${(e as Error).message})`);
  }
}

/** Checks that blobs follow the header in order, each at the next multiple of 8, and fill the file. */
function checkLayout(b: Uint8Array, headerLength: number, blobs: readonly BlobV1[]): void {
  let at = align8(PREAMBLE_SIZE + headerLength);
  let zeroFrom = PREAMBLE_SIZE + headerLength;
  const isZero = (from: number, to: number, what: string): void => {
    for (let i = from; i < to; i++) if (b[i] !== 0) throw new SessionFormatError(`${what}: byte ${i} of the padding is not zero`);
  };
  const bodyEnd = b.length - CHECKSUM_SIZE;
  for (let i = 0; i < blobs.length; i++) {
    const x = blobs[i]!;
    const w = `header.blobs[${i}]`;
    if (x.offset !== at) throw new SessionFormatError(`${w}.offset: ${x.offset}, expected ${at} (blobs follow each other at multiples of 8)`);
    if (x.offset + x.length > bodyEnd) throw new SessionFormatError(`${w}: bytes ${x.offset} to ${x.offset + x.length} run past the end of the data (${bodyEnd})`);
    if (x.codec === 'none' && x.rawLength !== x.length) throw new SessionFormatError(`${w}: stored uncompressed, so rawLength ${x.rawLength} must equal length ${x.length}`);
    if (x.codec === 'deflate' && x.rawLength > x.length * DEFLATE_MAX_RATIO) {
      throw new SessionFormatError(`${w}: rawLength ${x.rawLength} is more than deflate can expand ${x.length} bytes to`);
    }
    isZero(zeroFrom, at, `before ${w}`);
    zeroFrom = x.offset + x.length;
    at = align8(zeroFrom);
  }
  if (at !== bodyEnd) throw new SessionFormatError(`the data ends at byte ${at}, but the checksum is at ${bodyEnd}`);
  isZero(zeroFrom, at, 'after the last blob');
}

function inflateBlob(b: Uint8Array, x: BlobV1, where: string): Uint8Array {
  const data = b.subarray(x.offset, x.offset + x.length);
  if (x.codec === 'none') return data;
  let out: Uint8Array;
  try {
    // One byte of room more than declared, so data that inflates to more is noticed.
    out = inflateSync(data, { out: new Uint8Array(x.rawLength + 1) });
  } catch (e) {
    throw new SessionFormatError(`${where}: the compressed data is damaged (${(e as Error).message})`);
  }
  if (out.length > x.rawLength) throw new SessionFormatError(`${where}: decompresses to more than the ${x.rawLength} bytes the header says`);
  if (out.length < x.rawLength) throw new SessionFormatError(`${where}: decompresses to ${out.length} bytes, the header says ${x.rawLength}`);
  return out.subarray(0, x.rawLength);
}

/** Plausible raw sizes of each column for `ops` operations, checked before inflating. */
function columnBounds(k: TraceColumn, ops: number): [number, number] {
  switch (k) {
    case 'kinds':
      return [Math.ceil(ops / 4), Math.ceil(ops / 4)];
    case 'newIds':
    case 'refIds':
    case 'sizes':
    case 'counts':
      return [0, 8 * ops];
    case 'gaps':
      return [0, 16 * ops];
    case 'wide':
      return [0, 24 * ops];
  }
}

function diskToInput(x: InputV1, i: number, b: Uint8Array, blobs: readonly BlobV1[]): SessionInput {
  let m: SessionInput;
  switch (x.kind) {
    case 'python':
      m = { kind: 'python', code: x.code };
      break;
    case 'workload':
      m = { kind: 'workload', spec: x.spec };
      break;
    case 'trace': {
      const where = `header.inputs[${i}]`;
      const cols = {} as EncodedTraceColumns;
      for (const k of TRACE_COLUMNS) {
        const bi = x.columns[k];
        const blob = blobs[bi]!;
        const [lo, hi] = columnBounds(k, x.ops);
        if (blob.rawLength < lo || blob.rawLength > hi) {
          throw new SessionFormatError(`${where}: column '${k}' (blob ${bi}): rawLength ${blob.rawLength} is impossible for ${x.ops} operations (${lo} to ${hi})`);
        }
        cols[k] = inflateBlob(b, blob, `${where}: column '${k}' (blob ${bi})`);
      }
      const trace: StoredTrace = decodeTraceColumns(cols, x.ops, where);
      m = { kind: 'trace', name: x.name, trace };
      break;
    }
  }
  if (x.interruptedAt !== undefined) m.interruptedAt = x.interruptedAt;
  return m;
}

/** Decodes and validates a session file; throws SessionFormatError for anything wrong. */
export function decodeSessionFile(bytes: Uint8Array): DecodedSessionFile {
  const { version, headerLength } = readFrame(bytes);
  // The frame is intact: a version we do not know is the file's, not damage.
  if (version < 1 || version > CURRENT_FORMAT_VERSION) migrate({ version, header: null, file: bytes });
  const json = parseHeaderJson(bytes, headerLength);
  const m = migrate({ version, header: json, file: bytes });
  const h = validateHeader(m.header);
  // A migration may have laid the file out anew: read its header length again.
  checkLayout(m.file, m.file === bytes ? headerLength : u32At(m.file, 12), h.blobs);
  const inputs = h.inputs.map((x, i) => diskToInput(x, i, m.file, h.blobs));
  const s = h.settings;
  const doc: SessionDoc = {
    settings: {
      python: s.python,
      pythonMalloc: s.pythonMalloc,
      placement: s.placement.kind === 'offsets' ? { kind: 'offsets', offsets: s.placement.offsets } : { kind: 'aslr', seed: s.placement.seed },
      memoryLimit: s.memoryLimit,
    },
    inputs,
    position: h.position,
    ui: { view: h.ui.view, selection: h.ui.selection, bookmarks: h.ui.bookmarks.map((x) => ({ op: x.op, label: x.label })) },
  };
  return { doc, version, size: bytes.length };
}

export function decodeSession(bytes: Uint8Array): SessionDoc {
  return decodeSessionFile(bytes).doc;
}

/** Operations stored in the trace inputs of a session (what bytes per operation counts). */
export function traceOperations(doc: SessionDoc): number {
  let n = 0;
  for (const x of doc.inputs) if (x.kind === 'trace') n += x.trace.length;
  return n;
}
