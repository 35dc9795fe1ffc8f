/**
 * Version profiles: one record of constants and rules per CPython version (64-bit Linux,
 * pymalloc build, GIL build). The simulation reads nothing version-specific from anywhere else.
 *
 * Sources are `../shared/reference/cpython-facts.md` (obmalloc.c and pycore_obmalloc.h of each
 * release) and measurements on real interpreters; every `Changed in` note names the change.
 */

export type ProfileId =
  | '3.7.0-3.7.3'
  | '3.7'
  | '3.8'
  | '3.9'
  | '3.10'
  | '3.11'
  | '3.12'
  | '3.13'
  | '3.14';

/** When a wholly free arena goes back to the OS. */
export type ArenaReleaseRule =
  /** 3.7, 3.8: as soon as all its pools are free. */
  | 'immediate'
  /** 3.9+ (bpo-37257): unless it is the last arena in `usable_arenas`. */
  | 'keep-last-usable';

/** How `usable_arenas` is kept sorted after a free. Both give the same order. */
export type UsableArenasSort =
  /** 3.7: a linear scan to the insertion point. */
  | 'linear'
  /** 3.8+: O(1) through `nfp2lasta`, the rightmost arena with each free-pool count. */
  | 'nfp2lasta';

export interface Profile {
  readonly id: ProfileId;
  /** A human label, e.g. "CPython 3.11". */
  readonly label: string;
  readonly major: 3;
  readonly minor: number;
  /** The release range the profile stands for, e.g. "3.7.4 - 3.7.17". */
  readonly releases: string;

  // ---- pymalloc geometry --------------------------------------------------------------
  /** ALIGNMENT: 8 up to 3.7.3, 16 from 3.7.4 (bpo-27987). */
  readonly alignment: 8 | 16;
  readonly alignmentShift: 3 | 4;
  /** SMALL_REQUEST_THRESHOLD: requests above it go to the raw allocator. */
  readonly smallRequestThreshold: 512;
  /** NB_SMALL_SIZE_CLASSES = SMALL_REQUEST_THRESHOLD / ALIGNMENT. */
  readonly nbSmallSizeClasses: number;
  /** ARENA_SIZE. Changed in 3.10: 256 KiB -> 1 MiB (USE_LARGE_ARENAS with the radix tree). */
  readonly arenaSize: number;
  readonly arenaBits: number;
  /** POOL_SIZE. Changed in 3.10: 4 KiB -> 16 KiB (USE_LARGE_POOLS). */
  readonly poolSize: number;
  readonly poolBits: number;
  /** MAX_POOLS_IN_ARENA = ARENA_SIZE / POOL_SIZE (64 in every version). */
  readonly maxPoolsInArena: number;
  /** POOL_OVERHEAD: the pool header rounded up to ALIGNMENT (48 on 64-bit). */
  readonly poolOverhead: 48;
  /** INITIAL_ARENA_OBJECTS: first length of the arena-object vector; it doubles after. */
  readonly initialArenaObjects: 16;
  /** sizeof(struct arena_object) on 64-bit. */
  readonly arenaObjectSize: 48;
  /** Length of `usedpools`: 2 * ceil(classes / 8) * 8 pointers. */
  readonly usedpoolsLength: number;
  /** The mmap page size arenas are aligned to. */
  readonly pageSize: 4096;

  // ---- rules ------------------------------------------------------------------------------
  /** Changed in 3.10: `address_in_range` uses a radix tree (`arena_map`) of the address space. */
  readonly radixTree: boolean;
  /**
   * The radix tree's geometry (64-bit, USE_INTERIOR_NODES), or null before 3.10. The root is
   * static; mid and bottom nodes come from PyMem_RawCalloc the first time an arena needs them
   * and are never freed. 3.10: 48 address bits, IGNORE_BITS 16, 10/10/8 bits per level.
   * Changed in 3.11: all 64 bits, IGNORE_BITS 0, 15/15/14 bits per level.
   */
  readonly arenaMap: ArenaMapGeometry | null;
  readonly arenaRelease: ArenaReleaseRule;
  readonly usableArenasSort: UsableArenasSort;
  /** Changed in 3.12: the allocator state moved from file-static globals into the interpreter. */
  readonly stateScope: 'file-static' | 'per-interpreter';
  /** Changed in 3.12: the settings moved to Include/internal/pycore_obmalloc.h. */
  readonly settingsDefinedIn: 'Objects/obmalloc.c' | 'Include/internal/pycore_obmalloc.h';

  // ---- debug hooks (PYTHONMALLOC=debug / pymalloc_debug) ----------------------------------
  /** Bytes the debug hooks add around each block: 32 in 3.7 (with serial number), 24 from 3.8. */
  readonly debugHookOverhead: 24 | 32;
}

export interface ArenaMapGeometry {
  readonly rootBits: number;
  readonly midBits: number;
  readonly botBits: number;
  /** Bytes of one entry of a bottom node (struct arena_coverage_t: tail_hi, tail_lo). */
  readonly botEntrySize: 8;
}

export const PY_SSIZE_T_MAX = 0x7fff_ffff_ffff_ffffn;
export const SIZE_T_MAX = 0xffff_ffff_ffff_ffffn;

interface VersionDelta {
  id: ProfileId;
  minor: number;
  releases: string;
  alignment?: 8 | 16;
}

function makeProfile(d: VersionDelta): Profile {
  const alignment = d.alignment ?? 16;
  const alignmentShift = alignment === 8 ? 3 : 4;
  const nbSmallSizeClasses = 512 / alignment;
  const large = d.minor >= 10;
  const arenaBits = large ? 20 : 18;
  const poolBits = large ? 14 : 12;
  return Object.freeze({
    id: d.id,
    label: `CPython ${d.id}`,
    major: 3,
    minor: d.minor,
    releases: d.releases,
    alignment,
    alignmentShift,
    smallRequestThreshold: 512,
    nbSmallSizeClasses,
    arenaSize: 1 << arenaBits,
    arenaBits,
    poolSize: 1 << poolBits,
    poolBits,
    maxPoolsInArena: 1 << (arenaBits - poolBits),
    poolOverhead: 48,
    initialArenaObjects: 16,
    arenaObjectSize: 48,
    usedpoolsLength: 2 * Math.ceil(nbSmallSizeClasses / 8) * 8,
    pageSize: 4096,
    radixTree: large,
    arenaMap: !large
      ? null
      : d.minor === 10
        ? { rootBits: 10, midBits: 10, botBits: 8, botEntrySize: 8 }
        : { rootBits: 15, midBits: 15, botBits: 14, botEntrySize: 8 },
    arenaRelease: d.minor >= 9 ? 'keep-last-usable' : 'immediate',
    usableArenasSort: d.minor >= 8 ? 'nfp2lasta' : 'linear',
    stateScope: d.minor >= 12 ? 'per-interpreter' : 'file-static',
    settingsDefinedIn: d.minor >= 12 ? 'Include/internal/pycore_obmalloc.h' : 'Objects/obmalloc.c',
    debugHookOverhead: d.minor === 7 ? 32 : 24,
  } satisfies Profile);
}

const PROFILES: Readonly<Record<ProfileId, Profile>> = {
  '3.7.0-3.7.3': makeProfile({ id: '3.7.0-3.7.3', minor: 7, releases: '3.7.0 - 3.7.3', alignment: 8 }),
  '3.7': makeProfile({ id: '3.7', minor: 7, releases: '3.7.4 - 3.7.17' }),
  '3.8': makeProfile({ id: '3.8', minor: 8, releases: '3.8.0 - 3.8.20' }),
  '3.9': makeProfile({ id: '3.9', minor: 9, releases: '3.9.0 - 3.9.25' }),
  '3.10': makeProfile({ id: '3.10', minor: 10, releases: '3.10.0 - 3.10.19' }),
  '3.11': makeProfile({ id: '3.11', minor: 11, releases: '3.11.0 - 3.11.14' }),
  '3.12': makeProfile({ id: '3.12', minor: 12, releases: '3.12.0 - 3.12.12' }),
  '3.13': makeProfile({ id: '3.13', minor: 13, releases: '3.13.0 - 3.13.9' }),
  '3.14': makeProfile({ id: '3.14', minor: 14, releases: '3.14.0 - 3.14.7' }),
};

/** Every profile, oldest first. */
export const PROFILE_IDS: readonly ProfileId[] = Object.keys(PROFILES) as ProfileId[];

export const DEFAULT_PROFILE_ID: ProfileId = '3.11';

export function getProfile(id: string): Profile {
  const p = resolveProfileId(id);
  if (p === null) throw new Error(`unknown CPython version '${id}' (supported: ${PROFILE_IDS.join(', ')})`);
  return PROFILES[p];
}

/**
 * Accepts a profile id or a release number: `3.11`, `3.11.7`, `3.7.2` (-> 3.7.0-3.7.3),
 * `3.7.16` (-> 3.7). Returns null when no profile covers it.
 */
export function resolveProfileId(text: string): ProfileId | null {
  const t = text.trim();
  if ((PROFILE_IDS as readonly string[]).includes(t)) return t as ProfileId;
  const m = /^3\.(\d{1,2})(?:\.(\d{1,3}))?$/.exec(t);
  if (!m) return null;
  const minor = Number(m[1]);
  const micro = m[2] === undefined ? undefined : Number(m[2]);
  if (minor === 7 && micro !== undefined && micro <= 3) return '3.7.0-3.7.3';
  const id = `3.${minor}`;
  return (PROFILE_IDS as readonly string[]).includes(id) ? (id as ProfileId) : null;
}

/** Block size of size class `szidx`: (szidx + 1) * ALIGNMENT. */
export function classSize(p: Profile, szidx: number): number {
  return (szidx + 1) << p.alignmentShift;
}

/** Size class of a request 1..512: (n - 1) >> log2(ALIGNMENT). */
export function sizeClassOf(p: Profile, n: number): number {
  return (n - 1) >> p.alignmentShift;
}

/** Blocks one pool of class `szidx` holds: (POOL_SIZE - POOL_OVERHEAD) / blocksize. */
export function blocksPerPool(p: Profile, szidx: number): number {
  return Math.floor((p.poolSize - p.poolOverhead) / classSize(p, szidx));
}
