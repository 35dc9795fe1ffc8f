/**
 * The allocator differences between CPython versions, as rows the Version panel shows: each
 * reads its value from the profile (core/profiles), and says what changed and why.
 */
import { getProfile, type Profile, type ProfileId } from '../../../core/profiles';

export interface VersionRow {
  name: string;
  value: (p: Profile) => string;
  /** What the difference means, shown where two versions differ. */
  explain: string;
}

const kib = (n: number): string => (n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`);

export const VERSION_ROWS: VersionRow[] = [
  {
    name: 'ALIGNMENT',
    value: (p) => `${p.alignment} bytes`,
    explain: 'Changed in 3.7.4 (bpo-27987): 8 -> 16 bytes, so blocks suit 16-byte long double; a 24-byte request takes a 32-byte block.',
  },
  {
    name: 'size classes',
    value: (p) => `${p.nbSmallSizeClasses} (up to ${p.smallRequestThreshold} bytes)`,
    explain: 'NB_SMALL_SIZE_CLASSES = SMALL_REQUEST_THRESHOLD / ALIGNMENT: half as many classes with 16-byte alignment.',
  },
  {
    name: 'ARENA_SIZE',
    value: (p) => kib(p.arenaSize),
    explain: 'Changed in 3.10: 256 KiB -> 1 MiB (USE_LARGE_ARENAS, with the radix tree): fewer mmap calls, but one live block pins more memory.',
  },
  {
    name: 'POOL_SIZE',
    value: (p) => kib(p.poolSize),
    explain: 'Changed in 3.10: 4 KiB -> 16 KiB (USE_LARGE_POOLS): 64 pools per arena in every version.',
  },
  {
    name: 'address_in_range',
    value: (p) => (p.radixTree ? 'radix tree (arena_map)' : 'arenas[pool->arenaindex]'),
    explain: 'Changed in 3.10: a radix tree of the address space replaces reading the (maybe uninitialised) pool header of foreign memory.',
  },
  {
    name: 'empty arena',
    value: (p) => (p.arenaRelease === 'immediate' ? 'freed at once' : 'kept if last usable'),
    explain: 'Changed in 3.9 (bpo-37257): a wholly free arena is not given back when it is the last one in usable_arenas, to avoid thrashing.',
  },
  {
    name: 'usable_arenas order',
    value: (p) => (p.usableArenasSort === 'linear' ? 'linear scan' : 'nfp2lasta, O(1)'),
    explain: 'Changed in 3.8: nfp2lasta finds the insertion point in O(1); the order (fewest free pools first) is the same.',
  },
  {
    name: 'allocator state',
    value: (p) => (p.stateScope === 'file-static' ? 'file-static globals' : 'per interpreter'),
    explain: 'Changed in 3.12: the state moved into the interpreter (Include/internal/pycore_obmalloc.h).',
  },
  {
    name: 'debug hook overhead',
    value: (p) => `${p.debugHookOverhead} bytes`,
    explain: 'PYTHONMALLOC=debug adds a size word, an API id and guard bytes around each block; 3.7 also kept a serial number (32 bytes), 3.8+ 24.',
  },
];

/** Rows whose values differ between two versions. */
export function differences(a: ProfileId, b: ProfileId): VersionRow[] {
  const pa = getProfile(a);
  const pb = getProfile(b);
  return VERSION_ROWS.filter((r) => r.value(pa) !== r.value(pb));
}

export const MALLOC_MODES: Record<string, string> = {
  pymalloc: 'Objects and PyMem_Malloc go to pymalloc (requests up to 512 bytes), larger ones to malloc.',
  malloc: 'Every domain goes straight to malloc: no arenas, pools or size classes.',
  debug: 'pymalloc with the debug hooks: guard bytes (0xFD) around each block, 0xCD in new and 0xDD in freed memory.',
  pymalloc_debug: 'Same as debug: pymalloc with the debug hooks.',
  malloc_debug: 'malloc with the debug hooks around each block.',
};
