/**
 * `sys._debugmallocstats()`: the pymalloc section printed by `_PyObject_DebugMallocStats`,
 * byte for byte as each version prints it (the size-class table, arena counts, where the arena
 * bytes go, and from 3.10 the radix tree's nodes).
 */
import type { PymallocHeap } from './heap';

/** printone(): label padded to 35 columns, '=', the value right-aligned in 21 with commas. */
export function printone(label: string, value: number): string {
  const digits = String(value);
  let grouped = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) grouped += ',';
    grouped += digits[i];
  }
  return `${label.padEnd(35)}=${grouped.padStart(21)}`;
}

export interface ClassStats {
  szidx: number;
  size: number;
  /** Pools with at least one block in use. */
  pools: number;
  inUse: number;
  avail: number;
}

export interface MallocStats {
  classes: ClassStats[];
  arenasAllocatedTotal: number;
  arenasReclaimed: number;
  arenasHighwater: number;
  arenasCurrent: number;
  allocatedBytes: number;
  availableBytes: number;
  unusedPools: number;
  poolHeaderBytes: number;
  quantization: number;
  arenaAlignment: number;
  /** Equals arenasCurrent * ARENA_SIZE. */
  total: number;
  arenaMap: { mid: number; bot: number; rootBytes: number; midBytes: number; botBytes: number } | null;
}

export function mallocStats(heap: PymallocHeap): MallocStats {
  const p = heap.profile;
  const n = heap.nsent;
  const pools = new Array<number>(n).fill(0);
  const used = new Array<number>(n).fill(0);
  const avail = new Array<number>(n).fill(0);
  let narenas = 0;
  let unusedPools = 0;
  let arenaAlignment = 0;
  for (let a = 0; a < heap.maxarenas; a++) {
    const base = heap.arenaAddress[a]!;
    if (base === 0) continue;
    narenas++;
    unusedPools += heap.nfreepools[a]!;
    if (base % p.poolSize !== 0) arenaAlignment += p.poolSize;
    const first = heap.poolId(a, 0);
    const carved = heap.arenaNextCarve[a]!;
    for (let i = 0; i < carved; i++) {
      const ref = heap.ref[first + i]!;
      if (ref === 0) continue;
      const s = heap.szidx[first + i]!;
      pools[s]!++;
      used[s]! += ref;
      avail[s]! += heap.capacity[s]! - ref;
    }
  }
  const classes: ClassStats[] = [];
  let allocatedBytes = 0;
  let availableBytes = 0;
  let poolHeaderBytes = 0;
  let quantization = 0;
  for (let c = 0; c < n; c++) {
    if (pools[c] === 0) continue;
    const size = heap.blockSizeOfClass(c);
    classes.push({ szidx: c, size, pools: pools[c]!, inUse: used[c]!, avail: avail[c]! });
    allocatedBytes += used[c]! * size;
    availableBytes += avail[c]! * size;
    poolHeaderBytes += pools[c]! * p.poolOverhead;
    quantization += pools[c]! * ((p.poolSize - p.poolOverhead) % size);
  }
  const k = heap.counters();
  const g = p.arenaMap;
  return {
    classes,
    arenasAllocatedTotal: k.allocatedTotal,
    arenasReclaimed: k.allocatedTotal - narenas,
    arenasHighwater: k.highwater,
    arenasCurrent: narenas,
    allocatedBytes,
    availableBytes,
    unusedPools,
    poolHeaderBytes,
    quantization,
    arenaAlignment,
    total: allocatedBytes + availableBytes + unusedPools * p.poolSize + poolHeaderBytes + quantization + arenaAlignment,
    arenaMap:
      g === null
        ? null
        : {
            mid: heap.arenaMapMid.size,
            bot: heap.arenaMapBot.size,
            rootBytes: 8 * 2 ** g.rootBits,
            midBytes: heap.arenaMapMid.size * 8 * 2 ** g.midBits,
            botBytes: heap.arenaMapBot.size * g.botEntrySize * 2 ** g.botBits,
          },
  };
}

/** The text `_PyObject_DebugMallocStats` writes, ending with a newline. */
export function formatMallocStats(heap: PymallocHeap): string {
  const p = heap.profile;
  const s = mallocStats(heap);
  const out: string[] = [];
  out.push(`Small block threshold = ${p.smallRequestThreshold}, in ${p.nbSmallSizeClasses} size classes.`);
  out.push('');
  out.push('class   size   num pools   blocks in use  avail blocks');
  out.push('-----   ----   ---------   -------------  ------------');
  for (const c of s.classes) {
    out.push(
      `${String(c.szidx).padStart(5)} ${String(c.size).padStart(6)} ${String(c.pools).padStart(11)} ${String(c.inUse).padStart(15)} ${String(c.avail).padStart(13)}`,
    );
  }
  out.push('');
  out.push(printone('# arenas allocated total', s.arenasAllocatedTotal));
  out.push(printone('# arenas reclaimed', s.arenasReclaimed));
  out.push(printone('# arenas highwater mark', s.arenasHighwater));
  out.push(printone('# arenas allocated current', s.arenasCurrent));
  out.push(printone(`${s.arenasCurrent} arenas * ${p.arenaSize} bytes/arena`, s.arenasCurrent * p.arenaSize));
  out.push('');
  out.push(printone('# bytes in allocated blocks', s.allocatedBytes));
  out.push(printone('# bytes in available blocks', s.availableBytes));
  out.push(printone(`${s.unusedPools} unused pools * ${p.poolSize} bytes`, s.unusedPools * p.poolSize));
  out.push(printone('# bytes lost to pool headers', s.poolHeaderBytes));
  out.push(printone('# bytes lost to quantization', s.quantization));
  out.push(printone('# bytes lost to arena alignment', s.arenaAlignment));
  out.push(printone('Total', s.total));
  if (s.arenaMap !== null) {
    const m = s.arenaMap;
    out.push('');
    out.push('arena map counts');
    out.push(printone('# arena map mid nodes', m.mid));
    out.push(printone('# arena map bot nodes', m.bot));
    out.push('');
    out.push(printone('# bytes lost to arena map root', m.rootBytes));
    out.push(printone('# bytes lost to arena map mid', m.midBytes));
    out.push(printone('# bytes lost to arena map bot', m.botBytes));
    out.push(printone('Total', m.rootBytes + m.midBytes + m.botBytes));
  }
  return out.join('\n') + '\n';
}
