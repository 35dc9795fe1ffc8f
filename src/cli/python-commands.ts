/**
 * `pyheap sizeof`, `pyheap run` and `pyheap explain`: the Python front end from the command line.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { hexDump, objectBlocks } from '../core/objects/bytes';
import { BLOCK_MUL } from '../core/pymalloc/heap';
import type { HeapEvent, PythonMallocMode } from '../core/objects/space';
import { PythonSession, describeError } from '../core/python/session';

export const SIZEOF_HELP = `Usage: pyheap sizeof [--python X] [--pythonmalloc MODE]

Reads one Python expression per line on standard input and prints, per line, the value of
sys.getsizeof(<expr>) under that CPython version, or 'error: ...'. All lines run in one session.
`;

export const RUN_HELP = `Usage: pyheap run [--python X] [--pythonmalloc MODE] [--budget N] FILE

Runs a script of the supported Python subset on the simulated heap and prints every event
(object created or destroyed, allocation, reallocation, free: line, domain, size, size class,
address, block) and a closing heap summary. MODE is pymalloc (default), malloc, debug,
pymalloc_debug or malloc_debug (the debug hooks add 24 bytes to every block, 32 on 3.7).
`;

export const EXPLAIN_HELP = `Usage: pyheap explain [--python X] [--pythonmalloc MODE] EXPR

Prints the layout of the object EXPR evaluates to: each field with its offset, size and value,
the block it lives in (domain, size class, arena/pool/block, address) and the bytes lost to
rounding: why 5 takes 28 bytes, for any object. Then the bytes of its block and of the blocks
it owns (a list's item array, a dict's keys) as a hex dump with the field of each range, the
debug hooks' header, guards and fill bytes under MODE debug, pymalloc_debug or malloc_debug;
'..' marks bytes the simulation does not model (hash caches, GC links, whatever a block held
before, the bytes lost to rounding).
`;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function placeOf(s: PythonSession, handle: number): string {
  if (handle < 0) return 'raw (C malloc)';
  const heap = s.heap;
  const pool = Math.floor(handle / BLOCK_MUL);
  const c = heap.szidx[pool]!;
  return `class ${c} (${heap.blockSizeOfClass(c)} B) pool ${heap.arenaOfPool(pool)}:${heap.ordinalOfPool(pool)} block ${handle % BLOCK_MUL}`;
}

export function formatEvent(s: PythonSession, e: HeapEvent): string {
  const at = `line ${e.line}`.padEnd(8);
  switch (e.kind) {
    case 'alloc':
      return `${at} alloc    ${e.domain.padEnd(3)} ${String(e.size).padStart(6)} B  ${hex(e.address)}  ${placeOf(s, e.handle)}  ${e.what}`;
    case 'realloc':
      return `${at} realloc  ${e.domain.padEnd(3)} ${String(e.size).padStart(6)} B  ${hex(e.oldAddress)} -> ${hex(e.address)}  ${placeOf(s, e.handle)}  ${e.what}`;
    case 'free':
      return `${at} free     ${e.domain.padEnd(3)}           ${hex(e.address)}  ${e.what}`;
    case 'create':
      return `${at} create   ${e.type} at ${hex(e.address)}${e.freelist ? ' (from its free list)' : ''}`;
    case 'destroy':
      return `${at} destroy  ${e.type} at ${hex(e.address)}`;
  }
}

export function heapSummary(s: PythonSession): string {
  const heap = s.heap;
  let pools = 0;
  let blocks = 0;
  let bytes = 0;
  for (let a = 0; a < heap.maxarenas; a++) {
    if (heap.arenaAddress[a] === 0) continue;
    for (let i = 0; i < heap.arenaNextCarve[a]!; i++) {
      const p = heap.poolId(a, i);
      if (heap.ref[p]! > 0) {
        pools++;
        blocks += heap.ref[p]!;
        bytes += heap.ref[p]! * heap.blockSizeOfPool(p);
      }
    }
  }
  const k = heap.counters();
  const pl = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `heap: ${pl(blocks, 'pymalloc block')} in use (${bytes} bytes) in ${pl(pools, 'pool')} of ${pl(k.live, 'arena')}; ${pl(heap.rawAllocatedBlocks, 'raw block')}\n`;
}

export interface PyOptions {
  python: string;
  pythonMalloc?: PythonMallocMode;
  budget?: number;
}

function session(o: PyOptions, print?: (t: string) => void): PythonSession {
  return new PythonSession({
    python: o.python,
    ...(o.pythonMalloc === undefined ? {} : { pythonMalloc: o.pythonMalloc }),
    ...(o.budget === undefined ? {} : { operationBudget: o.budget }),
    ...(print === undefined ? {} : { print }),
  });
}

export async function sizeofCommand(o: PyOptions): Promise<void> {
  const s = session(o);
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out: string[] = [];
  for await (const line of rl) {
    if (line.trim() === '') {
      out.push('');
      continue;
    }
    try {
      out.push(String(s.sizeof(line)));
    } catch (e) {
      out.push(`error: ${describeError(e)}`);
    }
    if (out.length > 1000) process.stdout.write(out.splice(0).join('\n') + '\n');
  }
  if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
}

export function runCommand(o: PyOptions, file: string): number {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const out: string[] = [];
  const s = session(o, (t) => out.push(`print: ${t.replace(/\n$/, '')}`));
  try {
    s.run(source);
  } catch (e) {
    out.push(...s.space.events.map((ev) => formatEvent(s, ev)));
    process.stdout.write(out.join('\n') + (out.length > 0 ? '\n' : ''));
    process.stderr.write(`error: ${describeError(e)}\n`);
    return 2;
  }
  const lines = s.space.events.map((ev) => formatEvent(s, ev));
  process.stdout.write([...lines, ...out].join('\n') + (lines.length + out.length > 0 ? '\n' : '') + heapSummary(s));
  return 0;
}

export function explainCommand(o: PyOptions, expr: string): void {
  const s = session(o);
  const obj = s.evaluate(expr);
  const L = s.layout(obj);
  const out: string[] = [];
  out.push(`${expr}  ->  ${obj.type} at ${hex(obj.address)}   sys.getsizeof = ${L.getsizeof}`);
  out.push('');
  out.push('offset  size  field                value');
  for (const f of L.fields) {
    const v = f.value === null ? '' : String(f.value);
    out.push(`${String(f.offset).padStart(6)}  ${String(f.size).padStart(4)}  ${f.name.padEnd(19)}  ${v.padEnd(22)}  ${f.meaning}`);
  }
  out.push('');
  if (obj.isStatic) {
    out.push(`memory: static (not on the heap): ${obj.type === 'int' ? 'a cached small int (-5..256)' : 'a singleton of the interpreter'}`);
  } else if (obj.handle < 0) {
    out.push(`memory: ${L.requested} bytes from the C library (raw malloc: over 512 bytes)`);
  } else {
    out.push(`memory: ${L.requested} bytes requested from pymalloc (PyObject_Malloc) -> ${placeOf(s, obj.handle)}, block at ${hex(s.heap.addressOf(obj.handle))}`);
    out.push(`        block ${L.blockSize} bytes: ${L.blockSize - L.requested} bytes lost to rounding up to the size class`);
  }
  const blocks = objectBlocks(s.space, obj);
  if (blocks.length > 0) {
    out.push('');
    out.push(`bytes ('..': not modelled; pointers are simulated addresses):`);
    for (const b of blocks) out.push(...hexDump(b));
  }
  process.stdout.write(out.join('\n') + '\n');
}
