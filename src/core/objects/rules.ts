/**
 * Per-version object rules: header sizes, allocation sizes, growth formulas and free-list
 * limits of CPython's built-in types on 64-bit Linux (GIL build). Everything the object model
 * needs that differs between versions lives here, derived from the profile's minor version.
 * Sources: ../shared/reference/cpython-facts.md section 3 and the measured catalogues in
 * test/fixtures/sizes (sys.getsizeof on real 3.7-3.13).
 */
import type { Profile } from '../profiles';

export interface ObjectRules {
  readonly minor: number;
  /** sizeof(PyGC_Head): 32 in 3.7 (a union with long double), 16 from 3.8. */
  readonly gcHead: number;
  /**
   * Words before the GC head of instances of plain classes. Changed in 3.11: managed dict
   * (values pointer, dict pointer: 16 bytes); 3.12+: dict-or-values and weakref (16 bytes).
   */
  readonly managedPreheader: number;
  /** offsetof(PyLongObject, ob_digit): 24 in every version (3.12+: PyObject + lv_tag). */
  readonly intDigitsOffset: 24;
  /** Digits allocated for zero: 0 up to 3.10, 1 from 3.11 (`_PyLong_New` allocates max(n, 1)). */
  readonly intMinDigits: 0 | 1;
  /** sizeof(PyASCIIObject): 48 up to 3.11, 40 from 3.12 (wstr removed). */
  readonly strAsciiHeader: number;
  /** sizeof(PyCompactUnicodeObject): 72 up to 3.11, 56 from 3.12. */
  readonly strCompactHeader: number;
  /** Bytes a tuple adds after PyVarObject for its cached hash: 8 in 3.14, else 0. */
  readonly tupleHashField: number;
  /** The tuple free list covers lengths 1..N (≤3.10: 1..19; 3.11+: 1..20), 2000 each. */
  readonly tupleFreeMaxLen: number;
  readonly tupleFreeMax: 2000;
  readonly floatFreeMax: 100;
  readonly listFreeMax: 80;
  readonly dictFreeMax: 80;
  readonly dictKeysFreeMax: 80;
  /** 3.14 keeps up to 100 one-digit ints on a free list; earlier versions none. */
  readonly intFreeMax: number;
  /** sizeof(PyDictKeysObject) without the tables: 40 up to 3.10, 32 from 3.11. */
  readonly dictKeysHeader: number;
  /** From 3.11 dicts whose keys are all str use 16-byte entries (key, value). */
  readonly unicodeKeysEntries: boolean;
  /** Refcount of immortal/static objects as getrefcount shows it (3.12+), else null. */
  readonly immortalRefcnt: number | null;
  /** Changed in 3.9/3.10 (list_resize and list_preallocate_exact). */
  readonly listGrowth: '3.7' | '3.9';
  readonly listPreallocateEven: boolean;
  /** list(iterable with len) preallocates exactly (3.8+). */
  readonly listPreallocate: boolean;
  /** 3.9+: a list display of more than two constants compiles to BUILD_LIST 0 + LIST_EXTEND. */
  readonly constListExtend: boolean;
  /** 3.10+: LIST_EXTEND into an empty list preallocates exactly (rounded to even). */
  readonly extendEmptyPreallocates: boolean;
  /** `del l[i]` resizes the array (list_ass_slice) up to 3.12; 3.13 just moves the items. */
  readonly delItemResizes: boolean;
}

export function objectRules(p: Profile): ObjectRules {
  const m = p.minor;
  return Object.freeze({
    minor: m,
    gcHead: m === 7 ? 32 : 16,
    managedPreheader: m >= 11 ? 16 : 0,
    intDigitsOffset: 24,
    intMinDigits: m >= 11 ? 1 : 0,
    strAsciiHeader: m >= 12 ? 40 : 48,
    strCompactHeader: m >= 12 ? 56 : 72,
    tupleHashField: m >= 14 ? 8 : 0,
    tupleFreeMaxLen: m >= 11 ? 20 : 19,
    tupleFreeMax: 2000,
    floatFreeMax: 100,
    listFreeMax: 80,
    dictFreeMax: 80,
    dictKeysFreeMax: 80,
    intFreeMax: m >= 14 ? 100 : 0,
    dictKeysHeader: m >= 11 ? 32 : 40,
    unicodeKeysEntries: m >= 11,
    immortalRefcnt: m >= 14 ? 3 << 30 : m >= 12 ? 0xffff_ffff : null,
    listGrowth: m >= 9 ? '3.9' : '3.7',
    listPreallocateEven: m >= 10,
    listPreallocate: m >= 8,
    constListExtend: m >= 9,
    extendEmptyPreallocates: m >= 10,
    delItemResizes: m <= 12,
  } satisfies ObjectRules);
}

/** list_resize's new allocation for `newsize` items when `allocated` does not fit it. */
export function listResizeAllocation(r: ObjectRules, allocated: number, size: number, newsize: number): number {
  if (allocated >= newsize && newsize >= allocated >> 1) return allocated;
  if (newsize === 0) return 0;
  if (r.listGrowth === '3.7') {
    // 3.7/3.8: new_allocated = newsize + (newsize >> 3) + (newsize < 9 ? 3 : 6)
    return newsize + (newsize >> 3) + (newsize < 9 ? 3 : 6);
  }
  // 3.9+: (newsize + newsize/8 + 6) & ~3, but not beyond what the jump needs.
  let n = (newsize + (newsize >> 3) + 6) & ~3;
  if (newsize - size > n - newsize) n = (newsize + 3) & ~3;
  return n;
}

/** list_preallocate_exact: exact up to 3.9, rounded up to even from 3.10. */
export function listPreallocation(r: ObjectRules, n: number): number {
  return r.listPreallocateEven ? (n + 1) & ~1 : n;
}

/** Digits of |v| in base 2**30. */
export function intDigits(v: bigint): number {
  let a = v < 0n ? -v : v;
  let n = 0;
  while (a > 0n) {
    a >>= 30n;
    n++;
  }
  return n;
}

/** PyDict_MINSIZE and the usable fraction: a table of `size` slots holds 2*size/3 entries. */
export const DICT_MINSIZE = 8;
export function usableFraction(size: number): number {
  return Math.floor((2 * size) / 3);
}

/** Index bytes per slot of a dict table: 1, 2, 4 or 8 depending on its size. */
export function dictIndexBytes(size: number): number {
  if (size <= 0xff) return 1;
  if (size <= 0xffff) return 2;
  if (size <= 0xffff_ffff) return 4;
  return 8;
}

/** Smallest power-of-two table (>= 8) whose usable fraction holds `n` entries. */
export function dictSizeFor(n: number): number {
  let size = DICT_MINSIZE;
  while (usableFraction(size) < n) size *= 2;
  return size;
}

/** Size of a dict keys object with `size` slots: header + indices + entries * usable. */
export function dictKeysSize(r: ObjectRules, size: number, unicodeEntries: boolean): number {
  const entry = r.unicodeKeysEntries && unicodeEntries ? 16 : 24;
  return r.dictKeysHeader + dictIndexBytes(size) * size + entry * usableFraction(size);
}
