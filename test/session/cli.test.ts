/**
 * `pyheap session save | info` and `pyheap replay --session`, run as a user runs them (the
 * bundled CLI in a child process). A saved trace replays to the golden dumps byte for byte;
 * damaged files end with status 2 and exactly one `error:` line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'bin/pyheap.js');
const FIX = join(ROOT, 'test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'pyheap-session-cli-'));

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let k = 0;
function save(args: string[]): string {
  const out = join(tmp, `s${k++}.pyheap`);
  const r = run(['session', 'save', ...args, '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^saved ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ operations in \\d+ bytes \\([\\d.]+ bytes per operation\\)\\n$`));
  return out;
}

describe('pyheap replay --session prints what pyheap replay prints, byte for byte', () => {
  const cases: [string, string, string, string][] = [];
  const traces311 = [
    'edge_arena_release',
    'edge_arena_release_last',
    'edge_arena_vector_growth',
    'edge_freelist_lifo',
    'edge_null_results',
    'edge_pool_fill_class31',
    'edge_pool_reuse_other_class',
    'edge_realloc_rules',
    'edge_size_boundaries',
    'edge_usable_arenas_order',
    'random_seed7',
  ];
  for (const t of traces311) {
    cases.push(['3.11', t, '0', `${t}.out`]);
    cases.push(['3.11', t, '4096', `${t}.off4096.out`]);
  }
  for (const v of ['3.7', '3.8', '3.9']) {
    for (const t of ['edge_arena_release', 'edge_usable_arenas_order', 'random_seed7']) cases.push([v, t, '2048', `${t}.off2048.out`]);
  }
  for (const [python, trace, offsets, out] of cases) {
    it(`${python} ${trace} at offsets ${offsets}`, () => {
      const dir = join(FIX, `golden/pymalloc-${python}`);
      const file = save(['--python', python, '--arena-offsets', offsets, '--trace', join(dir, `${trace}.trace`)]);
      const r = run(['replay', '--session', file, '--internals']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(dir, out), 'utf8'));
    });
  }

  it('keeps --aslr and --memory-limit, and replays several traces on one heap in order', () => {
    const a = join(tmp, 'a.trace');
    const b = join(tmp, 'b.trace');
    writeFileSync(a, '# first\na 1 16\nc 2 4 100\na 3 70000\n');
    writeFileSync(b, 'f 1\nr 2 900\na 4 16\n');
    const file = save(['--python', '3.12', '--aslr', '77', '--memory-limit', '3M', '--trace', a, '--trace', b]);
    const expected = run(['replay', '--python', '3.12', '--aslr', '77', '--memory-limit', '3M'], readFileSync(a, 'utf8') + readFileSync(b, 'utf8'));
    expect(expected.status).toBe(0);
    expect(run(['replay', '--session', file]).stdout).toBe(expected.stdout);
    const info = run(['session', 'info', file]).stdout.split('\n');
    expect(info.slice(3, 11)).toEqual([
      'python 3.12',
      'pythonmalloc pymalloc',
      'aslr 77',
      'memory_limit 3145728',
      'inputs 2',
      'input 0 trace "a.trace" ops=3',
      'input 1 trace "b.trace" ops=3',
      'position 6',
    ]);
  });
});

describe('pyheap session info', () => {
  it('prints everything the mixed fixture holds', () => {
    const f = join(FIX, 'session/v1/mixed.pyheap');
    const r = run(['session', 'info', f]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        `file ${f}`,
        'format_version 1',
        'file_size 1460',
        'python 3.8',
        'pythonmalloc pymalloc_debug',
        'aslr 4294967295',
        'memory_limit 1073741824',
        'inputs 5',
        'input 0 python 3 lines ops=unknown (made when it runs)',
        'input 1 trace "edge values \u00e9.trace" ops=11',
        'input 2 workload {"kind":"churn","seed":7,"operations":1000,"sizeMin":16,"sizeMax":512,"distribution":"log-uniform","liveTarget":100} ops=1000',
        'input 3 workload {"kind":"fragmentation","seed":0,"blocks":5000,"sizeMin":1,"sizeMax":4096,"distribution":"uniform","releaseFraction":0.75} ops=unknown (made when it runs) interrupted_at=1234',
        'input 4 workload {"kind":"python","scenario":"dict-grow-shrink","count":100000} ops=unknown (made when it runs)',
        'position 5',
        'view stats',
        'selection 0x7f1234567010',
        'bookmarks 2',
        'bookmark 3 "apr\u00e8s le calloc"',
        'bookmark 0 ""',
        'trace_ops 11',
        'bytes_per_op 132.727',
        '',
      ].join('\n'),
    );
  });

  it('prints the bytes per operation of the golden session', () => {
    const r = run(['session', 'info', join(FIX, 'session/v1/golden-3.11-off4096.pyheap')]);
    expect(r.stdout.split('\n').slice(-3)).toEqual(['trace_ops 50545', 'bytes_per_op 1.857', '']);
  });
});

describe('errors: status 2 and exactly one error line', () => {
  const inv = (name: string): string => join(FIX, 'session/invalid', name);
  const cases: [string, string[], string][] = [
    ['a damaged file (replay)', ['replay', '--session', inv('bitflip-blob.pyheap')], `error: session file '${inv('bitflip-blob.pyheap')}': checksum mismatch: the file is damaged\n`],
    ['a damaged file (info)', ['session', 'info', inv('truncated-in-blob.pyheap')], `error: session file '${inv('truncated-in-blob.pyheap')}': the file is truncated: 3375 of its 93868 bytes are there\n`],
    ['a PNG', ['replay', '--session', inv('png-image.pyheap')], `error: session file '${inv('png-image.pyheap')}': not a PyHeap Lab session file (it looks like a PNG image)\n`],
    ['a newer version', ['session', 'info', inv('version-2.pyheap')], `error: session file '${inv('version-2.pyheap')}': format version 2 is newer than this app supports (1); update PyHeap Lab to open it\n`],
    ['a bad header field', ['replay', '--session', inv('header-seed-fraction.pyheap')], `error: session file '${inv('header-seed-fraction.pyheap')}': header.inputs[2].spec.seed: expected an integer from 0 to 4294967295, got 1.5\n`],
    [
      'a session with console code',
      ['replay', '--session', join(FIX, 'session/v1/mixed.pyheap')],
      `error: session file '${join(FIX, 'session/v1/mixed.pyheap')}': input 0 is console code; replay --session replays sessions made only of traces for now\n`,
    ],
    ['a missing file', ['replay', '--session', join(tmp, 'nope.pyheap')], `error: cannot open '${join(tmp, 'nope.pyheap')}': no such file or folder\n`],
    ['--session with --python', ['replay', '--session', inv('empty.pyheap'), '--python', '3.9'], 'error: --session takes its settings from the file; drop --python\n'],
    ['--session with a trace file', ['replay', '--session', inv('empty.pyheap'), 'x.trace'], "error: --session replays the file's own traces; drop 'x.trace'\n"],
    ['save without -o', ['session', 'save', '--trace', 'x.trace'], 'error: session save wants -o OUT.pyheap\n'],
    ['save without --trace', ['session', 'save', '-o', join(tmp, 'x.pyheap')], 'error: session save wants at least one --trace FILE\n'],
    ['an unknown subcommand', ['session', 'load'], "error: unknown session command 'load' (save, info or dump)\n"],
  ];
  for (const [what, args, stderr] of cases) {
    it(what, () => {
      const r = run(args);
      expect(r.stderr).toBe(stderr);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
    });
  }

  it('session save refuses a trace that cannot replay, naming the line, and writes no file', () => {
    const t = join(tmp, 'bad.trace');
    writeFileSync(t, 'a 1 16\n# c\nf 1\nf 1\n');
    const out = join(tmp, 'bad.pyheap');
    const r = run(['session', 'save', '--trace', t, '-o', out]);
    expect(r.stderr).toBe('error: line 4: free of id 1, which is not live\n');
    expect(r.status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
