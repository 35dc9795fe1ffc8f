/**
 * The invariant checker: everything that must hold between any two operations of pymalloc.
 * Tests run it after every operation of many random traces; the UI can run it on demand.
 *
 * Invariants (each backs a `Key invariant` note in heap.ts or obmalloc.c):
 *   - usable_arenas is an acyclic, consistently doubly linked list, sorted by ascending
 *     nfreepools, holding exactly the live arenas with nfreepools > 0;
 *   - unused_arena_objects holds exactly the arena objects that are not live;
 *   - nfp2lasta[nf] (3.8+) is the rightmost arena in usable_arenas with nf free pools, or NULL;
 *   - per live arena: nfreepools = |freepools| + never-carved pools; freepools holds carved
 *     pools with ref.count 0; ntotalpools is 64, or 63 when the arena is not pool-aligned;
 *   - per carved pool in use: its header names its arena; it is in usedpools[szidx] exactly
 *     when it is neither full nor empty; its free list is acyclic, inside the pool's handed-out
 *     region, and as long as that region minus ref.count;
 *   - the counters agree: narenas_currently_allocated = live arenas <= highwater <= total;
 *     poolBlocksInUse / poolBytesInUse are the sums of ref.count (x block size) over pools.
 */
import { DUMMY_SIZE_IDX, LINK_NULL, NULL_ID, type PymallocHeap } from './heap';

export function checkHeap(h: PymallocHeap): string[] {
  const errs: string[] = [];
  const fail = (m: string): void => {
    if (errs.length < 50) errs.push(m);
  };
  const overhead = h.profile.poolOverhead;

  // ---- arenas ----
  let live = 0;
  for (let a = 0; a < h.maxarenas; a++) if (h.arenaAddress[a] !== 0) live++;
  if (live !== h.narenasCurrentlyAllocated) fail(`narenas_currently_allocated ${h.narenasCurrentlyAllocated} != live arenas ${live}`);
  if (h.narenasHighwater < live) fail(`highwater ${h.narenasHighwater} < live ${live}`);
  if (h.ntimesArenaAllocated < h.narenasHighwater) fail(`ntimes_arena_allocated < highwater`);

  // ---- running totals: the sums of ref.count (and of ref.count x block size) over pools ----
  let blocks = 0;
  let bytes = 0;
  for (let a = 0; a < h.maxarenas; a++) {
    if (h.arenaAddress[a] === 0) continue;
    const base = h.poolId(a, 0);
    for (let i = 0; i < h.arenaNextCarve[a]!; i++) {
      const r = h.ref[base + i]!;
      if (r === 0) continue;
      blocks += r;
      bytes += r * h.blockSizeOfPool(base + i);
    }
  }
  if (blocks !== h.poolBlocksInUse) fail(`poolBlocksInUse ${h.poolBlocksInUse} != sum of ref.count ${blocks}`);
  if (bytes !== h.poolBytesInUse) fail(`poolBytesInUse ${h.poolBytesInUse} != sum of block bytes ${bytes}`);

  const inUsable = new Uint8Array(h.maxarenas);
  const usableOrder: number[] = [];
  let prev = NULL_ID;
  let steps = 0;
  for (let a = h.usableArenas; a !== NULL_ID; a = h.nextarena[a]!) {
    if (a < 0 || a >= h.maxarenas) {
      fail(`usable_arenas: bad index ${a}`);
      break;
    }
    if (++steps > h.maxarenas) {
      fail('usable_arenas is cyclic');
      break;
    }
    if (inUsable[a]) fail(`usable_arenas: arena ${a} twice`);
    inUsable[a] = 1;
    usableOrder.push(a);
    if (h.prevarena[a] !== prev) fail(`usable_arenas: arena ${a} prevarena ${h.prevarena[a]} != ${prev}`);
    if (h.arenaAddress[a] === 0) fail(`usable_arenas: arena ${a} is not live`);
    if (h.nfreepools[a] === 0) fail(`usable_arenas: arena ${a} has no free pool`);
    if (prev !== NULL_ID && h.nfreepools[prev]! > h.nfreepools[a]!) {
      fail(`usable_arenas not sorted: ${prev}/${h.nfreepools[prev]} before ${a}/${h.nfreepools[a]}`);
    }
    prev = a;
  }
  const lastUsable = prev;
  for (let a = 0; a < h.maxarenas; a++) {
    if (h.arenaAddress[a] !== 0 && h.nfreepools[a]! > 0 && !inUsable[a]) fail(`arena ${a} has free pools but is not in usable_arenas`);
  }

  const inUnused = new Uint8Array(h.maxarenas);
  steps = 0;
  for (let a = h.unusedArenaObjects; a !== NULL_ID; a = h.nextarena[a]!) {
    if (a < 0 || a >= h.maxarenas || ++steps > h.maxarenas) {
      fail('unused_arena_objects is broken or cyclic');
      break;
    }
    if (h.arenaAddress[a] !== 0) fail(`unused_arena_objects: arena ${a} is live`);
    inUnused[a] = 1;
  }
  for (let a = 0; a < h.maxarenas; a++) {
    if (h.arenaAddress[a] === 0 && !inUnused[a]) fail(`arena object ${a} is neither live nor unused`);
  }

  if (h.useNfp2lasta) {
    const rightmost = new Int32Array(h.maxPools + 1).fill(NULL_ID);
    for (const a of usableOrder) rightmost[h.nfreepools[a]!] = a;
    for (let nf = 1; nf <= h.maxPools; nf++) {
      if (h.nfp2lasta[nf] !== rightmost[nf]) fail(`nfp2lasta[${nf}] = ${h.nfp2lasta[nf]}, expected ${rightmost[nf]}`);
    }
    if (h.nfp2lasta[0] !== NULL_ID) fail(`nfp2lasta[0] = ${h.nfp2lasta[0]}, expected NULL`);
  }
  if (h.keepLastArena === false) {
    for (let a = 0; a < h.maxarenas; a++) {
      if (h.arenaAddress[a] !== 0 && h.nfreepools[a] === h.ntotalpools[a]) fail(`arena ${a} is wholly free but was not released (3.7/3.8 rule)`);
    }
  } else {
    for (let a = 0; a < h.maxarenas; a++) {
      if (h.arenaAddress[a] !== 0 && h.nfreepools[a] === h.ntotalpools[a] && a !== lastUsable) {
        fail(`arena ${a} is wholly free but is not the last usable arena`);
      }
    }
  }

  // ---- pools ----
  const inUsed = new Uint8Array(h.nsent + h.maxarenas * h.maxPools);
  for (let c = 0; c < h.nsent; c++) {
    let p = h.nextpool[c]!;
    let back = c;
    let n = 0;
    while (p !== c) {
      if (p < h.nsent || p >= inUsed.length || ++n > h.maxarenas * h.maxPools) {
        fail(`usedpools[${c}] is broken`);
        break;
      }
      if (h.prevpool[p] !== back) fail(`usedpools[${c}]: pool ${p} prevpool mismatch`);
      if (h.szidx[p] !== c) fail(`usedpools[${c}]: pool ${p} has szidx ${h.szidx[p]}`);
      inUsed[p] = 1;
      back = p;
      p = h.nextpool[p]!;
    }
    if (h.prevpool[c] !== back) fail(`usedpools[${c}]: head prevpool mismatch`);
  }

  // Free-list walk marks: seen[b] === stamp when block b was met in the current pool.
  const seen = new Uint32Array(2048);
  let stamp = 0;
  for (let a = 0; a < h.maxarenas; a++) {
    const addr = h.arenaAddress[a]!;
    if (addr === 0) continue;
    const aligned = addr % h.poolSize === 0;
    if (h.ntotalpools[a] !== (aligned ? h.maxPools : h.maxPools - 1)) fail(`arena ${a}: ntotalpools ${h.ntotalpools[a]}`);
    const carved = h.arenaNextCarve[a]!;
    if (carved > h.ntotalpools[a]!) fail(`arena ${a}: carved ${carved} > ntotalpools`);
    let nfree = 0;
    const onFree = new Set<number>();
    let fp = h.arenaFreepools[a]!;
    while (fp !== NULL_ID) {
      if (onFree.has(fp) || onFree.size > h.maxPools) {
        fail(`arena ${a}: freepools cyclic`);
        break;
      }
      onFree.add(fp);
      if (h.arenaOfPool(fp) !== a || h.ordinalOfPool(fp) >= carved) fail(`arena ${a}: freepools holds foreign/uncarved pool ${fp}`);
      if (h.ref[fp] !== 0) fail(`arena ${a}: free pool ${fp} has ref.count ${h.ref[fp]}`);
      nfree++;
      fp = h.nextpool[fp]!;
    }
    if (h.nfreepools[a] !== nfree + h.ntotalpools[a]! - carved) {
      fail(`arena ${a}: nfreepools ${h.nfreepools[a]} != ${nfree} free + ${h.ntotalpools[a]! - carved} uncarved`);
    }
    for (let i = 0; i < carved; i++) {
      const p = h.poolId(a, i);
      if (h.poolArenaIndex[p] !== a) fail(`pool ${a}:${i}: arenaindex ${h.poolArenaIndex[p]}`);
      const s = h.szidx[p]!;
      if (s === DUMMY_SIZE_IDX || s >= h.nsent) {
        fail(`pool ${a}:${i}: szidx ${s}`);
        continue;
      }
      const ref = h.ref[p]!;
      const cap = h.capacity[s]!;
      const bsize = h.blockSizeOfClass(s);
      const handedOut = (h.nextoffset[p]! - overhead) / bsize;
      if (!Number.isInteger(handedOut) || handedOut < 1 || handedOut > cap) fail(`pool ${a}:${i}: nextoffset ${h.nextoffset[p]}`);
      if (h.maxnextoffset[p] !== h.poolSize - bsize) fail(`pool ${a}:${i}: maxnextoffset ${h.maxnextoffset[p]}`);
      if (ref < 0 || ref > cap) fail(`pool ${a}:${i}: ref.count ${ref}`);
      const partial = ref > 0 && ref < cap;
      const full = ref === cap;
      if (partial !== (inUsed[p] === 1) && !(full && inUsed[p] === 0)) {
        fail(`pool ${a}:${i}: ref ${ref}/${cap} but ${inUsed[p] ? '' : 'not '}in usedpools`);
      }
      if (full && inUsed[p] === 1) fail(`pool ${a}:${i}: full but in usedpools`);
      if (ref === 0 && !onFree.has(p)) fail(`pool ${a}:${i}: empty but not on freepools`);
      // Free list: acyclic, inside the handed-out region, of the right length.
      stamp++;
      let nseen = 0;
      const seg = h.poolSeg[p]!;
      for (let b = h.freeblock[p]!; b !== NULL_ID && b !== LINK_NULL; b = h.links[seg + b]!) {
        if (b >= handedOut || seen[b] === stamp) {
          fail(`pool ${a}:${i}: free list ${b >= handedOut ? 'escapes' : 'cycle'} at block ${b}`);
          break;
        }
        seen[b] = stamp;
        nseen++;
      }
      if (nseen !== handedOut - ref) fail(`pool ${a}:${i}: free list has ${nseen} blocks, expected ${handedOut - ref}`);
      if (h.freeblock[p] === NULL_ID && ref !== cap) fail(`pool ${a}:${i}: freeblock NULL but not full`);
    }
  }
  return errs;
}
