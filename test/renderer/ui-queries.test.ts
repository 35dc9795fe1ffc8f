/**
 * The queries the UI added to the protocol, answered by the worker's SimService on a real
 * session (no worker thread needed): pool states by slot range, the statistics panel's
 * figures, field meanings, and addresses inside a pool but in no block.
 */
import { describe, expect, it } from 'vitest';
import { SimService, parseQuery, RequestError, type ServiceContext } from '../../src/main/sim-service';
import { defaultSettings } from '../../src/core/session/model';
import { FIXED_LAYOUT } from '../../src/core/raw/address-space';
import { MAPPING_KINDS, type BlockInfo, type HeapStats, type PoolInfo, type PoolStatesResult, type RawChunksResult } from '../../src/shared/protocol';

function service(run = true): SimService {
  const ctx: ServiceContext = {
    emit: () => undefined,
    cancelled: () => false,
    clearCancel: () => undefined,
    setInterval: () => 0,
    clearInterval: () => undefined,
    // Idle-time work (timeline catch-up) never runs here.
    setTimeout: () => 0,
  };
  const s = new SimService(ctx, defaultSettings('3.13'));
  if (run) s.handle({ op: 'runPython', code: 'x = [1000, 2000]' });
  return s;
}

describe('queries for the UI', () => {
  it('answers pool states for the slot ranges asked, as they are now, clipped to the array', () => {
    const s = service();
    const r = s.handle({ op: 'query', query: { what: 'poolStates', ranges: [{ start: 0, end: 3 }, { start: 10, end: 12 }, { start: 1020, end: 5000 }] } }) as PoolStatesResult;
    expect(r.full).toBe(false);
    expect(r.length).toBe(16 * 64);
    expect(r.ranges.map((x) => [x.start, Array.from(new Uint16Array(x.data))])).toEqual([
      [0, [4 | (1 << 3) | (1 << 9), 4 | (3 << 3) | (1 << 9), 4 | (0 << 3) | (1 << 9)]],
      [10, [2, 2]],
      [1020, [0, 0, 0, 0]],
    ]);
    expect(() => parseQuery({ what: 'poolStates', ranges: [{ start: 5, end: 2 }] })).toThrow(RequestError);
    expect(() => parseQuery({ what: 'poolStates', ranges: [{ start: 5, end: 2 }] })).toThrow('query.ranges[0].end: expected an integer from 5');
    expect(parseQuery({ what: 'poolStates', ranges: [{ start: 1, end: 4 }] })).toEqual({ what: 'poolStates', ranges: [{ start: 1, end: 4 }] });
  });

  it('gives the statistics panel _debugmallocstats figures and the pinned arenas', () => {
    const st = service().handle({ op: 'query', query: { what: 'stats' } }) as HeapStats;
    // 2 ints of 32 + the list's 64 + its item array's 16
    expect(st.allocatedBytes).toBe(144);
    expect(st.poolHeaderBytes).toBe(3 * 48);
    // (16384 - 48) % 32 = 16, % 64 = 16, % 16 = 0
    expect(st.quantization).toBe(32);
    expect(st.unusedPools).toBe(61);
    expect(st.total).toBe(1 << 20);
    expect(st.arenaMapBytes).not.toBeNull();
    expect(st.pinnedCount).toBe(1);
    expect(st.pinned).toEqual([{ index: 0, address: st.pinned[0]!.address, poolsUsed: 3, poolsFree: 61, blocks: 4, bytes: 144 }]);
    expect(st.text).toMatch(/^# bytes lost to quantization {7}= {19}32$/m);
  });

  it('places an address in a pool header or a pool never carved, and gives object fields their meaning', () => {
    const s = service();
    const pool1 = s.handle({ op: 'query', query: { what: 'pool', slot: 1 } }) as PoolInfo;
    const header = s.handle({ op: 'query', query: { what: 'block', address: pool1.address + 8 } }) as BlockInfo;
    expect([header.where, header.arena, header.pool, header.block]).toEqual(['pool', 0, 1, null]);
    const pool5 = s.handle({ op: 'query', query: { what: 'pool', slot: 5 } }) as PoolInfo;
    const fresh = s.handle({ op: 'query', query: { what: 'block', address: pool5.address + 100 } }) as BlockInfo;
    expect([fresh.where, fresh.pool, fresh.block]).toEqual(['pool', 5, null]);
    const list = s.handle({ op: 'query', query: { what: 'block', address: pool1.address + 48 } }) as BlockInfo;
    expect(list.object!.fields.find((f) => f.name === 'ob_refcnt')!.meaning).toMatch(/reference count/);
  });

  it('sends the arena addresses with the pool states only when they changed', () => {
    const s = service();
    const q = (arenaVersion?: number): PoolStatesResult =>
      s.handle({ op: 'query', query: arenaVersion === undefined ? { what: 'poolStates' } : { what: 'poolStates', arenaVersion } }) as PoolStatesResult;
    const first = q();
    // 16 arena objects (the first arena vector); arena 0 in the first slot of the offset placement.
    const want = [0x5e00_0000_0000, ...new Array<number>(15).fill(0)];
    expect(Array.from(new Float64Array(first.arenaAddresses!))).toEqual(want);
    const v = first.arenaVersion;
    expect(q(v).arenaAddresses).toBeNull();
    expect(q(v).arenaVersion).toBe(v);
    const ranged = s.handle({ op: 'query', query: { what: 'poolStates', ranges: [{ start: 0, end: 1 }], arenaVersion: v } }) as PoolStatesResult;
    expect([ranged.arenaVersion, ranged.arenaAddresses]).toEqual([v, null]);
    // A step that allocates no arena changes nothing; back to the start there is no arena vector.
    s.handle({ op: 'step', delta: -1 });
    expect(q(v).arenaAddresses).toBeNull();
    s.handle({ op: 'seek', position: 0 });
    const empty = q(v);
    expect(empty.arenaVersion).toBe(v + 1);
    expect(new Float64Array(empty.arenaAddresses!).length).toBe(0);
    s.handle({ op: 'seek', position: 4 });
    const back = q(v + 1);
    expect(back.arenaVersion).toBe(v + 2);
    expect(Array.from(new Float64Array(back.arenaAddresses!))).toEqual(want);
    // A stale version gets them again, as does a full refresh.
    expect(Array.from(new Float64Array(q(v).arenaAddresses!))).toEqual(want);
    expect(parseQuery({ what: 'poolStates', arenaVersion: 3 })).toEqual({ what: 'poolStates', arenaVersion: 3 });
    expect(() => parseQuery({ what: 'poolStates', arenaVersion: -1 })).toThrow('query.arenaVersion: expected an integer from 0');
  });

  it('gives arenas reused out of index order their addresses (the heap map lays them out by address)', () => {
    const s = service(false);
    // 1,984 blocks of 512 bytes fill a 3.13 arena (64 pools of 31). Four arenas, the blocks of the
    // first three freed: arenas 1 and 2 are released (arena 0 is kept), then three arenas' worth
    // again: the arena objects come back most recently freed first (2, then 1), each taking the
    // lowest free placement slot, so arena 2 now lies below arena 1.
    const per = 1984;
    const lines: string[] = [];
    let id = 1;
    for (let i = 0; i < 4 * per; i++) lines.push(`a ${id++} 512`);
    for (let i = 1; i <= 3 * per; i++) lines.push(`f ${i}`);
    for (let i = 0; i < 3 * per; i++) lines.push(`a ${id++} 512`);
    s.handle({ op: 'importTrace', name: 'reuse.trace', text: lines.join('\n') + '\n' });
    const r = s.handle({ op: 'query', query: { what: 'poolStates' } }) as PoolStatesResult;
    const slot = 2 * 1024 * 1024;
    const base = 0x5e00_0000_0000;
    expect(Array.from(new Float64Array(r.arenaAddresses!)).slice(0, 5)).toEqual([base, base + 2 * slot, base + slot, base + 3 * slot, 0]);
    expect((s.handle({ op: 'query', query: { what: 'summary' } }) as { arenasAllocatedTotal: number }).arenasAllocatedTotal).toBe(6);
  });

  it('lists the live malloc chunks and the mappings, and sends them again only when they changed', () => {
    const s = service();
    const B = FIXED_LAYOUT.brkStart;
    const TOP = FIXED_LAYOUT.mmapBase;
    const q = (since?: number): RawChunksResult => s.handle({ op: 'query', query: since === undefined ? { what: 'rawChunks' } : { what: 'rawChunks', since } }) as RawChunksResult;
    const r = q();
    // The first arena brings: the arena vector (16 x 48 bytes, realloc'd from NULL: a 784-byte
    // chunk at the start of the brk heap), the radix tree's mid node (calloc of 8 x 2^15 bytes:
    // past the mmap threshold and more than top holds, so a mapping of ALIGN_UP(262144 + 24,
    // 4096) = 0x41000 bytes under mmapBase) and a bottom node (8 x 2^14 = 131072 bytes: a
    // 131088-byte chunk from top). The heap is the first sysmalloc's 0x21000 bytes.
    expect(Array.from(new Float64Array(r.chunks))).toEqual([B, B + 784, TOP - 0x41000]);
    expect(Array.from(new Float64Array(r.sizes))).toEqual([784, 131088, 0x41000]);
    expect(Array.from(new Uint8Array(r.mmapped))).toEqual([0, 0, 1]);
    expect([r.heapStart, r.heapEnd, r.truncated, r.poolSize]).toEqual([B, B + 0x21000, false, 16384]);
    expect(Array.from(new Float64Array(r.mapStarts))).toEqual([0x5e00_0000_0000, TOP - 0x41000]);
    expect(Array.from(new Float64Array(r.mapLengths))).toEqual([1 << 20, 0x41000]);
    expect(Array.from(new Uint8Array(r.mapKinds)).map((k) => MAPPING_KINDS[k])).toEqual(['arena', 'mmap-chunk']);
    const same = q(r.version);
    expect([same.changed, same.version, same.chunks.byteLength, same.heapEnd]).toEqual([false, r.version, 0, B + 0x21000]);
    s.handle({ op: 'seek', position: 0 });
    const empty = q(r.version);
    expect([empty.changed, empty.version, empty.chunks.byteLength, empty.mapStarts.byteLength, empty.heapEnd]).toEqual([true, r.version + 1, 0, 0, B]);
    expect(parseQuery({ what: 'rawChunks', since: 2 })).toEqual({ what: 'rawChunks', since: 2 });
    expect(() => parseQuery({ what: 'rawChunks', since: 'x' })).toThrow('query.since: expected an integer');
  });
});
