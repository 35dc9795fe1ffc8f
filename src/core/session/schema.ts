/**
 * The JSON header of a session file as it is on disk (format v1; SPEC.md documents every field),
 * and its validator. These types are the file's, not the app's: `format.ts` converts between
 * them and the in-memory `SessionDoc`, so the model can change without changing old files.
 *
 * `validateHeader` checks every field's type, range and the absence of unknown fields, and
 * throws a SessionFormatError naming the field by its path, e.g.
 * `header.inputs[2].spec.seed: expected an integer from 0 to 4294967295, got 1.5`.
 * Cross-field checks that need the blobs (layout, columns) are in format.ts.
 */
import { PROFILE_IDS, getProfile, type ProfileId } from '../profiles';
import { PYTHONMALLOC_MODES, type PythonMallocMode } from '../objects/space';
import { WorkloadSpecError, parseWorkloadSpec, type WorkloadSpec } from '../workloads/spec';
import { SessionFormatError } from './errors';
import { TRACE_COLUMNS, type TraceColumn } from './trace-columns';

export type BlobCodec = 'deflate' | 'none';
export const BLOB_CODECS: readonly BlobCodec[] = ['deflate', 'none'];

/** Added in v1. */
export interface BlobV1 {
  /** Byte offset from the start of the file (a multiple of 8). */
  offset: number;
  /** Stored bytes. */
  length: number;
  /** Bytes after decompression. */
  rawLength: number;
  codec: BlobCodec;
}

export type PlacementV1 = { kind: 'offsets'; offsets: number[] } | { kind: 'aslr'; seed: number };

export interface SettingsV1 {
  python: ProfileId;
  pythonMalloc: PythonMallocMode;
  placement: PlacementV1;
  memoryLimit: number | null;
}

export type InputV1 = (
  | { kind: 'python'; code: string }
  | { kind: 'trace'; name: string; ops: number; columns: Record<TraceColumn, number> }
  | { kind: 'workload'; spec: WorkloadSpec }
) & {
  /** Present when the user cancelled the input after that many allocator calls. */
  interruptedAt?: number;
};

export interface BookmarkV1 {
  op: number;
  label: string;
}

export interface UiV1 {
  view: string;
  selection: number | null;
  bookmarks: BookmarkV1[];
}

export interface HeaderV1 {
  settings: SettingsV1;
  inputs: InputV1[];
  position: number;
  ui: UiV1;
  blobs: BlobV1[];
}

/** Limits of format v1 (a file beyond them is refused, and the writer refuses to write one). */
export const LIMITS = {
  inputs: 1_000_000,
  /** Per trace input: what a StoredTrace can hold (its index arithmetic is 32-bit). */
  traceOps: 0x7fff_ffff,
  nameChars: 4096,
  viewChars: 64,
  labelChars: 4096,
  bookmarks: 1_000_000,
  arenaOffsets: 4096,
  aslrSeedMax: 0xffff_ffff,
} as const;

type Obj = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new SessionFormatError(`${where}: ${message}`);
}

/** A short picture of a bad value (containers are only named: they may be nested deep). */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** An object with exactly the fields `keys`, plus any of `optional`. */
function obj(v: unknown, where: string, keys: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, `expected an object, got ${show(v)}`);
  const o = v as Obj;
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) fail(where, `unknown field ${JSON.stringify(k)}`);
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(o, k)) fail(`${where}.${k}`, 'missing');
  return o;
}

function arr(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(where, `expected an array, got ${show(v)}`);
  if (v.length > max) fail(where, `${v.length} entries, at most ${max} allowed`);
  return v;
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(where, `expected an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

function str(v: unknown, where: string, maxChars: number): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${show(v)}`);
  if (v.length > maxChars) fail(where, `a string of ${v.length} characters, at most ${maxChars} allowed`);
  return v;
}

function oneOf<T extends string>(v: unknown, where: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    fail(where, `expected one of ${values.join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

function kindOf(v: unknown, where: string, kinds: readonly string[]): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, `expected an object, got ${show(v)}`);
  return oneOf((v as Obj)['kind'], `${where}.kind`, kinds);
}

const SAFE = Number.MAX_SAFE_INTEGER;

function settings(v: unknown, where: string): SettingsV1 {
  const o = obj(v, where, ['python', 'pythonMalloc', 'placement', 'memoryLimit']);
  const python = oneOf(o['python'], `${where}.python`, PROFILE_IDS);
  const pythonMalloc = oneOf(o['pythonMalloc'], `${where}.pythonMalloc`, PYTHONMALLOC_MODES);
  const pw = `${where}.placement`;
  let placement: PlacementV1;
  if (kindOf(o['placement'], pw, ['offsets', 'aslr']) === 'offsets') {
    const p = obj(o['placement'], pw, ['kind', 'offsets']);
    const list = arr(p['offsets'], `${pw}.offsets`, LIMITS.arenaOffsets);
    if (list.length === 0) fail(`${pw}.offsets`, 'expected at least one offset');
    const arenaSize = getProfile(python).arenaSize;
    placement = { kind: 'offsets', offsets: list.map((x, i) => int(x, `${pw}.offsets[${i}]`, 0, arenaSize - 1)) };
  } else {
    const p = obj(o['placement'], pw, ['kind', 'seed']);
    placement = { kind: 'aslr', seed: int(p['seed'], `${pw}.seed`, 0, LIMITS.aslrSeedMax) };
  }
  const ml = o['memoryLimit'];
  const memoryLimit = ml === null ? null : int(ml, `${where}.memoryLimit`, 0, SAFE);
  return { python, pythonMalloc, placement, memoryLimit };
}

function input(v: unknown, where: string): InputV1 {
  const kind = kindOf(v, where, ['python', 'trace', 'workload']);
  const opt = ['interruptedAt'];
  let x: InputV1;
  if (kind === 'python') {
    const o = obj(v, where, ['kind', 'code'], opt);
    x = { kind, code: str(o['code'], `${where}.code`, SAFE) };
  } else if (kind === 'trace') {
    const o = obj(v, where, ['kind', 'name', 'ops', 'columns'], opt);
    const c = obj(o['columns'], `${where}.columns`, TRACE_COLUMNS);
    const columns = {} as Record<TraceColumn, number>;
    for (const k of TRACE_COLUMNS) columns[k] = int(c[k], `${where}.columns.${k}`, 0, SAFE);
    x = {
      kind,
      name: str(o['name'], `${where}.name`, LIMITS.nameChars),
      ops: int(o['ops'], `${where}.ops`, 0, LIMITS.traceOps),
      columns,
    };
  } else {
    const o = obj(v, where, ['kind', 'spec'], opt);
    try {
      x = { kind: 'workload', spec: parseWorkloadSpec(o['spec'], `${where}.spec`) };
    } catch (e) {
      if (e instanceof WorkloadSpecError) throw new SessionFormatError(e.message);
      // e.g. a RangeError from printing a value nested thousands deep
      throw new SessionFormatError(`${where}.spec: not a valid workload (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const ia = (v as Obj)['interruptedAt'];
  if (ia !== undefined) x.interruptedAt = int(ia, `${where}.interruptedAt`, 0, x.kind === 'trace' ? x.ops : SAFE);
  return x;
}

function ui(v: unknown, where: string): UiV1 {
  const o = obj(v, where, ['view', 'selection', 'bookmarks']);
  const view = str(o['view'], `${where}.view`, LIMITS.viewChars);
  if (view.length === 0) fail(`${where}.view`, 'expected a view name, got ""');
  const sel = o['selection'];
  const selection = sel === null ? null : int(sel, `${where}.selection`, 0, SAFE);
  const bookmarks = arr(o['bookmarks'], `${where}.bookmarks`, LIMITS.bookmarks).map((b, i) => {
    const bw = `${where}.bookmarks[${i}]`;
    const bo = obj(b, bw, ['op', 'label']);
    return { op: int(bo['op'], `${bw}.op`, 0, SAFE), label: str(bo['label'], `${bw}.label`, LIMITS.labelChars) };
  });
  return { view, selection, bookmarks };
}

function blob(v: unknown, where: string): BlobV1 {
  const o = obj(v, where, ['offset', 'length', 'rawLength', 'codec']);
  return {
    offset: int(o['offset'], `${where}.offset`, 0, SAFE),
    length: int(o['length'], `${where}.length`, 0, SAFE),
    rawLength: int(o['rawLength'], `${where}.rawLength`, 0, SAFE),
    codec: oneOf(o['codec'], `${where}.codec`, BLOB_CODECS),
  };
}

/**
 * Validates a parsed v1 header field by field. The layout of the blobs in the file and the
 * trace columns are checked by the decoder, which has the bytes.
 */
export function validateHeader(v: unknown): HeaderV1 {
  const o = obj(v, 'header', ['settings', 'inputs', 'position', 'ui', 'blobs']);
  const s = settings(o['settings'], 'header.settings');
  const inputs = arr(o['inputs'], 'header.inputs', LIMITS.inputs).map((x, i) => input(x, `header.inputs[${i}]`));
  const position = int(o['position'], 'header.position', 0, SAFE);
  const u = ui(o['ui'], 'header.ui');
  const blobs = arr(o['blobs'], 'header.blobs', LIMITS.inputs * TRACE_COLUMNS.length).map((b, i) => blob(b, `header.blobs[${i}]`));
  // Every blob belongs to exactly one column of one trace.
  const owner = new Array<string | undefined>(blobs.length);
  inputs.forEach((inp, i) => {
    if (inp.kind !== 'trace') return;
    for (const k of TRACE_COLUMNS) {
      const b = inp.columns[k];
      const w = `header.inputs[${i}].columns.${k}`;
      if (b >= blobs.length) fail(w, `blob ${b} does not exist (the file has ${blobs.length})`);
      if (owner[b] !== undefined) fail(w, `blob ${b} is already the column ${owner[b]}`);
      owner[b] = w.slice('header.'.length);
    }
  });
  const orphan = owner.findIndex((x) => x === undefined);
  if (orphan >= 0) fail(`header.blobs[${orphan}]`, 'belongs to no input');
  // A timeline index past the end is only knowable when every input is a trace.
  if (inputs.every((x) => x.kind === 'trace')) {
    const total = inputs.reduce((n, x) => n + (x.kind === 'trace' ? (x.interruptedAt ?? x.ops) : 0), 0);
    if (position > total) fail('header.position', `${position} is past the end of the session's ${total} operations`);
    u.bookmarks.forEach((b, i) => {
      if (b.op > total) fail(`header.ui.bookmarks[${i}].op`, `${b.op} is past the end of the session's ${total} operations`);
    });
  }
  return { settings: s, inputs, position, ui: u, blobs };
}
