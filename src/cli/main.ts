/**
 * `pyheap`: the headless command line. Reads traces as streams, drives the core simulation
 * and prints what trace-format.md and `sys._debugmallocstats()` specify.
 *
 * Errors: exit status 2 and one line `error: ...` on stderr, never a stack trace.
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROFILE_IDS, DEFAULT_PROFILE_ID, getProfile } from '../core/profiles';
import { parseArenaOffsets } from '../core/raw/arenas';
import { TraceReader, TraceError, type TraceSink } from '../core/trace/reader';
import { StreamReplay, createReplayHeap, formatSummary } from '../core/trace/replay';
import { TraceCompiler, replayCompiled } from '../core/trace/compiled';
import { formatMallocStats } from '../core/pymalloc/stats';
import { PySyntaxError } from '../core/python/ast';
import { PYTHONMALLOC_MODES, type PythonMallocMode } from '../core/objects/space';
import { PyException } from '../core/python/interp';
import { describeError } from '../core/python/session';
import { EXPLAIN_HELP, RUN_HELP, SIZEOF_HELP, explainCommand, runCommand, sizeofCommand, type PyOptions } from './python-commands';
import { replaySession, sessionCommand } from './session-commands';

class UsageError extends Error {}

const MAIN_HELP = `pyheap: an exact simulation of CPython's memory allocators (PyHeap Lab)

Usage:
  pyheap replay [--python X] [--arena-offsets L | --aslr SEED] [--internals] [--bench N] [FILE|-]
  pyheap replay --session FILE.pyheap [--internals]
  pyheap session save [--python X] [--arena-offsets L | --aslr SEED] --trace FILE -o OUT.pyheap
  pyheap session info FILE.pyheap
  pyheap session dump FILE.pyheap [--internals] [--at N]
  pyheap stats  [--python X] [--arena-offsets L | --aslr SEED] [FILE|-]
  pyheap sizeof  [--python X] [--pythonmalloc MODE]          (expressions on stdin)
  pyheap run     [--python X] [--pythonmalloc MODE] [--budget N] FILE
  pyheap explain [--python X] EXPR
  pyheap versions
  pyheap COMMAND --help

Commands:
  replay    replay an allocation trace and print where every block lands
  stats     replay a trace and print sys._debugmallocstats() for the end state
  session   save traces with their settings in a session file, or describe one
  sizeof    sys.getsizeof of Python expressions, per version
  run       run a Python script on the simulated heap and print its memory events
  explain   the memory layout of one object, field by field, and the block it lives in
  versions  list the CPython versions the simulation knows

Traces are read from FILE, or from standard input when FILE is '-' or absent.
`;

const REPLAY_HELP = `Usage: pyheap replay [--python X] [--arena-offsets L | --aslr SEED] [--memory-limit N] [--internals] [--bench N] [FILE|-]

Replays an allocation trace (a ID SIZE | c ID N SIZE | r ID NEWSIZE | f ID | # comment)
through the simulated PyObject_Malloc family and prints the placement dump: one line per
a/c/r ('ID pool ARENA:POOL:BLOCK:SZIDX', 'ID raw -' or 'ID null -'), then the summary.

Options:
  --python X           CPython version (${PROFILE_IDS.join(', ')}; or a release such as 3.7.2).
                       Default ${DEFAULT_PROFILE_ID}.
  --arena-offsets L    comma-separated byte offsets: the k-th arena allocation starts
                       L[k mod n] bytes past a POOL_SIZE boundary. Default 0.
  --aslr SEED          realistic Linux placement instead: arenas are mmapped top-down below
                       a randomised mmap base drawn from SEED (4 KiB pages), so on 3.10+
                       most arenas hold 63 pools, as on a real machine.
  --memory-limit N     cap mapped memory at N bytes (suffixes K, M, G): allocations that
                       would exceed it return NULL ('ID null -').
  --internals          also print pymalloc's lists (usable_arenas, unused_arena_objects,
                       nfp2lasta, freepools per arena, usedpools per class).
  --bench N            parse once, replay N times; print the summary of one replay and a
                       last line with the median: 'bench ... ops_per_sec=<median>'.
  --session FILE       replay the traces of a session file (pyheap session save) with its
                       settings instead; prints what replaying the trace file prints.
  -h, --help           this text.
`;

const STATS_HELP = `Usage: pyheap stats [--python X] [--arena-offsets L | --aslr SEED] [--memory-limit N] [FILE|-]

Replays a trace and prints the end state the way sys._debugmallocstats() of that version
prints its pymalloc section: the size-class table, arena counts, bytes in allocated and
available blocks, unused pools, bytes lost to pool headers, quantization and arena alignment,
and from 3.10 the radix tree's nodes.

Options:
  --python X           CPython version (default ${DEFAULT_PROFILE_ID}).
  --arena-offsets L    as for 'pyheap replay'.
  --aslr SEED          as for 'pyheap replay'.
  --memory-limit N     as for 'pyheap replay'.
  -h, --help           this text.
`;

/** Buffered stdout with back-pressure: lines are joined in batches. */
class Output {
  private parts: string[] = [];
  private size = 0;
  private pending: Promise<void> | null = null;

  line(s: string): void {
    this.parts.push(s);
    this.size += s.length + 1;
    if (this.size > 1 << 16) this.flushSync();
  }

  text(s: string): void {
    this.parts.push(s.endsWith('\n') ? s.slice(0, -1) : s);
    this.size += s.length;
    this.flushSync();
  }

  private flushSync(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    if (!process.stdout.write(chunk) && this.pending === null) {
      this.pending = new Promise((resolve) =>
        process.stdout.once('drain', () => {
          this.pending = null;
          resolve();
        }),
      );
    }
  }

  /** Waits when stdout is full, so memory stays bounded on a slow reader. */
  async drain(): Promise<void> {
    if (this.pending !== null) await this.pending;
  }

  async end(): Promise<void> {
    this.flushSync();
    await this.drain();
  }
}

async function readTrace(file: string | undefined, sink: TraceSink, out: Output | null): Promise<TraceReader> {
  const reader = new TraceReader(sink);
  const stream =
    file === undefined || file === '-'
      ? process.stdin
      : createReadStream(file, { highWaterMark: 1 << 20 });
  stream.setEncoding('utf8');
  try {
    for await (const chunk of stream) {
      reader.push(chunk as string);
      if (out !== null) await out.drain();
    }
  } catch (e) {
    if (e instanceof TraceError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new UsageError(`cannot open '${file}': no such file`);
    if (err.code === 'EISDIR') throw new UsageError(`cannot read '${file}': it is a directory`);
    if (err.code === 'EACCES') throw new UsageError(`cannot open '${file}': permission denied`);
    throw new UsageError(`cannot read '${file ?? 'stdin'}': ${err.message}`);
  }
  reader.end();
  return reader;
}

interface CommonOptions {
  python: string;
  arenaOffsets: number[];
  aslrSeed?: number;
  memoryLimit?: number;
  file: string | undefined;
}

const COMMON_OPTIONS = {
  python: { type: 'string' },
  'arena-offsets': { type: 'string' },
  aslr: { type: 'string' },
  'memory-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses a byte count with an optional K, M, G or T suffix (powers of 1024). */
export function parseBytes(text: string, what: string): number {
  const m = /^(\d{1,16})([KMGT]i?B?)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: '${text}' is not a byte count (e.g. 512M, 4G)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const mul = unit === '' ? 1 : 1024 ** ('KMGT'.indexOf(unit) + 1);
  const n = Number(m[1]) * mul;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what}: '${text}' is too large`);
  return n;
}

function commonOptions(
  values: { python?: string; 'arena-offsets'?: string; aslr?: string; 'memory-limit'?: string },
  positionals: string[],
): CommonOptions {
  const python = values.python ?? DEFAULT_PROFILE_ID;
  const profile = getProfile(python);
  let arenaOffsets = [0];
  if (values['arena-offsets'] !== undefined) {
    arenaOffsets = parseArenaOffsets(values['arena-offsets']);
    for (const o of arenaOffsets) {
      if (o >= profile.arenaSize) {
        throw new UsageError(`arena offset ${o} is out of range (0 <= offset < ARENA_SIZE = ${profile.arenaSize} on ${profile.id})`);
      }
    }
  }
  if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}: ${positionals.join(' ')}`);
  const o: CommonOptions = { python: profile.id, arenaOffsets, file: positionals[0] };
  if (values.aslr !== undefined) {
    if (values['arena-offsets'] !== undefined) throw new UsageError('--aslr and --arena-offsets exclude each other (pick one arena placement)');
    if (!/^\d{1,9}$/.test(values.aslr)) throw new UsageError(`--aslr wants a seed from 0 to 999999999, got '${values.aslr}'`);
    o.aslrSeed = Number(values.aslr);
  }
  if (values['memory-limit'] !== undefined) o.memoryLimit = parseBytes(values['memory-limit'], '--memory-limit');
  return o;
}

async function cmdReplay(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, internals: { type: 'boolean' }, bench: { type: 'string' }, session: { type: 'string' } },
  });
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return;
  }
  if (values.session !== undefined) {
    for (const opt of ['python', 'arena-offsets', 'aslr', 'memory-limit', 'bench'] as const) {
      if (values[opt] !== undefined) throw new UsageError(`--session takes its settings from the file; drop --${opt}`);
    }
    if (positionals.length > 0) throw new UsageError(`--session replays the file's own traces; drop '${positionals[0]}'`);
    const sout = new Output();
    await replaySession(values.session, values.internals ?? false, sout);
    await sout.end();
    return;
  }
  const o = commonOptions(values, positionals);
  const internals = values.internals ?? false;
  const out = new Output();
  if (values.bench !== undefined) {
    if (!/^\d{1,6}$/.test(values.bench) || Number(values.bench) < 1) {
      throw new UsageError(`--bench wants a repetition count from 1 to 999999, got '${values.bench}'`);
    }
    const reps = Number(values.bench);
    const compiler = new TraceCompiler();
    await readTrace(o.file, compiler, null);
    const trace = compiler.trace;
    const times: number[] = [];
    let last = createReplayHeap(o);
    for (let r = -1; r < reps; r++) {
      const heap = createReplayHeap(o);
      const handles = new Float64Array(trace.nslots);
      const t0 = performance.now();
      replayCompiled(heap, trace, handles);
      const dt = performance.now() - t0;
      if (r >= 0) times.push(dt); // repetition -1 warms up the JIT
      last = heap;
    }
    times.sort((a, b) => a - b);
    const median = times.length % 2 === 1 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
    out.text(formatSummary(last, internals));
    const opsPerSec = median > 0 ? Math.round(trace.length / (median / 1000)) : 0;
    out.line(`bench python=${o.python} ops=${trace.length} reps=${reps} median_ms=${median.toFixed(3)} ops_per_sec=${opsPerSec}`);
    await out.end();
    return;
  }
  const heap = createReplayHeap(o);
  const replay = new StreamReplay(heap, (line) => out.line(line));
  await readTrace(o.file, replay, out);
  out.text(formatSummary(heap, internals));
  await out.end();
}

async function cmdStats(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: COMMON_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(STATS_HELP);
    return;
  }
  const o = commonOptions(values, positionals);
  const heap = createReplayHeap(o);
  await readTrace(o.file, new StreamReplay(heap, null), null);
  const out = new Output();
  out.text(formatMallocStats(heap));
  await out.end();
}

function pyOptions(args: string[], extra: Record<string, { type: 'string' | 'boolean' }>): { o: PyOptions; positionals: string[]; help: boolean } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { python: { type: 'string' }, pythonmalloc: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra },
  });
  const v = values as Record<string, string | boolean | undefined>;
  const o: PyOptions = { python: getProfile((v['python'] as string | undefined) ?? DEFAULT_PROFILE_ID).id };
  const pm = v['pythonmalloc'] as string | undefined;
  if (pm !== undefined) {
    if (!(PYTHONMALLOC_MODES as readonly string[]).includes(pm)) {
      throw new UsageError(`--pythonmalloc: '${pm}' is not a mode (${PYTHONMALLOC_MODES.join(', ')})`);
    }
    o.pythonMalloc = pm as PythonMallocMode;
  }
  const b = v['budget'] as string | undefined;
  if (b !== undefined) {
    if (!/^\d{1,10}$/.test(b)) throw new UsageError(`--budget wants an operation count, got '${b}'`);
    o.budget = Number(b);
  }
  return { o, positionals, help: v['help'] === true };
}

function cmdVersions(args: string[]): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: pyheap versions\n\nLists the CPython versions (profiles) the simulation knows.\n');
    return;
  }
  const lines = PROFILE_IDS.map((id) => {
    const p = getProfile(id);
    return `${id.padEnd(12)} releases ${p.releases.padEnd(17)} ALIGNMENT ${String(p.alignment).padEnd(3)} classes ${String(p.nbSmallSizeClasses).padEnd(3)} ARENA_SIZE ${String(p.arenaSize / 1024).padStart(4)} KiB  POOL_SIZE ${String(p.poolSize / 1024).padStart(2)} KiB  radix tree ${p.radixTree ? 'yes' : 'no '}  arena release ${p.arenaRelease}`;
  });
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return cmd === undefined ? 2 : 0;
      case 'replay':
        await cmdReplay(rest);
        return 0;
      case 'stats':
        await cmdStats(rest);
        return 0;
      case 'session':
        await sessionCommand(rest, { commonOptions, readTrace: (file, sink) => readTrace(file, sink, null) });
        return 0;
      case 'versions':
        cmdVersions(rest);
        return 0;
      case 'sizeof': {
        const { o, positionals, help } = pyOptions(rest, {});
        if (help) {
          process.stdout.write(SIZEOF_HELP);
          return 0;
        }
        if (positionals.length > 0) throw new UsageError('sizeof reads expressions from standard input; it takes no FILE');
        await sizeofCommand(o);
        return 0;
      }
      case 'run': {
        const { o, positionals, help } = pyOptions(rest, { budget: { type: 'string' } });
        if (help) {
          process.stdout.write(RUN_HELP);
          return 0;
        }
        if (positionals.length !== 1) throw new UsageError('run wants exactly one FILE');
        return runCommand(o, positionals[0]!);
      }
      case 'explain': {
        const { o, positionals, help } = pyOptions(rest, {});
        if (help) {
          process.stdout.write(EXPLAIN_HELP);
          return 0;
        }
        if (positionals.length !== 1) throw new UsageError('explain wants exactly one expression (quote it)');
        explainCommand(o, positionals[0]!);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${cmd}' (try 'pyheap --help')`);
    }
  } catch (e) {
    const msg = e instanceof PySyntaxError || e instanceof PyException ? describeError(e) : e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${msg.split('\n')[0]}\n`);
    return 2;
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  // A closed pipe (pyheap replay ... | head) ends quietly.
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
