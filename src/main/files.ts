/**
 * Session files on disk (Node, no Electron): atomic saves and checked loads. Used by the app's
 * main process and by the CLI.
 *
 *   - `saveFileAtomic(path, bytes)` writes a temporary file in the same folder, flushes it to
 *     the disk, renames it over `path` and flushes the folder, so `path` is always either the
 *     old file or the new one, never a mix. On any failure the temporary file is removed and
 *     the previous file is untouched.
 *   - `loadSessionFile(path)` reads a file of at most `maxBytes` and checks its frame (magic,
 *     length, checksum) so a foreign or damaged file is refused before anyone decodes it;
 *     `loadSession(path)` also decodes it.
 *
 * Errors are `SessionFileError`s whose message is one line naming the file and the reason.
 * The file system is a parameter (`fs`), so tests can make a write fail half-way.
 */
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SessionFormatError, checkSessionFrame, decodeSessionFile, type DecodedSessionFile } from '../core/session/format';

/** The largest session file loaded by default (a 250-million-operation trace at 4 B/op). */
export const MAX_SESSION_FILE_BYTES = 1024 * 1024 * 1024;

export class SessionFileError extends Error {
  readonly path: string;
  /** 'io': the file could not be read or written; 'format': it is not a valid session file. */
  readonly reason: 'io' | 'format';
  constructor(path: string, reason: 'io' | 'format', message: string) {
    super(message);
    this.name = 'SessionFileError';
    this.path = path;
    this.reason = reason;
  }
}

export interface FileHandleLike {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  close(): Promise<void>;
}

/** The part of `node:fs/promises` these functions use. */
export interface FileSystemLike {
  open(path: string, flags: string, mode?: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<{ mode: number; size: number; isFile(): boolean; isDirectory(): boolean }>;
  readFile(path: string): Promise<Uint8Array>;
}

const nodeFs: FileSystemLike = fsp;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the name is too long',
};

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && REASONS[err.code] !== undefined) return REASONS[err.code]!;
  return err instanceof Error ? err.message : String(e);
}

/**
 * Writes `bytes` to `path` atomically (see the top of this file). The new file keeps the
 * permissions of the one it replaces.
 */
export async function saveFileAtomic(path: string, bytes: Uint8Array, fs: FileSystemLike = nodeFs): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode: number | null = null;
  try {
    mode = (await fs.stat(path)).mode & 0o7777;
  } catch {
    // A new file: the default permissions (0666 less the umask).
  }
  let fh: FileHandleLike | null = null;
  let created = false;
  try {
    fh = await fs.open(tmp, 'wx', 0o666);
    created = true;
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, done);
      if (bytesWritten <= 0) throw new Error('the disk accepted no more bytes');
      done += bytesWritten;
    }
    await fh.sync();
    if (mode !== null) await fh.chmod(mode);
    const h = fh;
    fh = null;
    await h.close();
    await fs.rename(tmp, path);
    created = false;
  } catch (e) {
    if (fh !== null) await fh.close().catch(() => {});
    if (created) await fs.unlink(tmp).catch(() => {});
    throw new SessionFileError(path, 'io', `cannot save '${path}': ${reason(e)}`);
  }
  // The rename is durable once the folder is flushed. Some systems (Windows) cannot open a
  // folder for that; the file itself is complete either way.
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Best effort.
  }
}

async function readBytes(path: string, fs: FileSystemLike, max: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) throw new SessionFileError(path, 'io', `cannot open '${path}': it is a folder`);
    if (!st.isFile()) throw new SessionFileError(path, 'io', `cannot open '${path}': not a regular file`);
    if (st.size > max) throw new SessionFileError(path, 'format', `'${path}' is ${st.size} bytes, more than the ${max} a session file may have`);
    bytes = await fs.readFile(path);
  } catch (e) {
    if (e instanceof SessionFileError) throw e;
    throw new SessionFileError(path, 'io', `cannot open '${path}': ${reason(e)}`);
  }
  // It may have grown since the stat.
  if (bytes.length > max) throw new SessionFileError(path, 'format', `'${path}' is ${bytes.length} bytes, more than the ${max} a session file may have`);
  return bytes;
}

function formatError(path: string, e: unknown): unknown {
  return e instanceof SessionFormatError ? new SessionFileError(path, 'format', `session file '${path}': ${e.message}`) : e;
}

export interface LoadOptions {
  /** Default MAX_SESSION_FILE_BYTES. */
  maxBytes?: number;
  fs?: FileSystemLike;
}

/**
 * Reads a session file (at most `maxBytes`) and checks its frame: magic, length and checksum,
 * so a foreign or damaged file is refused here. Returns the bytes for `decodeSession` (which
 * the simulation worker runs).
 */
export async function loadSessionFile(path: string, options: LoadOptions = {}): Promise<Uint8Array> {
  const bytes = await readBytes(path, options.fs ?? nodeFs, options.maxBytes ?? MAX_SESSION_FILE_BYTES);
  try {
    checkSessionFrame(bytes);
  } catch (e) {
    throw formatError(path, e);
  }
  return bytes;
}

/** Reads and decodes a session file; every failure is a one-line SessionFileError. */
export async function loadSession(path: string, options: LoadOptions = {}): Promise<DecodedSessionFile> {
  const bytes = await readBytes(path, options.fs ?? nodeFs, options.maxBytes ?? MAX_SESSION_FILE_BYTES);
  try {
    return decodeSessionFile(bytes);
  } catch (e) {
    throw formatError(path, e);
  }
}
