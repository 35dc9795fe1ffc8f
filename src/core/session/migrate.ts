/**
 * Migration of session files from older format versions to the current one.
 *
 * A file is read in two stages: the frame that never changes (magic, version, file length,
 * trailing CRC-32; see SPEC.md) is checked first, then the rest is handed here as
 * `{ version, header, file }`, with the header parsed from JSON but not yet validated. Each step
 * turns version N into N + 1 (it may rewrite the header and, through `file`, read blobs laid out
 * the old way); the steps run in order until the current version, whose validator then checks
 * the result. So a v1 file opened by a v3 app runs step 1 -> 2, then 2 -> 3.
 *
 * Key invariant: `MIGRATIONS[N]` exists for every N from 1 to CURRENT_FORMAT_VERSION - 1, and
 * test/fixtures/session/vN/ keeps files of every version, which the tests decode.
 */
import { SessionFormatError } from './errors';

/** The version this code writes. */
export const CURRENT_FORMAT_VERSION = 1;

export interface MigratableFile {
  version: number;
  /** Parsed JSON, not yet validated. */
  header: unknown;
  /** The whole file (blobs are located through the header of that version). */
  file: Uint8Array;
}

export type MigrationStep = (f: MigratableFile) => MigratableFile;

/** MIGRATIONS[N] turns a version N file into version N + 1. None yet: v1 is the first. */
export const MIGRATIONS: Readonly<Record<number, MigrationStep>> = {};

/**
 * Brings `f` to `current` (the running app's version). Refuses versions below 1 and above
 * `current` with a message saying which.
 */
export function migrate(
  f: MigratableFile,
  steps: Readonly<Record<number, MigrationStep>> = MIGRATIONS,
  current: number = CURRENT_FORMAT_VERSION,
): MigratableFile {
  if (!Number.isInteger(f.version) || f.version < 1) {
    throw new SessionFormatError(`format version ${f.version} does not exist (versions start at 1)`);
  }
  if (f.version > current) {
    throw new SessionFormatError(`format version ${f.version} is newer than this app supports (${current}); update PyHeap Lab to open it`);
  }
  let g = f;
  while (g.version < current) {
    const step = steps[g.version];
    if (step === undefined) throw new SessionFormatError(`format version ${g.version} can no longer be read (no migration to ${g.version + 1})`);
    const from = g.version;
    g = step(g);
    if (g.version !== from + 1) throw new Error(`migration from version ${from} produced version ${g.version}`);
  }
  return g;
}
