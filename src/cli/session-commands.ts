/**
 * `pyheap session save`, `pyheap session info` and `pyheap replay --session`: session files
 * (src/core/session/SPEC.md) from the command line.
 *
 * `replay --session FILE` prints exactly what `pyheap replay` prints for the session's trace
 * with the session's settings. Sessions with console code or workloads cannot be replayed
 * here yet: that is one `error:` line.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PROFILE_ID, PROFILE_IDS, resolveProfileId } from '../core/profiles';
import { encodeSession, traceOperations } from '../core/session/format';
import { emptyUiState, type SessionDoc, type SessionInput } from '../core/session/model';
import { StoredTraceBuilder, StoredTraceCursor, TeeSink } from '../core/session/stored-trace';
import { TraceError, type TraceReader, type TraceSink } from '../core/trace/reader';
import { StreamReplay, createReplayHeap, formatSummary, type ReplayHeapOptions } from '../core/trace/replay';
import { loadSession, saveFileAtomic } from '../main/files';
import { LiveSession } from '../core/session/live';

export const SESSION_HELP = `Usage:
  pyheap session save [--python X] [--arena-offsets L | --aslr SEED] [--memory-limit N]
                      --trace FILE [--trace FILE ...] -o OUT.pyheap
  pyheap session info FILE.pyheap
  pyheap session dump FILE.pyheap [--internals] [--at N]

save   stores the traces (whole: ids, sizes, line numbers) with the CPython version and arena
       placement in a session file, after checking that they replay (an error names the line).
       The options are those of 'pyheap replay'. Prints the size per operation.
info   prints what a session file holds: format version, settings, inputs with their
       operation counts, position, bookmarks, file size and bytes per operation.
dump   rebuilds the session as the app does (every input re-run: console code, workloads,
       traces) and prints its timeline (inputs, statement markers, bookmarks) and the heap
       at its saved position (or at operation N) in the summary format of 'pyheap replay'.

'pyheap replay --session FILE [--internals]' then prints exactly what 'pyheap replay' prints
for the session's traces.
`;

/** The parts of the CLI's option parsing and trace reading that `session save` shares. */
export interface CliCommon {
  commonOptions(
    values: { python?: string; 'arena-offsets'?: string; aslr?: string; 'memory-limit'?: string },
    positionals: string[],
  ): { python: string; arenaOffsets: number[]; aslrSeed?: number; memoryLimit?: number };
  readTrace(file: string, sink: TraceSink): Promise<TraceReader>;
}

/** Buffered output with back-pressure (main.ts's Output). */
export interface CliOutput {
  line(s: string): void;
  text(s: string): void;
  drain(): Promise<void>;
}

export async function sessionCommand(args: string[], common: CliCommon): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'save':
      return sessionSave(rest, common);
    case 'info':
      return sessionInfo(rest);
    case 'dump':
      return sessionDump(rest);
    case undefined:
      throw new Error("'pyheap session' wants save, info or dump (see 'pyheap session --help')");
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(SESSION_HELP);
      return;
    default:
      throw new Error(`unknown session command '${sub}' (save, info or dump)`);
  }
}

async function sessionSave(args: string[], common: CliCommon): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      python: { type: 'string' },
      'arena-offsets': { type: 'string' },
      aslr: { type: 'string' },
      'memory-limit': { type: 'string' },
      trace: { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SESSION_HELP);
    return;
  }
  if (positionals.length > 0) throw new Error(`session save takes its traces with --trace, not as '${positionals[0]}'`);
  const traces = values.trace ?? [];
  if (traces.length === 0) throw new Error('session save wants at least one --trace FILE');
  const out = values.output;
  if (out === undefined || out === '') throw new Error('session save wants -o OUT.pyheap');
  const o = common.commonOptions(values, []);
  const python = resolveProfileId(o.python ?? DEFAULT_PROFILE_ID);
  if (python === null) throw new Error(`unknown CPython version '${o.python}' (supported: ${PROFILE_IDS.join(', ')})`);
  const heapOptions: ReplayHeapOptions = { python, arenaOffsets: o.arenaOffsets };
  if (o.aslrSeed !== undefined) heapOptions.aslrSeed = o.aslrSeed;
  if (o.memoryLimit !== undefined) heapOptions.memoryLimit = o.memoryLimit;
  // One heap for all traces, as the session will replay them: a trace that would fail there
  // is refused now, naming its line.
  const heap = createReplayHeap(heapOptions);
  const check = new StreamReplay(heap, null);
  const inputs: SessionInput[] = [];
  for (const file of traces) {
    const b = new StoredTraceBuilder();
    try {
      await common.readTrace(file, new TeeSink(b, check));
    } catch (e) {
      if (e instanceof TraceError && traces.length > 1) throw new Error(`${file}: ${e.message}`);
      throw e;
    }
    inputs.push({ kind: 'trace', name: file === '-' ? 'stdin' : basename(file), trace: b.finish() });
  }
  const doc: SessionDoc = {
    settings: {
      python,
      pythonMalloc: 'pymalloc',
      placement: o.aslrSeed !== undefined ? { kind: 'aslr', seed: o.aslrSeed } : { kind: 'offsets', offsets: o.arenaOffsets },
      memoryLimit: o.memoryLimit ?? null,
    },
    inputs,
    position: 0,
    ui: emptyUiState(),
  };
  const ops = traceOperations(doc);
  doc.position = ops;
  const bytes = encodeSession(doc);
  await saveFileAtomic(out, bytes);
  process.stdout.write(`saved ${out}: ${ops} operations in ${bytes.length} bytes (${perOp(bytes.length, ops)} bytes per operation)\n`);
}

function perOp(bytes: number, ops: number): string {
  return ops > 0 ? (bytes / ops).toFixed(3) : '-';
}

/** How many allocator operations an input makes, when the file says so. */
function inputOps(x: SessionInput): string {
  if (x.kind === 'trace') return String(x.trace.length);
  if (x.kind === 'workload' && x.spec.kind === 'churn') return String(x.spec.operations);
  return 'unknown (made when it runs)';
}

function describeInput(x: SessionInput, i: number): string {
  let what: string;
  switch (x.kind) {
    case 'trace':
      what = `trace ${JSON.stringify(x.name)}`;
      break;
    case 'python': {
      const lines = x.code === '' ? 0 : x.code.split('\n').length - (x.code.endsWith('\n') ? 1 : 0);
      what = `python ${lines} line${lines === 1 ? '' : 's'}`;
      break;
    }
    case 'workload':
      what = `workload ${JSON.stringify(x.spec)}`;
      break;
  }
  const cut = x.interruptedAt === undefined ? '' : ` interrupted_at=${x.interruptedAt}`;
  return `input ${i} ${what} ops=${inputOps(x)}${cut}`;
}

async function sessionInfo(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(SESSION_HELP);
    return;
  }
  if (positionals.length !== 1) throw new Error('session info wants exactly one FILE');
  const path = positionals[0]!;
  const f = await loadSession(path);
  const d = f.doc;
  const s = d.settings;
  const ops = traceOperations(d);
  const out = [
    `file ${path}`,
    `format_version ${f.version}`,
    `file_size ${f.size}`,
    `python ${s.python}`,
    `pythonmalloc ${s.pythonMalloc}`,
    s.placement.kind === 'offsets' ? `arena_offsets ${s.placement.offsets.join(',')}` : `aslr ${s.placement.seed}`,
    `memory_limit ${s.memoryLimit ?? 'none'}`,
    `inputs ${d.inputs.length}`,
    ...d.inputs.map(describeInput),
    `position ${d.position}`,
    `view ${d.ui.view}`,
    `selection ${d.ui.selection === null ? 'none' : '0x' + d.ui.selection.toString(16)}`,
    `bookmarks ${d.ui.bookmarks.length}`,
    ...d.ui.bookmarks.map((b) => `bookmark ${b.op} ${JSON.stringify(b.label)}`),
    `trace_ops ${ops}`,
    `bytes_per_op ${perOp(f.size, ops)}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

/** `pyheap session dump`: the session rebuilt from its inputs, as the app opens it. */
async function sessionDump(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, internals: { type: 'boolean' }, at: { type: 'string' } },
  });
  if (values.help) {
    process.stdout.write(SESSION_HELP);
    return;
  }
  if (positionals.length !== 1) throw new Error('session dump wants exactly one FILE');
  const { doc } = await loadSession(positionals[0]!);
  const live = LiveSession.fromDoc(doc);
  if (values.at !== undefined) {
    if (!/^\d+$/.test(values.at) || Number(values.at) > live.total) throw new Error(`--at: expected an operation from 0 to ${live.total}, got '${values.at}'`);
    live.seek(Number(values.at));
  }
  process.stdout.write(formatTimeline(live) + formatSummary(live.viewHeap(), values.internals ?? false));
}

/** The timeline of a live session: position, inputs with their ranges, markers. */
export function formatTimeline(live: LiveSession): string {
  const out = [`position ${live.position} of ${live.total}`];
  live.inputs.forEach((x, i) => {
    const cut = x.input.interruptedAt === undefined ? '' : ` interrupted_at=${x.input.interruptedAt}`;
    out.push(`input ${i} ${x.input.kind} ${x.start}..${x.end}${cut}`);
  });
  for (const m of live.allMarkers()) out.push(`marker ${m.op} ${m.kind} ${JSON.stringify(m.label)}`);
  return out.join('\n') + '\n';
}

/**
 * `pyheap replay --session FILE`: the dump of the session's traces under its settings, the
 * same bytes `pyheap replay` prints for the trace file.
 */
export async function replaySession(path: string, internals: boolean, out: CliOutput): Promise<void> {
  const { doc } = await loadSession(path);
  const s = doc.settings;
  const other = doc.inputs.findIndex((x) => x.kind !== 'trace');
  if (other >= 0) {
    const x = doc.inputs[other]!;
    const what = x.kind === 'python' ? 'console code' : 'a workload';
    throw new Error(`session file '${path}': input ${other} is ${what}; replay --session replays sessions made only of traces for now`);
  }
  if (s.pythonMalloc !== 'pymalloc') {
    throw new Error(`session file '${path}': the session runs with PYTHONMALLOC=${s.pythonMalloc}; replay --session replays pymalloc sessions only`);
  }
  const options: ReplayHeapOptions = { python: s.python };
  if (s.placement.kind === 'offsets') options.arenaOffsets = s.placement.offsets;
  else options.aslrSeed = s.placement.seed;
  if (s.memoryLimit !== null) options.memoryLimit = s.memoryLimit;
  const heap = createReplayHeap(options);
  const replay = new StreamReplay(heap, (line) => out.line(line));
  const several = doc.inputs.length > 1;
  for (const x of doc.inputs) {
    if (x.kind !== 'trace') continue;
    const c = new StoredTraceCursor(x.trace, replay);
    const end = x.interruptedAt ?? x.trace.length;
    try {
      while (c.pos < end) {
        c.runTo(Math.min(end, c.pos + 0x10000));
        await out.drain();
      }
    } catch (e) {
      if (e instanceof TraceError && several) throw new Error(`${x.name}: ${e.message}`);
      throw e;
    }
  }
  out.text(formatSummary(heap, internals));
}
