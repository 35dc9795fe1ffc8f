/**
 * The queries the UI added to the protocol, answered by the worker's SimService on a real
 * session (no worker thread needed): pool states by slot range, the statistics panel's
 * figures, field meanings, and addresses inside a pool but in no block.
 */
import { describe, expect, it } from 'vitest';
import { SimService, parseQuery, RequestError, type ServiceContext } from '../../src/main/sim-service';
import { defaultSettings } from '../../src/core/session/model';
import type { BlockInfo, HeapStats, PoolInfo, PoolStatesResult } from '../../src/shared/protocol';

function service(): SimService {
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
  s.handle({ op: 'runPython', code: 'x = [1000, 2000]' });
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
});
