// Writes the session-file fixtures: test/fixtures/session/v1/*.pyheap (valid files of format
// v1, which tests decode and pin) and test/fixtures/session/invalid/* (damaged and foreign
// files, each of which must be refused with its own message; test/session/format.test.ts
// holds the expected messages).
//
//     node scripts/run-ts.mjs scripts/make-session-fixtures.ts
//
// v1 files are written once and kept: a later format version must still read them, so do not
// regenerate v1/ after v2 exists (add v2/ instead). invalid/ can be regenerated at any time.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'fflate';
import { encodeSession, layoutContainer, CHECKSUM_SIZE } from '../src/core/session/format';
import { crc32 } from '../src/core/session/crc32';
import { defaultSettings, emptyUiState, type SessionDoc } from '../src/core/session/model';
import { storedTraceFromText } from '../src/core/session/stored-trace';
import { encodeTraceColumns, TRACE_COLUMNS } from '../src/core/session/trace-columns';

/** The repository root (this runs bundled from out/run/, so look upwards for it). */
function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'test/fixtures'))) {
    const up = dirname(d);
    if (up === d) throw new Error('run this from inside the repository');
    d = up;
  }
  return d;
}
const root = findRoot();
const out = join(root, 'test/fixtures/session');
const golden = join(root, 'test/fixtures/golden');

/** The trace of the `mixed` fixture: comments, blank lines and every awkward value. */
export const MIXED_TRACE = [
  '# every kind of value a trace can hold',
  'a 1 16',
  'c 2 3 24',
  '',
  'a -9223372036854775808 600',
  'a 9223372036854775807 18446744073709551615',
  '   # an indented comment',
  'c 4294967295 4294967296 4294967295',
  'r 1 9223372036854775808',
  'a -2147483648 0',
  'f 1',
  'f -2147483648',
  'r 77 32',
  'f 2',
  '',
].join('\n');

function docs(): Record<string, SessionDoc> {
  const seed7 = readFileSync(join(golden, 'pymalloc-3.11/random_seed7.trace'), 'utf8');
  const seed7Trace = storedTraceFromText(seed7);
  return {
    // The golden random trace, as `pyheap session save --python 3.11 --arena-offsets 4096` saves it.
    'golden-3.11-off4096': {
      settings: { python: '3.11', pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [4096] }, memoryLimit: null },
      inputs: [{ kind: 'trace', name: 'random_seed7.trace', trace: seed7Trace }],
      position: seed7Trace.length,
      ui: { view: 'heap', selection: null, bookmarks: [{ op: 30000, label: 'end of the grow phase' }] },
    },
    // Every kind of input and setting.
    mixed: {
      settings: { python: '3.8', pythonMalloc: 'pymalloc_debug', placement: { kind: 'aslr', seed: 4294967295 }, memoryLimit: 1 << 30 },
      inputs: [
        { kind: 'python', code: "s = 'h\u00e9llo \u2603 \u{1f40d}'\nxs = [1, 2, 3]\ndel xs[0]\n" },
        { kind: 'trace', name: 'edge values \u00e9.trace', trace: storedTraceFromText(MIXED_TRACE) },
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
    },
    // A new session: nothing run yet.
    empty: { settings: defaultSettings('3.13'), inputs: [], position: 0, ui: emptyUiState() },
  };
}

// ---------------------------------------------------------------------------------------------
// Taking a valid file apart and putting it back together with changes

interface Parts {
  header: { blobs: { offset: number; length: number; rawLength: number; codec: string }[] } & Record<string, unknown>;
  payloads: Uint8Array[];
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function partsOf(file: Uint8Array): Parts {
  const h = u32(file, 12);
  const header = JSON.parse(Buffer.from(file.subarray(24, 24 + h)).toString('latin1')) as Parts['header'];
  const payloads = header.blobs.map((b) => file.slice(b.offset, b.offset + b.length));
  return { header, payloads };
}

/** A file with a valid frame and checksum whose header is `patch`ed after layout. */
function rebuilt(file: Uint8Array, patch: (h: any, payloads: Uint8Array[]) => void, version = 1): Uint8Array {
  const p = partsOf(file);
  return layoutContainer(version, p.header, p.payloads, 64, (h) => patch(h, p.payloads));
}

/** Recomputes the checksum after bytes were changed on purpose. */
function resealed(file: Uint8Array): Uint8Array {
  const f = file.slice();
  const n = f.length - CHECKSUM_SIZE;
  new DataView(f.buffer).setUint32(n, crc32(f.subarray(0, n)), true);
  return f;
}

function flipped(file: Uint8Array, byte: number, bit = 0): Uint8Array {
  const f = file.slice();
  f[byte]! ^= 1 << bit;
  return f;
}

function main(): void {
  const v1 = join(out, 'v1');
  const invalid = join(out, 'invalid');
  // v1 files are only written when missing, or with --v1 (see the top of this file).
  const regenerateV1 = process.argv.includes('--v1');
  mkdirSync(v1, { recursive: true });
  const files: Record<string, Uint8Array> = {};
  for (const [name, doc] of Object.entries(docs())) {
    const path = join(v1, `${name}.pyheap`);
    if (regenerateV1 || !existsSync(path)) writeFileSync(path, encodeSession(doc));
    files[name] = new Uint8Array(readFileSync(path));
  }
  const mixed = files['mixed']!;
  const golden = files['golden-3.11-off4096']!;
  const gp = partsOf(golden);
  const firstBlob = gp.header.blobs.find((b) => b.length > 64)!;

  rmSync(invalid, { recursive: true, force: true });
  mkdirSync(invalid, { recursive: true });
  const bad: Record<string, Uint8Array | string> = {
    'empty.pyheap': new Uint8Array(0),
    'truncated-in-magic.pyheap': mixed.subarray(0, 5),
    'truncated-in-preamble.pyheap': mixed.subarray(0, 20),
    'truncated-in-header.pyheap': mixed.subarray(0, 100),
    'truncated-in-blob.pyheap': golden.subarray(0, firstBlob.offset + (firstBlob.length >> 1)),
    'truncated-in-checksum.pyheap': mixed.subarray(0, mixed.length - 2),
    'bitflip-magic.pyheap': flipped(mixed, 2, 3),
    'bitflip-version.pyheap': flipped(mixed, 8, 1),
    'bitflip-header.pyheap': flipped(mixed, 60, 0),
    'bitflip-blob.pyheap': flipped(golden, firstBlob.offset + 40, 5),
    'bitflip-checksum.pyheap': flipped(mixed, mixed.length - 1, 7),
    'bitflip-length.pyheap': flipped(mixed, 17, 0),
    'trailing-data.pyheap': Uint8Array.from([...mixed, 0, 0, 0]),
    'png-image.pyheap': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]),
    'zip-archive.pyheap': Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 0, 0, ...new Array<number>(30).fill(0)]),
    'gzip-file.pyheap.gz': Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, ...deflateSync(mixed).subarray(0, 40)]),
    'session.json': JSON.stringify({ settings: { python: '3.11' }, inputs: [], position: 0 }, null, 2) + '\n',
    'trace-text.pyheap': '# not a session\na 1 16\nf 1\n',
    'notes.txt': 'These are my notes about the heap.\n',
    'version-2.pyheap': rebuilt(mixed, () => {}, 2),
    'version-0.pyheap': rebuilt(mixed, () => {}, 0),
    'header-not-json.pyheap': (() => {
      const f = mixed.slice();
      f.set(Buffer.from('{"settings": oops'), 24);
      return resealed(f);
    })(),
    'header-length-past-end.pyheap': (() => {
      const f = mixed.slice();
      new DataView(f.buffer).setUint32(12, mixed.length, true);
      return resealed(f);
    })(),
    'data-before-checksum.pyheap': (() => {
      const n = mixed.length - CHECKSUM_SIZE;
      const f = new Uint8Array(mixed.length + 8);
      f.set(mixed.subarray(0, n));
      new DataView(f.buffer).setUint32(16, f.length, true);
      return resealed(f);
    })(),
    'header-not-ascii.pyheap': (() => {
      const f = mixed.slice();
      f[24 + 2] = 0xc3; // inside "settings"
      return resealed(f);
    })(),
    'header-seed-fraction.pyheap': rebuilt(mixed, (h) => {
      h.inputs[2].spec.seed = 1.5;
    }),
    'header-unknown-python.pyheap': rebuilt(mixed, (h) => {
      h.settings.python = '2.7';
    }),
    'header-negative-position.pyheap': rebuilt(mixed, (h) => {
      h.position = -1;
    }),
    'header-unknown-field.pyheap': rebuilt(mixed, (h) => {
      h.ui.theme = 'dark';
    }),
    'header-missing-field.pyheap': rebuilt(mixed, (h) => {
      delete h.settings.memoryLimit;
    }),
    'header-arena-offset-too-big.pyheap': rebuilt(golden, (h) => {
      h.settings.placement.offsets = [1048576];
    }),
    'header-position-past-end.pyheap': rebuilt(golden, (h) => {
      h.position = 60000;
    }),
    'header-bookmark-past-end.pyheap': rebuilt(golden, (h) => {
      h.ui.bookmarks[0].op = 50546;
    }),
    'header-interrupted-past-end.pyheap': rebuilt(mixed, (h) => {
      h.inputs[1].interruptedAt = h.inputs[1].ops + 1;
    }),
    'header-bad-input-kind.pyheap': rebuilt(mixed, (h) => {
      h.inputs[0].kind = 'shell';
    }),
    'header-bad-codec.pyheap': rebuilt(mixed, (h) => {
      h.blobs[0].codec = 'zstd';
    }),
    'blob-offset-moved.pyheap': rebuilt(golden, (h) => {
      h.blobs[1].offset += 8;
    }),
    'blob-past-end.pyheap': rebuilt(golden, (h) => {
      h.blobs[h.blobs.length - 1].length += 4096;
    }),
    'blob-raw-length-wrong.pyheap': rebuilt(golden, (h) => {
      const b = h.blobs[h.inputs[0].columns.sizes];
      b.rawLength += 1;
    }),
    'blob-shared.pyheap': rebuilt(golden, (h) => {
      h.inputs[0].columns.refIds = h.inputs[0].columns.newIds;
    }),
    'blob-orphan.pyheap': (() => {
      const p = partsOf(golden);
      p.header.blobs.push({ offset: 0, length: 3, rawLength: 3, codec: 'none' });
      p.payloads.push(Uint8Array.of(1, 2, 3));
      return layoutContainer(1, p.header, p.payloads);
    })(),
    'blob-deflate-damaged.pyheap': (() => {
      const p = partsOf(golden);
      const i = (p.header as any).inputs[0].columns.sizes as number;
      p.payloads[i] = p.payloads[i]!.slice(0, 100);
      p.header.blobs[i]!.length = 100;
      return layoutContainer(1, p.header, p.payloads);
    })(),
    'blob-padding-not-zero.pyheap': (() => {
      const f = golden.slice();
      const b = gp.header.blobs.find((x) => x.length % 8 !== 0)!;
      f[b.offset + b.length] = 0xaa;
      return resealed(f);
    })(),
    'column-kinds-length.pyheap': rebuilt(golden, (h) => {
      h.inputs[0].ops -= 4;
      h.position -= 4;
      h.ui.bookmarks = [];
    }),
    'column-bad-kind-bits.pyheap': columnsChanged(golden, (cols) => {
      cols.kinds = Uint8Array.from([...cols.kinds.subarray(0, cols.kinds.length - 1), 0xff]);
    }),
    'column-left-over.pyheap': columnsChanged(golden, (cols) => {
      cols.sizes = Uint8Array.from([...cols.sizes, 5]);
    }),
    'column-ends-early.pyheap': columnsChanged(golden, (cols) => {
      cols.refIds = cols.refIds.subarray(0, cols.refIds.length - 1);
    }),
    'column-gap-past-end.pyheap': columnsChanged(golden, (cols) => {
      cols.gaps = Uint8Array.from([...cols.gaps, 0x80, 0x80, 0x80, 0x01, 0]);
    }),
  };
  for (const [name, data] of Object.entries(bad)) writeFileSync(join(invalid, name), data);
  process.stdout.write(`wrote ${Object.keys(files).length} v1 files${regenerateV1 ? ' (regenerated)' : ''} and ${Object.keys(bad).length} invalid files under ${out}\n`);
}

/**
 * The golden file with its trace columns changed (stored uncompressed, so the change is what
 * the decoder sees) and the file otherwise valid.
 */
function columnsChanged(file: Uint8Array, change: (cols: Record<(typeof TRACE_COLUMNS)[number], Uint8Array>) => void): Uint8Array {
  const p = partsOf(file);
  const doc = docs()['golden-3.11-off4096']!;
  const t = doc.inputs[0]!;
  if (t.kind !== 'trace') throw new Error('expected a trace');
  const cols = encodeTraceColumns(t.trace);
  change(cols);
  const h = p.header as any;
  const payloads = p.payloads;
  TRACE_COLUMNS.forEach((k) => {
    const i = h.inputs[0].columns[k] as number;
    payloads[i] = cols[k];
    h.blobs[i] = { offset: 0, length: cols[k].length, rawLength: cols[k].length, codec: 'none' };
  });
  return layoutContainer(1, h, payloads);
}

main();
