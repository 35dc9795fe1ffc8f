/**
 * A session in memory: what the user built, as the ordered inputs that rebuild it exactly,
 * plus where they were and what they were looking at. The on-disk schema lives in
 * `format.ts` (with its spec in SPEC.md) and is kept separate from these types.
 */
import type { ProfileId } from '../profiles';
import type { PythonMallocMode } from '../objects/space';
import type { WorkloadSpec } from '../workloads/spec';
import type { StoredTrace } from './stored-trace';

export type ArenaPlacement = { kind: 'offsets'; offsets: number[] } | { kind: 'aslr'; seed: number };

/** Everything that decides the heap before the first input runs. */
export interface SessionSettings {
  python: ProfileId;
  pythonMalloc: PythonMallocMode;
  placement: ArenaPlacement;
  /** RLIMIT_AS-like cap in bytes, or null for none. */
  memoryLimit: number | null;
}

/**
 * One input. `interruptedAt`, when present, says the user cancelled it after it had made that
 * many allocator calls: a re-run stops at the same call (Python code sees KeyboardInterrupt
 * there, as after Ctrl-C), so the session rebuilds exactly.
 */
export type SessionInput = (
  /** Code typed into the console (one run). */
  | { kind: 'python'; code: string }
  /** An imported allocation trace, kept whole (ids and sizes) so its dump can be reprinted. */
  | { kind: 'trace'; name: string; trace: StoredTrace }
  | { kind: 'workload'; spec: WorkloadSpec }
) & { interruptedAt?: number };

export interface Bookmark {
  /** Timeline index (operation count before the mark). */
  op: number;
  label: string;
}

export interface UiState {
  /** Which main view is shown, e.g. 'heap', 'stats'. */
  view: string;
  /** Selected address, or null. */
  selection: number | null;
  bookmarks: Bookmark[];
}

export interface SessionDoc {
  settings: SessionSettings;
  inputs: SessionInput[];
  /** Timeline position: the number of operations applied (0 .. total). */
  position: number;
  ui: UiState;
}

export function defaultSettings(python: ProfileId = '3.13'): SessionSettings {
  return { python, pythonMalloc: 'pymalloc', placement: { kind: 'offsets', offsets: [0] }, memoryLimit: null };
}

export function emptyUiState(): UiState {
  return { view: 'heap', selection: null, bookmarks: [] };
}
