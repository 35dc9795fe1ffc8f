/**
 * Each per-version difference of pymalloc, pinned on the smallest trace that shows it.
 */
import { describe, expect, it } from 'vitest';
import { getProfile, resolveProfileId, blocksPerPool, PROFILE_IDS } from '../../src/core/profiles';
import { replayText } from '../../src/core/trace/replay';

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

function dumpLine(out: string, prefix: string): string | undefined {
  return lines(out).find((l) => l.startsWith(prefix));
}

describe('profiles', () => {
  it('offers 3.7.0-3.7.3 and 3.7 to 3.14', () => {
    expect(PROFILE_IDS).toEqual(['3.7.0-3.7.3', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']);
  });
  it('resolves release numbers to profiles', () => {
    expect(resolveProfileId('3.7.3')).toBe('3.7.0-3.7.3');
    expect(resolveProfileId('3.7.4')).toBe('3.7');
    expect(resolveProfileId('3.11.7')).toBe('3.11');
    expect(resolveProfileId('3.6')).toBeNull();
    expect(() => getProfile('2.7')).toThrow(/unknown CPython version '2.7'/);
  });
  it('has the geometry of each version', () => {
    const g = (id: string) => {
      const p = getProfile(id);
      return [p.alignment, p.nbSmallSizeClasses, p.arenaSize, p.poolSize, p.maxPoolsInArena, p.radixTree, p.arenaRelease, p.usedpoolsLength];
    };
    expect(g('3.7.0-3.7.3')).toEqual([8, 64, 262144, 4096, 64, false, 'immediate', 128]);
    expect(g('3.7')).toEqual([16, 32, 262144, 4096, 64, false, 'immediate', 64]);
    expect(g('3.8')).toEqual([16, 32, 262144, 4096, 64, false, 'immediate', 64]);
    expect(g('3.9')).toEqual([16, 32, 262144, 4096, 64, false, 'keep-last-usable', 64]);
    expect(g('3.10')).toEqual([16, 32, 1048576, 16384, 64, true, 'keep-last-usable', 64]);
    expect(g('3.14')).toEqual([16, 32, 1048576, 16384, 64, true, 'keep-last-usable', 64]);
    expect(getProfile('3.7').usableArenasSort).toBe('linear');
    expect(getProfile('3.8').usableArenasSort).toBe('nfp2lasta');
    expect(getProfile('3.7').debugHookOverhead).toBe(32);
    expect(getProfile('3.8').debugHookOverhead).toBe(24);
  });
  it('knows the blocks per pool (4 KiB: 253..7, 16 KiB: 1021, 510, 340 .. 31)', () => {
    const p9 = getProfile('3.9');
    const p11 = getProfile('3.11');
    expect([blocksPerPool(p9, 0), blocksPerPool(p9, 31)]).toEqual([253, 7]);
    expect([blocksPerPool(p11, 0), blocksPerPool(p11, 1), blocksPerPool(p11, 2), blocksPerPool(p11, 31)]).toEqual([1021, 510, 340, 31]);
    expect(blocksPerPool(getProfile('3.7.3'), 0)).toBe(506);
  });
});

describe('pymalloc differences between versions', () => {
  const releaseLast = 'a 1 16\na 2 16\nf 1\nf 2\na 3 16\n';

  it('3.8 releases a wholly free arena at once; 3.9 keeps the last usable one (bpo-37257)', () => {
    const o38 = replayText(releaseLast, { python: '3.8' });
    const o39 = replayText(releaseLast, { python: '3.9' });
    expect(dumpLine(o38, '3 ')).toBe('3 pool 0:0:0:0');
    expect(dumpLine(o38, 'arenas_allocated_total')).toBe('arenas_allocated_total 2');
    expect(dumpLine(o38, 'arenas_reclaimed')).toBe('arenas_reclaimed 1');
    expect(dumpLine(o39, '3 ')).toBe('3 pool 0:0:1:0');
    expect(dumpLine(o39, 'arenas_allocated_total')).toBe('arenas_allocated_total 1');
    expect(dumpLine(o39, 'arenas_reclaimed')).toBe('arenas_reclaimed 0');
  });

  it('4 KiB pools hold 253 blocks of 16 B (3.9), 16 KiB pools 1021 (3.10)', () => {
    let t = '';
    for (let i = 0; i < 254; i++) t += `a ${i} 16\n`;
    expect(dumpLine(replayText(t, { python: '3.9' }), '253 ')).toBe('253 pool 0:1:0:0');
    expect(dumpLine(replayText(t, { python: '3.10' }), '253 ')).toBe('253 pool 0:0:253:0');
  });

  it('an arena 4 KiB past a pool boundary has 63 pools on 3.10+, 64 on 3.9 (pool = page)', () => {
    const t = 'a 1 16\n';
    expect(dumpLine(replayText(t, { python: '3.11', arenaOffsets: [4096] }), 'arena ')).toBe('arena 0 62 63');
    expect(dumpLine(replayText(t, { python: '3.11', arenaOffsets: [0] }), 'arena ')).toBe('arena 0 63 64');
    expect(dumpLine(replayText(t, { python: '3.9', arenaOffsets: [4096] }), 'arena ')).toBe('arena 0 63 64');
    expect(dumpLine(replayText(t, { python: '3.9', arenaOffsets: [2048] }), 'arena ')).toBe('arena 0 62 63');
  });

  it('ALIGNMENT 8 (3.7.0-3.7.3) has 8-byte classes; ALIGNMENT 16 (3.7.4+) does not', () => {
    const t = 'a 1 8\na 2 9\na 3 17\n';
    const old = lines(replayText(t, { python: '3.7.2' }));
    const cur = lines(replayText(t, { python: '3.7' }));
    expect(old.slice(0, 3)).toEqual(['1 pool 0:0:0:0', '2 pool 0:1:0:1', '3 pool 0:2:0:2']);
    expect(cur.slice(0, 3)).toEqual(['1 pool 0:0:0:0', '2 pool 0:0:1:0', '3 pool 0:1:0:1']);
    expect(dumpLine(replayText(t, { python: '3.7.2' }), 'class 0')).toBe('class 0 8 1 1 505');
  });

  it('3.7 has no nfp2lasta array; 3.8 prints it', () => {
    expect(dumpLine(replayText('a 1 16\n', { python: '3.7', internals: true }), 'nfp2lasta')).toBeUndefined();
    expect(dumpLine(replayText('a 1 16\n', { python: '3.8', internals: true }), 'nfp2lasta')).toBe('nfp2lasta 63:0');
  });
});
