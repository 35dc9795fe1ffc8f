/**
 * The session file format: fixtures of every version decode to pinned documents, the writer is
 * stable, and every damaged or foreign file of test/fixtures/session/invalid is refused with its
 * own message. Property tests flip bits and cut files everywhere: always a SessionFormatError,
 * never a crash and never a silently different document.
 * (Fixtures: node scripts/run-ts.mjs scripts/make-session-fixtures.ts)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CURRENT_FORMAT_VERSION,
  SESSION_MAGIC,
  SessionFormatError,
  decodeSession,
  decodeSessionFile,
  encodeSession,
  packColumn,
  traceOperations,
} from '../../src/core/session/format';
import { crc32 } from '../../src/core/session/crc32';
import { MIGRATIONS, migrate } from '../../src/core/session/migrate';
import type { SessionDoc } from '../../src/core/session/model';
import { storedTraceFromText, type StoredTrace } from '../../src/core/session/stored-trace';
import { StreamReplay, createReplayHeap, formatSummary } from '../../src/core/trace/replay';
import { mulberry32 } from '../../src/core/raw/address-space';

const FIX = resolve(__dirname, '../fixtures');
const V1 = join(FIX, 'session/v1');
const INVALID = join(FIX, 'session/invalid');

function load(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

function dump(t: StoredTrace, python: string, arenaOffsets: number[]): string {
  const heap = createReplayHeap({ python, arenaOffsets });
  const lines: string[] = [];
  t.replay(new StreamReplay(heap, (l) => lines.push(l)));
  return lines.join('\n') + '\n' + formatSummary(heap, true);
}

/** The document with each trace replaced by its text, for deep comparison. */
function plain(doc: SessionDoc): unknown {
  return { ...doc, inputs: doc.inputs.map((x) => (x.kind === 'trace' ? { ...x, trace: x.trace.toText() } : x)) };
}

const MIXED_TRACE_TEXT = [
  '',
  'a 1 16',
  'c 2 3 24',
  '',
  'a -9223372036854775808 600',
  'a 9223372036854775807 18446744073709551615',
  '',
  'c 4294967295 4294967296 4294967295',
  'r 1 9223372036854775808',
  'a -2147483648 0',
  'f 1',
  'f -2147483648',
  'r 77 32',
  'f 2',
  '',
].join('\n');

const MIXED_PLAIN = {
  settings: { python: '3.8', pythonMalloc: 'pymalloc_debug', placement: { kind: 'aslr', seed: 4294967295 }, memoryLimit: 1073741824 },
  inputs: [
    { kind: 'python', code: "s = 'h\u00e9llo \u2603 \u{1f40d}'\nxs = [1, 2, 3]\ndel xs[0]\n" },
    { kind: 'trace', name: 'edge values \u00e9.trace', trace: MIXED_TRACE_TEXT },
    { kind: 'workload', spec: { kind: 'churn', seed: 7, operations: 1000, sizeMin: 16, sizeMax: 512, distribution: 'log-uniform', liveTarget: 100 } },
    {
      kind: 'workload',
      spec: { kind: 'fragmentation', seed: 0, blocks: 5000, sizeMin: 1, sizeMax: 4096, distribution: 'uniform', releaseFraction: 0.75 },
      interruptedAt: 1234,
    },
    { kind: 'workload', spec: { kind: 'python', scenario: 'dict-grow-shrink', count: 100000 } },
  ],
  position: 5,
  ui: { view: 'stats', selection: 0x7f12_3456_7010, bookmarks: [{ op: 3, label: 'apr\u00e8s le calloc' }, { op: 0, label: '' }] },
};

describe('session files of format v1 (fixtures)', () => {
  it('the golden session holds the whole trace: its replay prints the golden dump byte for byte', () => {
    const f = decodeSessionFile(load(join(V1, 'golden-3.11-off4096.pyheap')));
    expect(f.version).toBe(1);
    expect(f.size).toBe(93868);
    const doc = f.doc;
    expect(doc.settings).toEqual({ python: '3.11', pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [4096] }, memoryLimit: null });
    expect(doc.position).toBe(50545);
    expect(doc.ui).toEqual({ view: 'heap', selection: null, bookmarks: [{ op: 30000, label: 'end of the grow phase' }] });
    expect(doc.inputs.length).toBe(1);
    const input = doc.inputs[0]!;
    if (input.kind !== 'trace') throw new Error('expected a trace');
    expect(input.name).toBe('random_seed7.trace');
    expect(input.trace.length).toBe(50545);
    expect(traceOperations(doc)).toBe(50545);
    const golden = join(FIX, 'golden/pymalloc-3.11');
    expect(dump(input.trace, '3.11', [4096])).toBe(readFileSync(join(golden, 'random_seed7.off4096.out'), 'utf8'));
    // Under 2 bytes per operation on disk.
    expect(f.size / input.trace.length).toBeLessThan(2);
  });

  it('the mixed session decodes to every kind of input and setting, exactly', () => {
    const doc = decodeSession(load(join(V1, 'mixed.pyheap')));
    expect(plain(doc)).toEqual(MIXED_PLAIN);
    const t = doc.inputs[1]!;
    if (t.kind !== 'trace') throw new Error('expected a trace');
    expect(t.trace.wideIds).toEqual(['-9223372036854775808', '9223372036854775807', 4294967295, -2147483648, -2147483648]);
    expect(t.trace.wideValues).toEqual([18446744073709551615n, 4294967296, 4294967295, 9223372036854775808n]);
  });

  it('the empty session decodes to defaults', () => {
    expect(decodeSession(load(join(V1, 'empty.pyheap')))).toEqual({
      settings: { python: '3.13', pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [0] }, memoryLimit: null },
      inputs: [],
      position: 0,
      ui: { view: 'heap', selection: null, bookmarks: [] },
    });
  });

  for (const name of ['golden-3.11-off4096', 'mixed', 'empty']) {
    it(`re-encoding ${name}.pyheap gives the same bytes (the writer is stable)`, () => {
      const bytes = load(join(V1, `${name}.pyheap`));
      expect(Buffer.from(encodeSession(decodeSession(bytes))).equals(Buffer.from(bytes))).toBe(true);
    });
  }
});

describe('the container', () => {
  const bytes = load(join(V1, 'mixed.pyheap'));
  const dv = new DataView(bytes.buffer, bytes.byteOffset);

  it('starts with the magic, the version and its own length, and ends with the CRC-32 of the rest', () => {
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x50, 0x59, 0x48, 0x45, 0x41, 0x50, 0x00, 0x1a]);
    expect(Array.from(SESSION_MAGIC)).toEqual(Array.from(bytes.subarray(0, 8)));
    expect(dv.getUint32(8, true)).toBe(1);
    expect(CURRENT_FORMAT_VERSION).toBe(1);
    expect(Number(dv.getBigUint64(16, true))).toBe(bytes.length);
    expect(dv.getUint32(bytes.length - 4, true)).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
    // The header is ASCII JSON: non-ASCII characters are \u escapes.
    const h = dv.getUint32(12, true);
    const text = Buffer.from(bytes.subarray(24, 24 + h)).toString('latin1');
    expect(text).toContain('"name":"edge values \\u00e9.trace"');
    expect(text).toContain('\\ud83d\\udc0d');
    expect(Array.from(bytes.subarray(24, 24 + h)).every((b) => b < 0x80)).toBe(true);
  });

  it('CRC-32 is the IEEE one (check value of "123456789" is 0xCBF43926), incremental too', () => {
    const s = new Uint8Array(Buffer.from('123456789'));
    expect(crc32(s)).toBe(0xcbf43926);
    expect(crc32(s.subarray(5), crc32(s.subarray(0, 5)))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    // Against the plain bit-by-bit definition, at lengths around the 8-byte stride.
    const slow = (d: Uint8Array): number => {
      let c = 0xffffffff;
      for (const x of d) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    const big = new Uint8Array(1000).map((_, i) => (i * 7919) & 0xff);
    for (const n of [1, 7, 8, 9, 15, 16, 17, 1000]) expect(crc32(big.subarray(0, n))).toBe(slow(big.subarray(0, n)));
  });

  it('round-trips a document with a large trace of random ids and sizes', () => {
    const rnd = mulberry32(5);
    const lines: string[] = [];
    const live: number[] = [];
    for (let i = 0; i < 20000; i++) {
      if (live.length > 0 && rnd() < 0.45) {
        const j = Math.floor(rnd() * live.length);
        lines.push(`f ${live[j]}`);
        live[j] = live[live.length - 1]!;
        live.pop();
      } else {
        const id = Math.floor(rnd() * 2 ** 40) - 2 ** 39;
        live.push(id);
        lines.push(rnd() < 0.1 ? `c ${id} ${1 + Math.floor(rnd() * 9)} ${Math.floor(rnd() * 600)}` : `a ${id} ${Math.floor(rnd() * 70000)}`);
      }
      if (rnd() < 0.01) lines.push('# note');
    }
    const text = lines.join('\n') + '\n';
    const doc: SessionDoc = {
      settings: { python: '3.12', pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [0, 4096, 8192] }, memoryLimit: 5 << 20 },
      inputs: [{ kind: 'trace', name: 'random', trace: storedTraceFromText(text) }],
      position: 1234,
      ui: { view: 'heap', selection: 42, bookmarks: [] },
    };
    const back = decodeSession(encodeSession(doc, { level: 6 }));
    expect(plain(back)).toEqual(plain(doc));
    const t = back.inputs[0]!;
    if (t.kind !== 'trace') throw new Error('expected a trace');
    expect(t.trace.toText()).toBe(text.replace(/^# note$/gm, ''));
  });

  it('stores a column uncompressed when deflate would not save a tenth, judging large ones by samples spread over them', () => {
    const rnd = mulberry32(3);
    const random = new Uint8Array(3 << 20).map(() => Math.floor(rnd() * 256));
    expect(packColumn(random, 1).codec).toBe('none');
    expect(packColumn(random, 1).data).toBe(random);
    // Compressible at the start only (as the ids of a trace whose live set is still small):
    // the whole is random, so it is stored as is.
    const startZero = random.slice();
    startZero.fill(0, 0, 1 << 18);
    expect(packColumn(startZero, 1).codec).toBe('none');
    // Random but for the continuation bits of varints: deflate saves more than a tenth.
    const varintish = random.map((b, i) => (i % 3 === 2 ? b & 0x7f : b | 0x80) & (i % 3 === 2 ? 0x0f : 0xff));
    const v = packColumn(varintish, 1);
    expect(v.codec).toBe('deflate');
    expect(v.data.length).toBeLessThan(0.9 * varintish.length);
    // Small columns are judged whole.
    const small = new Uint8Array(1000).fill(7);
    expect(packColumn(small, 1).codec).toBe('deflate');
    expect(packColumn(random.subarray(0, 1000), 1).codec).toBe('none');
    expect(packColumn(new Uint8Array(0), 1)).toEqual({ codec: 'none', data: new Uint8Array(0) });
  });

  it('round-trips a trace of comments only (no operations) and one ending in a comment', () => {
    const doc: SessionDoc = {
      settings: { python: '3.7.0-3.7.3', pythonMalloc: 'malloc', placement: { kind: 'offsets', offsets: [0] }, memoryLimit: 0 },
      inputs: [
        { kind: 'trace', name: '', trace: storedTraceFromText('# nothing\n\n') },
        { kind: 'trace', name: 'one', trace: storedTraceFromText('\n\n\na 5 5\n# end') },
      ],
      position: 1,
      ui: { view: 'v', selection: 0, bookmarks: [{ op: 1, label: 'x' }] },
    };
    const back = decodeSession(encodeSession(doc));
    expect(plain(back)).toEqual({ ...doc, inputs: [{ kind: 'trace', name: '', trace: '' }, { kind: 'trace', name: 'one', trace: '\n\n\na 5 5\n' }] });
    const t = back.inputs[1]!;
    if (t.kind !== 'trace') throw new Error('expected a trace');
    expect(Array.from(t.trace.gapOps)).toEqual([0]);
    expect(Array.from(t.trace.gapLines)).toEqual([3]);
  });

  it('refuses to write what it could not read back', () => {
    const base = decodeSession(load(join(V1, 'empty.pyheap')));
    const bad = (d: Partial<SessionDoc>, message: string): void => {
      expect(() => encodeSession({ ...base, ...d })).toThrow(new SessionFormatError(message));
    };
    bad({ position: -1 }, 'cannot save: header.position: expected an integer from 0 to 9007199254740991, got -1');
    bad({ position: 3 }, "cannot save: header.position: 3 is past the end of the session's 0 operations");
    bad(
      { settings: { ...base.settings, placement: { kind: 'offsets', offsets: [] } } },
      'cannot save: header.settings.placement.offsets: expected at least one offset',
    );
    bad({ ui: { view: '', selection: null, bookmarks: [] } }, 'cannot save: header.ui.view: expected a view name, got ""');
    bad({ ui: { view: 'heap', selection: 0.5, bookmarks: [] } }, 'cannot save: header.ui.selection: expected an integer from 0 to 9007199254740991, got 0.5');
  });
});

/** Every file of invalid/ and the message it must be refused with. */
const REFUSALS: Record<string, string | RegExp> = {
  'empty.pyheap': 'the file is empty',
  'truncated-in-magic.pyheap': 'the file is truncated: 5 bytes, less than the 28 of the smallest session file',
  'truncated-in-preamble.pyheap': 'the file is truncated: 20 bytes, less than the 28 of the smallest session file',
  'truncated-in-header.pyheap': 'the file is truncated: 100 of its 1460 bytes are there',
  'truncated-in-blob.pyheap': 'the file is truncated: 3375 of its 93868 bytes are there',
  'truncated-in-checksum.pyheap': 'the file is truncated: 1458 of its 1460 bytes are there',
  'bitflip-magic.pyheap': 'not a PyHeap Lab session file',
  'bitflip-version.pyheap': 'checksum mismatch: the file is damaged',
  'bitflip-header.pyheap': 'checksum mismatch: the file is damaged',
  'bitflip-blob.pyheap': 'checksum mismatch: the file is damaged',
  'bitflip-checksum.pyheap': 'checksum mismatch: the file is damaged',
  'bitflip-length.pyheap': 'the file is damaged: it has 256 bytes more than the 1204 it declares',
  'trailing-data.pyheap': 'the file is damaged: it has 3 bytes more than the 1460 it declares',
  'data-before-checksum.pyheap': 'the data ends at byte 1456, but the checksum is at 1464',
  'png-image.pyheap': 'not a PyHeap Lab session file (it looks like a PNG image)',
  'zip-archive.pyheap': 'not a PyHeap Lab session file (it looks like a ZIP archive)',
  'gzip-file.pyheap.gz': 'not a PyHeap Lab session file (it looks like a gzip file)',
  'session.json': 'not a PyHeap Lab session file (it looks like JSON text)',
  'trace-text.pyheap': 'not a PyHeap Lab session file (it looks like an allocation trace: import it instead)',
  'notes.txt': 'not a PyHeap Lab session file (it looks like a text file)',
  'version-2.pyheap': 'format version 2 is newer than this app supports (1); update PyHeap Lab to open it',
  'version-0.pyheap': 'format version 0 does not exist (versions start at 1)',
  'header-length-past-end.pyheap': 'header: its length 1460 runs past the end of the file',
  'header-not-json.pyheap': /^header: not valid JSON \(.+\)$/,
  'header-not-ascii.pyheap': 'header: byte 2 is 0xc3, not ASCII',
  'header-seed-fraction.pyheap': 'header.inputs[2].spec.seed: expected an integer from 0 to 4294967295, got 1.5',
  'header-unknown-python.pyheap': 'header.settings.python: expected one of 3.7.0-3.7.3, 3.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, got "2.7"',
  'header-negative-position.pyheap': 'header.position: expected an integer from 0 to 9007199254740991, got -1',
  'header-unknown-field.pyheap': 'header.ui: unknown field "theme"',
  'header-missing-field.pyheap': 'header.settings.memoryLimit: missing',
  'header-arena-offset-too-big.pyheap': 'header.settings.placement.offsets[0]: expected an integer from 0 to 1048575, got 1048576',
  'header-position-past-end.pyheap': "header.position: 60000 is past the end of the session's 50545 operations",
  'header-bookmark-past-end.pyheap': "header.ui.bookmarks[0].op: 50546 is past the end of the session's 50545 operations",
  'header-interrupted-past-end.pyheap': 'header.inputs[1].interruptedAt: expected an integer from 0 to 11, got 12',
  'header-bad-input-kind.pyheap': 'header.inputs[0].kind: expected one of python, trace, workload, got "shell"',
  'header-bad-codec.pyheap': 'header.blobs[0].codec: expected one of deflate, none, got "zstd"',
  'blob-offset-moved.pyheap': 'header.blobs[1].offset: 5952, expected 5944 (blobs follow each other at multiples of 8)',
  'blob-past-end.pyheap': 'header.blobs[6]: bytes 93928 to 98024 run past the end of the data (93928)',
  'blob-raw-length-wrong.pyheap': "header.inputs[0]: column 'sizes' (blob 3): decompresses to 36034 bytes, the header says 36035",
  'blob-shared.pyheap': 'header.inputs[0].columns.refIds: blob 1 is already the column inputs[0].columns.newIds',
  'blob-orphan.pyheap': 'header.blobs[7]: belongs to no input',
  'blob-deflate-damaged.pyheap': "header.inputs[0]: column 'sizes' (blob 3): the compressed data is damaged (unexpected EOF)",
  'blob-padding-not-zero.pyheap': 'before header.blobs[1]: byte 5879 of the padding is not zero',
  'column-kinds-length.pyheap': "header.inputs[0]: column 'kinds' (blob 0): rawLength 12637 is impossible for 50541 operations (12636 to 12636)",
  'column-bad-kind-bits.pyheap': "header.inputs[0]: column 'kinds': bits set after the last operation",
  'column-left-over.pyheap': "header.inputs[0]: column 'sizes': 1 byte left over after the last operation",
  'column-ends-early.pyheap': "header.inputs[0]: column 'refIds': ends early (at byte 66931)",
  'column-gap-past-end.pyheap': "header.inputs[0]: column 'gaps': a gap before operation 2127153, but the trace has 50545 operations",
};

function refusal(bytes: Uint8Array): SessionFormatError {
  try {
    decodeSession(bytes);
  } catch (e) {
    if (e instanceof SessionFormatError) return e;
    throw new Error(`not a SessionFormatError: ${String(e)}`);
  }
  throw new Error('the file was accepted');
}

describe('invalid files are refused with a message naming what and where', () => {
  it('every file of invalid/ has its expected message here, and the other way round', () => {
    expect(readdirSync(INVALID).sort()).toEqual(Object.keys(REFUSALS).sort());
  });
  for (const [name, message] of Object.entries(REFUSALS)) {
    it(name, () => {
      const e = refusal(load(join(INVALID, name)));
      if (typeof message === 'string') expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
    });
  }
});

describe('damage anywhere is refused (property tests)', () => {
  const mixed = load(join(V1, 'mixed.pyheap'));
  const golden = load(join(V1, 'golden-3.11-off4096.pyheap'));

  it('every single-bit flip of a small file, at every position, is refused', () => {
    const messages = new Map<string, number>();
    for (let i = 0; i < mixed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const f = mixed.slice();
        f[i]! ^= 1 << bit;
        const m = refusal(f).message.replace(/\d+/g, 'N');
        messages.set(m, (messages.get(m) ?? 0) + 1);
      }
    }
    // Flips of the magic say so; flips of the length field say the length is off; all others
    // are caught by the checksum.
    expect(messages.get('not a PyHeap Lab session file')).toBe(64);
    expect(messages.get('checksum mismatch: the file is damaged')).toBe(mixed.length * 8 - 64 - 64);
    expect((messages.get('the file is truncated: N of its N bytes are there') ?? 0) + (messages.get('the file is damaged: it has N bytes more than the N it declares') ?? 0)).toBe(64);
  });

  it('bit flips at 3000 random positions of a large file are refused', () => {
    const rnd = mulberry32(99);
    for (let k = 0; k < 3000; k++) {
      const f = golden.slice();
      const i = Math.floor(rnd() * f.length);
      f[i]! ^= 1 << Math.floor(rnd() * 8);
      expect(refusal(f)).toBeInstanceOf(SessionFormatError);
    }
  });

  it('every truncation of a small file is refused', () => {
    for (let n = 0; n < mixed.length; n++) expect(refusal(mixed.subarray(0, n))).toBeInstanceOf(SessionFormatError);
  });

  it('damage behind a recomputed checksum (a file made to fool it) still never crashes the reader', () => {
    // Without the checksum's protection, a change may give a valid other document, but the
    // decoder must never throw anything but a SessionFormatError.
    const rnd = mulberry32(7);
    let refused = 0;
    const sources = [mixed, golden];
    for (let k = 0; k < 3000; k++) {
      const src = sources[k & 1]!;
      const f = src.slice();
      const changes = 1 + Math.floor(rnd() * 3);
      for (let c = 0; c < changes; c++) {
        const i = 8 + Math.floor(rnd() * (f.length - 12));
        f[i] = rnd() < 0.5 ? f[i]! ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
      }
      const n = f.length - 4;
      new DataView(f.buffer).setUint32(n, crc32(f.subarray(0, n)), true);
      try {
        decodeSession(f);
      } catch (e) {
        if (!(e instanceof SessionFormatError)) throw new Error(`change ${k}: ${String(e)}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(2000);
  });
});

/** A blob-less file around a header text, framed and checksummed like a real one. */
function framed(header: string, version = 1): Uint8Array {
  const h = Buffer.from(header, 'latin1');
  const start = (24 + h.length + 7) & ~7;
  const f = new Uint8Array(start + 4);
  const dv = new DataView(f.buffer);
  f.set(SESSION_MAGIC, 0);
  dv.setUint32(8, version, true);
  dv.setUint32(12, h.length, true);
  dv.setBigUint64(16, BigInt(f.length), true);
  f.set(h, 24);
  dv.setUint32(start, crc32(f.subarray(0, start)), true);
  return f;
}

describe('hostile headers behind a valid checksum', () => {
  const base = {
    settings: { python: '3.11', pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [0] }, memoryLimit: null },
    inputs: [] as unknown[],
    position: 0,
    ui: { view: 'heap', selection: null, bookmarks: [] },
    blobs: [],
  };
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);

  it('the frame helper makes files the decoder accepts', () => {
    expect(decodeSession(framed(JSON.stringify(base))).settings.python).toBe('3.11');
  });

  it('values nested 200,000 deep are refused, not a stack overflow', () => {
    expect(refusal(framed(JSON.stringify(base).replace('"position":0', `"position":${deep}`))).message).toBe(
      'header.position: expected an integer from 0 to 9007199254740991, got an array',
    );
    const churn = { kind: 'churn', seed: 0, operations: 10, sizeMin: 1, sizeMax: 2, distribution: 'uniform', liveTarget: 5 };
    const withSpec = JSON.stringify({ ...base, inputs: [{ kind: 'workload', spec: churn }] }).replace('"seed":0', `"seed":${deep}`);
    expect(refusal(framed(withSpec))).toBeInstanceOf(SessionFormatError);
  });

  it('__proto__ and constructor keys are unknown fields, nothing more', () => {
    expect(refusal(framed(JSON.stringify(base).replace('"position":0', '"position":0,"__proto__":{"polluted":1}'))).message).toBe(
      'header: unknown field "__proto__"',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(refusal(framed(JSON.stringify(base).replace('"view":"heap"', '"view":"heap","constructor":1'))).message).toBe(
      'header.ui: unknown field "constructor"',
    );
  });

  it('a trace claiming two billion operations with no data is refused before anything is allocated', () => {
    const cols = { kinds: 0, newIds: 1, refIds: 2, sizes: 3, counts: 4, gaps: 5, wide: 6 };
    const hdr = { ...base, inputs: [{ kind: 'trace', name: 't', ops: 2_000_000_000, columns: cols }], position: 0 };
    hdr.blobs = Array.from({ length: 7 }, () => ({ offset: 0, length: 0, rawLength: 0, codec: 'none' })) as never;
    // Offsets: all blobs are empty and start right after the header.
    let text = JSON.stringify(hdr);
    const at = (24 + text.length + 7) & ~7;
    text = text.replace(/"offset":0/g, `"offset":${at}`);
    const at2 = (24 + text.length + 7) & ~7;
    text = JSON.stringify(hdr).replace(/"offset":0/g, `"offset":${at2}`);
    expect(refusal(framed(text)).message).toBe("header.inputs[0]: column 'kinds' (blob 0): rawLength 0 is impossible for 2000000000 operations (500000000 to 500000000)");
    const tooMany = JSON.stringify({ ...hdr, inputs: [{ ...hdr.inputs[0], ops: 2 ** 31 }] });
    expect(refusal(framed(tooMany)).message).toBe('header.inputs[0].ops: expected an integer from 0 to 2147483647, got 2147483648');
  });
});

describe('migrate', () => {
  const file = new Uint8Array(0);
  it('passes the current version through unchanged', () => {
    const header = { any: 'thing' };
    const m = migrate({ version: CURRENT_FORMAT_VERSION, header, file });
    expect(m.header).toBe(header);
    expect(m.version).toBe(1);
    expect(Object.keys(MIGRATIONS)).toEqual([]);
  });

  it('refuses unknown versions', () => {
    expect(() => migrate({ version: 9, header: {}, file })).toThrow(
      new SessionFormatError('format version 9 is newer than this app supports (1); update PyHeap Lab to open it'),
    );
    expect(() => migrate({ version: 0, header: {}, file })).toThrow(new SessionFormatError('format version 0 does not exist (versions start at 1)'));
  });

  it('runs the steps in order from the file version to the current one', () => {
    const seen: number[] = [];
    const steps = {
      1: (f: { version: number; header: unknown; file: Uint8Array }) => (seen.push(1), { ...f, version: 2, header: { ...(f.header as object), b: 2 } }),
      2: (f: { version: number; header: unknown; file: Uint8Array }) => (seen.push(2), { ...f, version: 3, header: { ...(f.header as object), c: 3 } }),
    };
    expect(migrate({ version: 1, header: { a: 1 }, file }, steps, 3).header).toEqual({ a: 1, b: 2, c: 3 });
    expect(seen).toEqual([1, 2]);
    expect(migrate({ version: 2, header: {}, file }, steps, 3).header).toEqual({ c: 3 });
    expect(() => migrate({ version: 1, header: {}, file }, { 1: steps[1] }, 3)).toThrow('format version 2 can no longer be read (no migration to 3)');
  });
});
